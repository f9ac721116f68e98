"""YouTube Data API v3 `commentThreads.list` responses: `{"items": [commentThread…], "nextPageToken"}`.

A thread's `snippet.topLevelComment.snippet` holds the comment: `textOriginal` (plain; `textDisplay` is
HTML and is the fallback), `authorDisplayName`, `publishedAt`, `videoId`. A comment on a channel rather than
on a video (listed with `allThreadsRelatedToChannelId`, or a thread whose video is not stated) has no
`videoId`: the comment's id is still its identity, and its link is the channel's page (YouTube has no
public address for such a comment alone), from the thread's `channelId`, else the request's channel
parameter. An API error answers
`{"error": {"code", "message", "errors": [{"reason"}]}}` (a spent quota is 403 `quotaExceeded`); it is a
`malformed_payload` problem naming the reason when it comes with a 200, which the API does not do, and
the spider counts the HTTP status otherwise.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

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
from crawler.extract.text import html_to_text, normalise_space

WEB = "https://www.youtube.com/watch?v="
CHANNEL = "https://www.youtube.com/channel/"


def parse_comment_threads(body: bytes | str, url: str) -> PostPage:
    page = PostPage()
    data = load_json(body, page)
    if data is None:
        return page
    if isinstance(data.get("error"), dict):
        reason = dig(data, "error", "errors", 0, "reason") or dig(data, "error", "message") or "unknown"
        page.problem(MALFORMED_PAYLOAD, f"API error: {reason}")
        return page
    items = data.get("items")
    if not isinstance(items, list):
        page.problem(MALFORMED_PAYLOAD, "no `items` list in the commentThreads response")
        return page
    page.size = len(items)
    page.next_cursor = text_value(data.get("nextPageToken"))
    query = parse_qs(urlsplit(url).query)
    asked_channel = next(iter(query.get("allThreadsRelatedToChannelId") or query.get("channelId") or []), None)
    for number, thread in enumerate(items, start=1):
        where = f"item {number}"
        comment = dig(thread, "snippet", "topLevelComment")
        snippet = dig(comment, "snippet")
        comment_id = text_value(dig(comment, "id")) or text_value(dig(thread, "id"))
        video = text_value(dig(snippet, "videoId")) or text_value(dig(thread, "snippet", "videoId"))
        channel = (
            text_value(dig(thread, "snippet", "channelId")) or text_value(dig(snippet, "channelId")) or asked_channel
        )
        if not comment_id:
            page.problem(BAD_POST, f"{where}: no comment id; skipped")
            continue
        if video:
            link = f"{WEB}{video}&lc={comment_id}"
        elif channel:
            link = f"{CHANNEL}{quote(channel, safe='')}"
        else:
            page.problem(BAD_POST, f"{where}: neither a video nor a channel to link to; skipped")
            continue
        original = text_value(dig(snippet, "textOriginal"))
        display = text_value(dig(snippet, "textDisplay"))
        text = normalise_space(original) if original else html_to_text(display) if display else ""
        if not text:
            page.problem(NO_TEXT, f"{where}: no comment text; skipped")
            continue
        page.posts.append(
            PostRecord(
                key=comment_id,
                url=link,
                text=text,
                author=text_value(dig(snippet, "authorDisplayName")),
                published_at=date_value(dig(snippet, "publishedAt"), page, where),
                engagement=Engagement(
                    likes=count_value(dig(snippet, "likeCount")),
                    replies=count_value(dig(thread, "snippet", "totalReplyCount")),
                ),
            )
        )
    return page
