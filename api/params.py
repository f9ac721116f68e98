"""Query parameters shared by several routers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from indexer.buckets import InvalidBuckets

YEARS = range(1970, 2200)
MAX_OFFSET = timedelta(hours=18)  # what ISO 8601 parsers of the engines accept


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("give a time zone offset, e.g. 2026-11-01T00:00:00+02:00 or ...Z")
    if abs(offset) > MAX_OFFSET:
        raise ValueError("a time zone offset must be within ±18:00")
    if value.year not in YEARS:  # checked on the year: comparing far-off times across offsets can overflow
        raise ValueError("give a time between 1970 and 2199")
    return value


AwareDatetime = Annotated[datetime | None, AfterValidator(_aware)]
FromParam = Annotated[AwareDatetime, Query(alias="from", description="Published at or after (ISO 8601 with offset)")]
ToParam = Annotated[AwareDatetime, Query(description="Published before (ISO 8601 with offset); default now")]


def period(start: datetime | None, end: datetime | None, default_span: timedelta) -> tuple[datetime, datetime]:
    """The [from, to) window of a request: `to` defaults to now, `from` to `to` minus the default span."""
    end = end or datetime.now(UTC)
    start = start or end - default_span
    if start >= end:
        raise InvalidBuckets("from", "parameter 'from' must be earlier than 'to'")
    return start, end
