"""How large spikes are, as the detector sees them: peak lift of its two windows over their baselines.

Used by `bench/alerts_real.py` to measure the real labelled spikes and the ordinary days around them, and by
`bench/alerts_synthetic.py` to draw its planted spikes and news days at the same sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from kaiku.alerts.detector import DEFAULT, DetectorParams, WindowScores, window_scores


@dataclass(frozen=True)
class Lifts:
    short: float  # highest lift of the short (15 min) window over its baseline
    long: float  # highest lift of the long (2 h) window over its baseline
    hours: float  # time the long window is at least min_lift_long times its baseline


def two_windows(
    timestamps: Sequence[datetime], values: Sequence[float], params: DetectorParams = DEFAULT
) -> tuple[WindowScores, WindowScores]:
    step = timestamps[1] - timestamps[0]
    short = max(1, round(params.short_window / step))
    long = max(short, round(params.long_window / step))
    v = np.asarray(values, dtype=float)
    return window_scores(v, step, short, params), window_scores(v, step, long, params)


def lifts_in(
    timestamps: Sequence[datetime],
    windows: tuple[WindowScores, WindowScores],
    start: datetime,
    end: datetime,
    params: DetectorParams = DEFAULT,
) -> Lifts | None:
    """Peak lifts of the two windows ending inside [start, end); None if all of it is in the warm-up."""
    short, long = windows
    inside = np.array([start <= t < end for t in timestamps]) & ~np.isnan(long.lift)
    if not inside.any():
        return None
    step = timestamps[1] - timestamps[0]
    hours = float(np.sum(long.lift[inside] >= params.min_lift_long)) * step / timedelta(hours=1)
    return Lifts(float(np.nanmax(short.lift[inside])), float(np.nanmax(long.lift[inside])), hours)


def ordinary_days(
    timestamps: Sequence[datetime],
    windows: tuple[WindowScores, WindowScores],
    excluded: Sequence[tuple[datetime, datetime]],
    params: DetectorParams = DEFAULT,
) -> list[Lifts]:
    """Peak lifts of every whole UTC day after the warm-up that overlaps none of the `excluded` windows: how large
    ordinary news bursts are, the noise a detector must not report."""
    day = timedelta(days=1)
    first = timestamps[0].replace(hour=0, minute=0, second=0, microsecond=0) + day
    result = []
    while first + day <= timestamps[-1]:
        if not any(a < first + day and first < b for a, b in excluded):
            lifts = lifts_in(timestamps, windows, first, first + day, params)
            if lifts is not None:
                result.append(lifts)
        first += day
    return result


def describe(label: str, lifts: Sequence[Lifts]) -> str:
    """One line: median and 10th-90th percentile of each measure."""

    def spread(values: list[float]) -> str:
        p10, p50, p90 = np.percentile(values, [10, 50, 90])
        return f"median {p50:.1f} (10-90%: {p10:.1f}-{p90:.1f})"

    return (
        f"{label:<34} n {len(lifts):>3}  peak lift 2 h {spread([x.long for x in lifts])}, "
        f"15 min {spread([x.short for x in lifts])}; hours >= 1.5x {spread([x.hours for x in lifts])}"
    )
