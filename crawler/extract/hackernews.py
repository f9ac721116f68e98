"""Hacker News through Algolia's `search_by_date`: `{"hits": […], "page", "nbPages", "hitsPerPage"}`.

A story hit has `title` (and `story_text` for Ask/Show HN); a comment hit has `comment_text` (HTML) and
the `story_title` it belongs to, which becomes the title. The URL is the item's page on
news.ycombinator.com, whatever the story links to. `next_cursor` is the next page number, if any.
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
    dig,
    id_value,
    load_json,
    text_value,
)
from crawler.extract.text import html_to_text

WEB = "https://news.ycombinator.com/item?id="


def parse_hits(body: bytes | str, url: str) -> PostPage:
    page = PostPage()
    data = load_json(body, page)
    if data is None:
        return page
    hits = data.get("hits")
    if not isinstance(hits, list):
        page.problem(MALFORMED_PAYLOAD, "no `hits` list in the Algolia response")
        return page
    page.size = len(hits)
    number, pages = data.get("page"), data.get("nbPages")
    if isinstance(number, int) and isinstance(pages, int) and number + 1 < pages:
        page.next_cursor = str(number + 1)
    for index, hit in enumerate(hits, start=1):
        where = f"hit {index}"
        object_id = id_value(dig(hit, "objectID"))
        if not object_id:
            page.problem(BAD_POST, f"{where}: no objectID; skipped")
            continue
        body_html = text_value(dig(hit, "comment_text")) or text_value(dig(hit, "story_text"))
        title = text_value(dig(hit, "title")) or text_value(dig(hit, "story_title"))
        # Algolia's HTML separates paragraphs with a bare <p> (never closed): keep the words apart.
        text = html_to_text(re.sub(r"<p\b", " <p", body_html, flags=re.IGNORECASE)) if body_html else title
        if not text:
            page.problem(NO_TEXT, f"{where}: no text or title; skipped")
            continue
        when = dig(hit, "created_at_i") if isinstance(dig(hit, "created_at_i"), int) else dig(hit, "created_at")
        page.posts.append(
            PostRecord(
                key=object_id,
                url=f"{WEB}{object_id}",
                text=text,
                author=text_value(dig(hit, "author")),
                published_at=date_value(when, page, where),
                title=title,
                engagement=Engagement(
                    likes=count_value(dig(hit, "points")),
                    replies=count_value(dig(hit, "num_comments")),
                ),
            )
        )
    return page
