"""Parsing the loosely typed values review markup carries: dates, numbers, ratings, language tags."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from crawler.errors import CrawlerError

DEFAULT_BEST_RATING = 5.0
DEFAULT_WORST_RATING = 1.0

# Formats seen on real review pages besides ISO 8601; tried in order after ISO fails.
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z",
    "%Y/%m/%d",
    "%d.%m.%Y",  # Finnish and German pages
    "%d.%m.%Y %H:%M",
    "%B %d, %Y",  # "May 1, 2025"
    "%b %d, %Y",
    "%d %B %Y",  # "1 May 2025"
    "%d %b %Y",
)
_LANG_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_].*)?$")


class ValueProblem(CrawlerError, ValueError):
    """A value is present but cannot be used; the message says why."""


def parse_datetime(value: str | None) -> datetime | None:
    """ISO 8601 (and a few common page formats) to a timezone-aware UTC datetime.

    A date without a time is midnight UTC; a datetime without an offset is taken as UTC.
    Returns None for anything unparseable rather than guessing.
    """
    if not value:
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)  # also takes a bare date (midnight) and a trailing Z
    except ValueError:
        parsed = _parse_other_formats(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_other_formats(text: str) -> datetime | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)  # RFC 2822, as in feeds
    except (TypeError, ValueError, IndexError):
        return None


def parse_number(value: object) -> float | None:
    """A number from 4, 4.5, "4", "4,5" (decimal comma) or " 4.5 "; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not text:
            return None
        try:
            return float(text)
        except ValueError as exc:
            raise ValueProblem(f"not a number: {value!r}") from exc
    raise ValueProblem(f"not a number: {value!r}")


def scale_rating(value: float, best: float | None, worst: float | None) -> tuple[float, float]:
    """(rating, rating_max) on a scale whose bottom is 1, which is what the experience rule assumes.

    - bestRating defaults to 5; when it is missing and the value is above 5, the scale is taken to be
      10 (or 100) instead of rejecting the review.
    - worstRating defaults to 1 (0 when the value itself is below 1). A scale that does not start at 1
      is mapped linearly onto 1..bestRating, so the bottom stays the bottom and the top stays the top:
      7 on 0..10 becomes 7.3 of 10.
    - A scale whose top is 1 or less (0..1) is mapped onto 1..5.
    """
    if best is None:
        best = DEFAULT_BEST_RATING if value <= 5 else 10.0 if value <= 10 else 100.0
    if worst is None:
        worst = 0.0 if value < 1 or best <= 1 else DEFAULT_WORST_RATING
    if best <= worst:
        raise ValueProblem(f"bestRating {best:g} is not above worstRating {worst:g}")
    if not worst <= value <= best:
        raise ValueProblem(f"rating {value:g} outside its scale {worst:g}..{best:g}")
    if worst == 1 and best > 1:
        return value, best
    top = best if best > 1 else DEFAULT_BEST_RATING
    scaled = 1 + (value - worst) * (top - 1) / (best - worst)
    return round(scaled, 2), top


def primary_language(tag: object) -> str | None:
    """ "fi-FI" -> "fi", "en_US" -> "en"; None for anything that is not a language tag."""
    if not isinstance(tag, str):
        return None
    match = _LANG_TAG.match(tag.strip())
    return match.group(1).lower() if match else None
