"""The common shape of what the platform parsers (RSS, Mastodon, Bluesky, Reddit, HN, App Store, YouTube) return.

Every parser is a pure function `parse(body, url) -> PostPage`: the posts it could read, the problems it
met (a malformed payload, a post without text), and what the platform says about the next page (a cursor,
a page token, an `after` key). Spiders turn the paging part into requests; `kaiku parse` prints the posts.
A parser never raises on bad input: everything it cannot use is a `Problem` with a code that the crawler
counts under `kaiku/skipped/<code>` (see `SKIP_PROBLEMS` in crawler/stats.py) or `kaiku/warnings/<code>`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crawler.extract.schema_org import Problem, record_json
from crawler.extract.values import parse_datetime

# Problem codes shared by the platform parsers.
MALFORMED_PAYLOAD = "malformed_payload"  # not JSON / XML at all, or not the documented shape (whole response)
BAD_POST = "bad_post"  # one entry lacks what a mention needs (id or URL); the others are kept
NO_TEXT = "no_text"  # one entry has no words (an image-only post); skipped
BAD_DATE = "bad_date"  # a date that could not be read; the post is kept without it


@dataclass(frozen=True)
class PostRecord:
    """One post, comment or review as the platform states it."""

    key: str  # the platform's own id (stable across re-crawls), for the mention id
    url: str
    text: str
    author: str | None = None
    published_at: datetime | None = None
    title: str | None = None
    rating: float | None = None
    rating_max: float | None = None
    lang: str | None = None
    item_reviewed: str | None = None  # what the post is about when the text may not name it (an app)
    local_id: str | None = None  # an id that grows with time where the platform has one (Mastodon, App Store)
    # Engagement and reach where the platform states them (indexed as `engagement` and `author_followers`).
    likes: int | None = None
    replies: int | None = None
    shares: int | None = None
    author_followers: int | None = None

    def as_json(self, source: str) -> dict[str, Any]:
        """The JSON line `kaiku parse` prints: the same fields, in the same order, as for `reviews`."""
        # Platforms state no aggregate rating of what is reviewed.
        return {"source": source, **record_json(self, item_rating=None)}


@dataclass
class PostPage:
    posts: list[PostRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    next_cursor: str | None = None  # whatever the platform hands back for the next page, as it gave it
    size: int = 0  # entries in the payload, readable or not (a full page means there may be more)

    def problem(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message))

    def count(self, code: str) -> int:
        return sum(1 for problem in self.problems if problem.code == code)


def load_json(body: bytes | str, page: PostPage, expect: type = dict) -> Any:
    """The decoded JSON body, or None with a `malformed_payload` problem recorded on `page`."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        page.problem(MALFORMED_PAYLOAD, f"not JSON: {str(exc)[:200]}")
        return None
    if not isinstance(data, expect):
        page.problem(MALFORMED_PAYLOAD, f"expected a JSON {expect.__name__}, got {type(data).__name__}")
        return None
    return data


def text_value(value: object) -> str | None:
    """A non-empty stripped string, else None (payload fields are often null, numbers or missing)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def id_value(value: object) -> str | None:
    """An id given as a string or an integer (Reddit and Algolia use both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return text_value(value)


def date_value(value: object, page: PostPage, where: str) -> datetime | None:
    """An ISO 8601 / RFC 2822 date or epoch seconds; an unreadable one is a `bad_date` warning."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            page.problem(BAD_DATE, f"{where}: timestamp {value!r} out of range")
            return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        page.problem(BAD_DATE, f"{where}: unreadable date {str(value)[:60]!r}")
    return parsed


def count_value(value: object) -> int | None:
    """A non-negative count (likes, replies…), also from a numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and value >= 0:
        return value
    return None


def dig(data: object, *path: str | int) -> Any:
    """data[path[0]][path[1]]…, or None where any step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return None
            data = data[step]
        elif isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data
