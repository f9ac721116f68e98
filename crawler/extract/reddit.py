"""Reddit search listings (`/search.json`, `/r/<sub>/search.json`):
`{"kind": "Listing", "data": {"after", "children"}}`.

Links (`t3`) give title + `selftext`; comments (`t1`, where a listing holds them) give `body`. A link post
with no self text (a shared article) keeps its title as text: the title is what names the brand. The
URL is the post's permalink on reddit.com; `after` (the fullname of the last child) pages on.
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
    id_value,
    load_json,
    text_value,
)
from crawler.extract.text import normalise_space

WEB = "https://www.reddit.com"


def parse_listing(body: bytes | str, url: str) -> PostPage:
    page = PostPage()
    data = load_json(body, page)
    if data is None:
        return page
    children = dig(data, "data", "children")
    if data.get("kind") != "Listing" or not isinstance(children, list):
        page.problem(MALFORMED_PAYLOAD, "not a Reddit Listing (no data.children)")
        return page
    page.size = len(children)
    page.next_cursor = text_value(dig(data, "data", "after"))
    for number, child in enumerate(children, start=1):
        where = f"child {number}"
        kind, post = dig(child, "kind"), dig(child, "data")
        name = text_value(dig(post, "name")) or (f"{kind}_{id_value(dig(post, 'id'))}" if dig(post, "id") else None)
        permalink = text_value(dig(post, "permalink"))
        if kind not in ("t1", "t3") or not name or not permalink:
            page.problem(BAD_POST, f"{where}: not a post or comment with a name and permalink; skipped")
            continue
        if kind == "t3":
            title = text_value(dig(post, "title"))
            text = text_value(dig(post, "selftext")) or title
        else:
            title = text_value(dig(post, "link_title"))
            text = text_value(dig(post, "body"))
        if not text or text in ("[removed]", "[deleted]"):
            page.problem(NO_TEXT, f"{where}: no text (removed or deleted); skipped")
            continue
        author = text_value(dig(post, "author"))
        page.posts.append(
            PostRecord(
                key=name,
                url=permalink if permalink.startswith("http") else f"{WEB}{permalink}",
                text=normalise_space(text),
                author=None if author == "[deleted]" else author,
                published_at=date_value(dig(post, "created_utc"), page, where),
                title=title,
                engagement=Engagement(
                    likes=count_value(dig(post, "score")),  # upvotes minus downvotes, as Reddit shows it
                    replies=count_value(dig(post, "num_comments")),
                ),
            )
        )
    return page
