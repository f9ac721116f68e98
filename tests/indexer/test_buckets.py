"""Calendar buckets in a time zone, checked by hand around DST changes and odd offsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from indexer.analytics import Counts, metrics, ratio
from indexer.buckets import InvalidBuckets, buckets, zone

pytestmark = pytest.mark.unit
HELSINKI = zone("Europe/Helsinki")


def keys(start: str, end: str, interval: str, tz: str = "Europe/Helsinki") -> list[str]:
    found = buckets(datetime.fromisoformat(start), datetime.fromisoformat(end), interval, zone(tz))  # type: ignore[arg-type]
    return [b.key for b in found]


def test_weeks_start_on_local_monday_across_spring_dst() -> None:
    assert keys("2026-03-25T12:00:00+00:00", "2026-04-01T00:00:00+00:00", "week") == [
        "2026-03-23T00:00:00+02:00", "2026-03-30T00:00:00+03:00",
    ]  # fmt: skip


def test_autumn_hour_repeats_with_its_offset() -> None:
    assert keys("2026-10-24T23:00:00+00:00", "2026-10-25T03:00:00+00:00", "hour") == [
        "2026-10-25T02:00:00+03:00", "2026-10-25T03:00:00+03:00", "2026-10-25T03:00:00+02:00",
        "2026-10-25T04:00:00+02:00",
    ]  # fmt: skip


def test_half_hour_offset_and_months() -> None:
    assert keys("2026-01-01T00:00:00+00:00", "2026-01-01T02:00:00+00:00", "hour", "Asia/Kolkata") == [
        "2026-01-01T05:00:00+05:30", "2026-01-01T06:00:00+05:30", "2026-01-01T07:00:00+05:30",
    ]  # fmt: skip
    assert keys("2026-12-15T00:00:00+00:00", "2027-02-01T00:00:00+00:00", "month") == [
        "2026-12-01T00:00:00+02:00", "2027-01-01T00:00:00+02:00", "2027-02-01T00:00:00+02:00",
    ]  # fmt: skip


def test_day_that_starts_at_a_skipped_midnight() -> None:
    # Santiago moved clocks from 00:00 to 01:00 on 2026-09-06: that day starts at 01:00 local time.
    assert keys("2026-09-05T12:00:00-04:00", "2026-09-07T00:00:00-03:00", "day", "America/Santiago") == [
        "2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00",
    ]  # fmt: skip


def test_invalid_input_names_the_parameter() -> None:
    with pytest.raises(InvalidBuckets) as tz_error:
        zone("Mars/Olympus")
    assert tz_error.value.parameter == "tz"
    with pytest.raises(InvalidBuckets) as order:
        buckets(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "day", HELSINKI)
    assert order.value.parameter == "from"
    with pytest.raises(InvalidBuckets) as too_many:
        buckets(datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "hour", HELSINKI)
    assert too_many.value.parameter == "interval"


def test_metric_definitions() -> None:
    counts = Counts(volume=10, by_class={"anger": 3, "comfort": 6, "delight": 1})
    assert metrics(counts, set_earned=8) == {
        "volume": 10, "anger": 3, "comfort": 6, "delight": 1, "unscored": 0, "earned": 4,
        "earned_share": 0.4, "net_delight": -0.5, "set_earned": 8, "earned_sov": 0.5,
    }  # fmt: skip
    assert ratio(1, 0) is None and ratio(0, 3) == 0.0
