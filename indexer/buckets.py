"""Calendar buckets in a time zone: hour, day, ISO week (Monday) and month, DST-correct.

The local engine ignores `time_zone` in `date_histogram` (it buckets on UTC midnights; docs/design.md §7), so
bucket boundaries are computed here, in Python, and sent to the engine as explicit ranges. A real
Elasticsearch gives the same buckets for `calendar_interval` + `time_zone`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from indexer.errors import IndexerError

Interval = Literal["hour", "day", "week", "month"]
INTERVALS: tuple[str, ...] = ("hour", "day", "week", "month")


class InvalidBuckets(IndexerError, ValueError):
    """A time zone, range or bucket count the request cannot have; `parameter` names the culprit."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class Bucket:
    start: datetime  # aware, in the requested zone (its offset is the one in force at that instant)
    end: datetime  # exclusive

    @property
    def key(self) -> str:
        return self.start.isoformat()


MAX_ZONE_NAME = 64  # the longest IANA name has 32 characters


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; InvalidBuckets naming `tz` for anything else.

    ZoneInfo opens a file of that name under the zone database: besides ZoneInfoNotFoundError it raises
    ValueError (a path that leaves the database, a NUL, a file that is no zone) and OSError (a folder such as
    `Europe`, a name longer than a file name may be), all of which are the caller's mistake, not a server error.
    """
    unknown = InvalidBuckets("tz", f"unknown time zone {name[:MAX_ZONE_NAME]!r}; use an IANA name like Europe/Helsinki")
    if not name or len(name) > MAX_ZONE_NAME:
        raise unknown
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise unknown from exc


def _local(wall: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in `tz`, normalised through UTC so a time skipped by DST moves forward to a real one."""
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def floor(moment: datetime, interval: Interval, tz: ZoneInfo) -> datetime:
    """Start of the bucket that holds `moment`."""
    local = moment.astimezone(tz)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return _local(day, tz)


def following(start: datetime, interval: Interval, tz: ZoneInfo) -> datetime:
    """Start of the bucket after the one starting at `start`."""
    if interval == "hour":
        # Step in real time: across a DST change the local hour repeats or is skipped, as on a real clock.
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(tz)
    wall = start.replace(tzinfo=None)
    if interval == "day":
        wall += timedelta(days=1)
    elif interval == "week":
        wall += timedelta(days=7)
    else:
        wall = wall.replace(year=wall.year + 1, month=1) if wall.month == 12 else wall.replace(month=wall.month + 1)
    return _local(wall, tz)


def buckets(start: datetime, end: datetime, interval: Interval, tz: ZoneInfo, limit: int = 1000) -> list[Bucket]:
    """Whole buckets covering [start, end): the first starts at or before `start`, the last ends at or after `end`."""
    if start >= end:
        raise InvalidBuckets("from", "parameter 'from' must be earlier than 'to'")
    result: list[Bucket] = []
    current = floor(start, interval, tz)
    while current < end:
        nxt = following(current, interval, tz)
        result.append(Bucket(current, nxt))
        if len(result) > limit:
            raise InvalidBuckets(
                "interval", f"more than {limit} {interval} buckets; use a wider interval or a shorter range"
            )
        current = nxt
    return result
