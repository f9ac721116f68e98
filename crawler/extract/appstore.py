"""App Store customer reviews, the iTunes RSS JSON feed:
`/{country}/rss/customerreviews/page={n}/id={app}/sortby=mostrecent/json`.

Every value is wrapped as `{"label": …}`; `feed.entry` is a list, a single object when the page holds one
review, and absent past the last page. Older feeds put the app itself first (an entry with `im:name` and
no `im:rating`); it is skipped, its name kept as what the reviews are about. Ratings are 1–5 stars.
The feed as documented has no review date; `updated`, which newer feeds carry, is read when present.
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
    load_json,
    text_value,
)
from crawler.extract.text import normalise_space
from crawler.extract.values import ValueProblem, parse_number, scale_rating

BAD_RATING = "bad_rating"
_FEED_PATH = re.compile(r"/(?P<country>[a-z]{2})/rss/customerreviews/(?:page=\d+/)?id=(?P<app>\d+)")


def _label(entry: object, *path: str) -> str | None:
    return text_value(dig(entry, *path, "label"))


def parse_reviews(body: bytes | str, url: str, app_name: str | None = None) -> PostPage:
    page = PostPage()
    data = load_json(body, page)
    if data is None:
        return page
    feed = data.get("feed")
    if not isinstance(feed, dict):
        page.problem(MALFORMED_PAYLOAD, "no `feed` object in the customer-reviews JSON")
        return page
    entries = feed.get("entry", [])
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        page.problem(MALFORMED_PAYLOAD, "`feed.entry` is neither a list nor an object")
        return page
    match = _FEED_PATH.search(url)
    country, app = (match["country"], match["app"]) if match else (None, None)
    for entry in entries:
        if dig(entry, "im:name") is not None and dig(entry, "im:rating") is None:
            app_name = app_name or _label(entry, "im:name")
    reviews = [e for e in entries if not (dig(e, "im:name") is not None and dig(e, "im:rating") is None)]
    page.size = len(reviews)
    for number, entry in enumerate(reviews, start=1):
        where = f"entry {number}"
        review_id = _label(entry, "id")
        if not review_id:
            page.problem(BAD_POST, f"{where}: no review id; skipped")
            continue
        text = _label(entry, "content")
        if not text:
            page.problem(NO_TEXT, f"{where}: no review text; skipped")
            continue
        rating = rating_max = None
        try:
            stars = parse_number(_label(entry, "im:rating"))
            if stars is not None:
                rating, rating_max = scale_rating(stars, 5.0, 1.0)
        except ValueProblem as exc:
            page.problem(BAD_RATING, f"{where}: {exc}; kept without a rating")
        if app:
            link = f"https://apps.apple.com/{country}/app/id{app}?see-all=reviews#review-{review_id}"
        else:
            link = f"{text_value(dig(entry, 'link', 'attributes', 'href')) or url}#review-{review_id}"
        page.posts.append(
            PostRecord(
                key=review_id,
                url=link,
                text=normalise_space(text),
                author=_label(entry, "author", "name"),
                published_at=date_value(_label(entry, "updated"), page, where),
                title=_label(entry, "title"),
                rating=rating,
                rating_max=rating_max,
                item_reviewed=app_name,
                local_id=review_id,
                engagement=Engagement(
                    likes=count_value(_label(entry, "im:voteSum")),  # "helpful" votes
                ),
            )
        )
    return page
