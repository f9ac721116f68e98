"""Query parameters shared by several routers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from indexer.buckets import InvalidBuckets


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("give a time zone offset, e.g. 2026-11-01T00:00:00+02:00 or ...Z")
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
