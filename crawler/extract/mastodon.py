"""Mastodon statuses: a hashtag timeline (`/api/v1/timelines/tag/:tag`, a JSON array) or a status search
(`/api/v2/search?type=statuses`, an object whose `statuses` holds them).

`content` is HTML and becomes plain text (a content warning, `spoiler_text`, becomes the title); the
status's own `language` is kept as declared (the language pipeline checks it). A boost carries the boosted
status in `reblog`, which is what is read. Paging is not in the body: timelines page with the `Link`
header, search with `max_id` = the oldest id of the page (`oldest_id`), both handled by the spider.
"""

from __future__ import annotations

import re

from core.mention import Engagement
from crawler.extract.posts import (
    BAD_POST,
    MALFORMED_PAYLOAD,
    NO_TEXT,
    PostPage,
    PostRecord,
    count_value,
    date_value,
    id_value,
    load_json,
    text_value,
)
from crawler.extract.text import html_to_text
from crawler.extract.values import primary_language


def parse_statuses(body: bytes | str, url: str) -> PostPage:
    page = PostPage()
    data = load_json(body, page, expect=object)
    if data is None:
        return page
    statuses = data.get("statuses") if isinstance(data, dict) else data
    if not isinstance(statuses, list):
        page.problem(MALFORMED_PAYLOAD, "expected a list of statuses (or an object with `statuses`)")
        return page
    page.size = len(statuses)
    for number, status in enumerate(statuses, start=1):
        where = f"status {number}"
        if isinstance(status, dict) and isinstance(status.get("reblog"), dict):
            status = status["reblog"]
        if not isinstance(status, dict):
            page.problem(BAD_POST, f"{where}: not an object; skipped")
            continue
        status_id = id_value(status.get("id"))
        link = text_value(status.get("url")) or text_value(status.get("uri"))
        if not status_id or not link:
            page.problem(BAD_POST, f"{where}: no id or url; skipped")
            continue
        content = status.get("content")
        text = html_to_text(content) if isinstance(content, str) else ""
        if not text:
            page.problem(NO_TEXT, f"{where}: no text (media only?); skipped")
            continue
        account = status.get("account")
        if not isinstance(account, dict):
            account = {}
        page.posts.append(
            PostRecord(
                key=text_value(status.get("uri")) or link,  # the uri is global: the same status seen on two instances
                url=link,
                text=text,
                author=text_value(account.get("acct")) or text_value(account.get("username")),
                published_at=date_value(status.get("created_at"), page, where),
                title=text_value(status.get("spoiler_text")),
                lang=primary_language(status.get("language")),
                local_id=status_id,
                engagement=Engagement(
                    likes=count_value(status.get("favourites_count")),
                    replies=count_value(status.get("replies_count")),
                    shares=count_value(status.get("reblogs_count")),
                ),
                author_followers=count_value(account.get("followers_count")),
            )
        )
    ids = [id_value(s.get("id")) for s in statuses if isinstance(s, dict)]
    numeric = [int(i) for i in ids if i and i.isdigit()]
    page.next_cursor = str(min(numeric)) if numeric else None  # the oldest status: max_id of the next page
    return page


def link_next(header: str | None) -> str | None:
    """The rel="next" URL of an RFC 8288 Link header (`<https://…?max_id=1>; rel="next", <…>; rel="prev"`)."""
    for part in (header or "").split(","):
        url, _, params = part.partition(";")
        url = url.strip()
        if url.startswith("<") and url.endswith(">") and re.search(r'rel="?next"?', params):
            return url[1:-1].strip() or None
    return None
