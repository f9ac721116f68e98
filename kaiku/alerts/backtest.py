"""Backtest the detector on a `timestamp,value` CSV: read, resample onto a regular grid, detect."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kaiku.alerts.detector import DEFAULT, Detection, DetectorParams, detect
from kaiku.errors import ServiceError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_SLOTS = 5_000_000  # a grid longer than this is almost surely a typo in a timestamp or the interval
_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|min|h|d)\s*$")
_UNITS = {"s": 1, "sec": 1, "min": 60, "h": 3600, "d": 86400}


class BacktestError(ServiceError, ValueError):
    """A problem with the input a user can fix: bad interval, unreadable file, no valid rows."""


def parse_duration(text: str, allow_zero: bool = False) -> timedelta:
    """'5min', '15min', '1h', '1d', '30s' -> timedelta (positive; '0' too with allow_zero)."""
    if allow_zero and text.strip() == "0":
        return timedelta(0)
    match = _DURATION.match(text)
    if not match or (int(match.group(1)) == 0 and not allow_zero):
        raise BacktestError(
            f"invalid duration {text!r}: use a positive whole number and s, min, h or d (e.g. 5min, 1h)"
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass
class Series:
    timestamps: list[datetime]
    values: list[float]
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def _parse_row(row: list[str]) -> tuple[datetime, float]:
    if len(row) < 2:
        raise ValueError("expected timestamp,value")
    text = row[0].strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"bad timestamp {row[0].strip()!r}") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)  # naive means UTC
    try:
        value = float(row[1])
    except ValueError:
        raise ValueError(f"bad value {row[1].strip()!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"bad value {row[1].strip()!r}: need a finite count >= 0")
    return ts.astimezone(UTC), value


def read_series(path: Path, interval: timedelta) -> Series:
    """Rows may be unsorted and have gaps: values are summed per slot of `interval` (aligned on the UTC epoch)
    and missing slots are 0. A first line that does not parse is taken as a header; other bad rows are kept in
    `bad_rows`. No valid row at all is an error."""
    if interval <= timedelta(0):
        raise BacktestError("interval must be positive")
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BacktestError(f"cannot read {path}: {exc}") from None
    sums: dict[int, float] = {}
    bad: list[tuple[int, str]] = []
    first = True
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip():
            continue
        try:
            ts, value = _parse_row(row)
        except ValueError as exc:
            if not first:
                bad.append((line_no, str(exc)))
            first = False
            continue
        first = False
        slot = (ts - EPOCH) // interval
        sums[slot] = sums.get(slot, 0.0) + value
    if not sums:
        raise BacktestError(f"{path}: no valid timestamp,value rows" + (f" ({len(bad)} bad)" if bad else ""))
    lo, hi = min(sums), max(sums)
    if hi - lo + 1 > MAX_SLOTS:
        raise BacktestError(f"{path}: {hi - lo + 1} slots of {interval} between first and last row; too many")
    slots = range(lo, hi + 1)
    return Series([EPOCH + s * interval for s in slots], [sums.get(s, 0.0) for s in slots], bad)


def backtest(path: Path, interval: timedelta, params: DetectorParams = DEFAULT) -> tuple[Detection, Series]:
    series = read_series(path, interval)
    return detect(series.timestamps, series.values, params), series
