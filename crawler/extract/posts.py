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

from pydantic import model_validator

from crawler.extract.record import Record
from crawler.extract.schema_org import Problem
from crawler.extract.values import parse_datetime

# Problem codes shared by the platform parsers.
MALFORMED_PAYLOAD = "malformed_payload"  # not JSON / XML at all, or not the documented shape (whole response)
BAD_POST = "bad_post"  # one entry lacks what a mention needs (id or URL); the others are kept
NO_TEXT = "no_text"  # one entry has no words (an image-only post); skipped
BAD_DATE = "bad_date"  # a date that could not be read; the post is kept without it


class PostRecord(Record):
    """One post, comment or review as the platform states it (engagement and reach where it states them)."""

    local_id: str | None = None  # an id that grows with time where the platform has one (Mastodon, App Store)

    @model_validator(mode="before")
    @classmethod
    def _url_is_canonical(cls, data: Any) -> Any:
        """A platform's address of a post is the canonical one (a page's review may have none of its own)."""
        if isinstance(data, dict) and data.get("canonical_url") is None:
            return {**data, "canonical_url": data.get("url")}
        return data


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
