"""Bluesky `app.bsky.feed.searchPosts` responses: `{"cursor": …, "hitsTotal": …, "posts": [postView…]}`.

A postView carries the record as its author wrote it (`record.text`, `record.createdAt`, `record.langs`)
and the author's handle; the web URL is `https://bsky.app/profile/<handle>/post/<rkey>`, the rkey being
the last segment of the post's `at://` URI, which is also its stable key.
"""

from __future__ import annotations

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
    load_json,
    text_value,
)
from crawler.extract.values import primary_language

WEB = "https://bsky.app"


def _sum(*counts: int | None) -> int | None:
    present = [count for count in counts if count is not None]
    return sum(present) if present else None


def parse_search(body: bytes | str, url: str) -> PostPage:
    page = PostPage()
    data = load_json(body, page)
    if data is None:
        return page
    posts = data.get("posts")
    if not isinstance(posts, list):
        page.problem(MALFORMED_PAYLOAD, "no `posts` list in the searchPosts response")
        return page
    page.size = len(posts)
    page.next_cursor = text_value(data.get("cursor"))
    for number, post in enumerate(posts, start=1):
        where = f"post {number}"
        uri = text_value(dig(post, "uri"))
        if not uri or not uri.startswith("at://") or "/app.bsky.feed.post/" not in uri:
            page.problem(BAD_POST, f"{where}: no at:// post URI; skipped")
            continue
        text = text_value(dig(post, "record", "text"))
        if not text:
            page.problem(NO_TEXT, f"{where}: no text; skipped")
            continue
        did, rkey = uri[len("at://") :].split("/", 1)[0], uri.rsplit("/", 1)[-1]
        handle = text_value(dig(post, "author", "handle"))
        langs = dig(post, "record", "langs")
        page.posts.append(
            PostRecord(
                key=uri,
                url=f"{WEB}/profile/{handle or did}/post/{rkey}",
                text=text,
                author=handle,
                published_at=date_value(dig(post, "record", "createdAt") or dig(post, "indexedAt"), page, where),
                lang=primary_language(langs[0]) if isinstance(langs, list) and langs else None,
                engagement=Engagement(
                    likes=count_value(dig(post, "likeCount")),
                    replies=count_value(dig(post, "replyCount")),
                    shares=_sum(count_value(dig(post, "repostCount")), count_value(dig(post, "quoteCount"))),
                ),
            )
        )
    return page
