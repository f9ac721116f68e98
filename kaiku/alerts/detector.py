"""The spike detector: a pure function from a regular count series to incidents.

Each point is compared with a robust, seasonal baseline built only from the past:

* the median of comparable past points: the same time of week on the previous ``lookback_weeks`` weeks once
  ``min_weeks`` of them exist; before that the same time of day on the previous ``lookback_days`` days (raised to
  the same-time-of-week median when there is one, so a weekly peak seen once is not an incident the next week);
  before ``min_days`` days of history, the median of the trailing ``fallback_window``;
* comparable points include the neighbours within ``smoothing`` of the same time (useful below 1 h intervals);
* the scale is 1.4826 x MAD of the same comparable points, floored at 1 + sqrt(baseline) -- the Poisson
  standard deviation plus one count for integer noise -- so a flat or zero-MAD series does not turn every blip
  into a spike.

score = (value - baseline) / scale. An incident opens when score >= k and value >= min_count, stays open (its
end, peak and max score updated) while score >= exit_k, and closes at the first point below exit_k. A trigger
within ``cooldown`` of the previous incident's end reopens that incident instead of starting a new one: one
incident, one email.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

MAD_TO_SIGMA = 1.4826
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class DetectorParams:
    k: float = 4.0  # score that opens an incident
    exit_k: float = 1.5  # score below which an open incident closes (hysteresis)
    min_count: float = 5.0  # a point opens an incident only with at least this many mentions
    cooldown: timedelta = timedelta(hours=1)  # after an incident ends, a new trigger reopens it instead
    lookback_days: int = 7  # same time of day on this many previous days
    lookback_weeks: int = 4  # same time of week on this many previous weeks
    min_days: int = 1  # fewer days of history: fall back to the trailing window
    min_weeks: int = 3  # this many weeks of history: the same-time-of-week median alone is the baseline
    smoothing: timedelta = timedelta(minutes=30)  # comparable points: within this of the same time
    fallback_window: timedelta = timedelta(hours=24)  # trailing window used while history is short
    min_fallback_points: int = 6  # fewer trailing points than this: no score at all
    medium_score: float = 8.0  # peak score from which severity is "medium"
    high_score: float = 16.0  # peak score from which severity is "high"

    def __post_init__(self) -> None:
        if not (self.k > 0 and 0 <= self.exit_k <= self.k):
            raise ValueError("need k > 0 and 0 <= exit_k <= k")
        if self.min_count < 0 or self.cooldown < timedelta(0):
            raise ValueError("min_count and cooldown must not be negative")
        if self.lookback_days < 1 or self.lookback_weeks < 0 or self.min_days < 1:
            raise ValueError("lookback_days and min_days must be >= 1, lookback_weeks >= 0")


DEFAULT = DetectorParams()


@dataclass(frozen=True)
class Incident:
    start: datetime  # first slot at or above k
    end: datetime  # exclusive: end of the last slot at or above exit_k
    peak: datetime  # slot with the highest score
    peak_value: float
    score: float  # highest score during the incident
    baseline: float  # baseline at the peak
    severity: str  # "low", "medium" or "high", from the peak score


def severity(score: float, params: DetectorParams = DEFAULT) -> str:
    if score >= params.high_score:
        return "high"
    if score >= params.medium_score:
        return "medium"
    return "low"


def _interval(timestamps: Sequence[datetime]) -> timedelta:
    step = timestamps[1] - timestamps[0]
    if step <= timedelta(0):
        raise ValueError("timestamps must be strictly increasing")
    for a, b in zip(timestamps, timestamps[1:], strict=False):
        if b - a != step:
            raise ValueError(f"timestamps must be regular: {a} -> {b} is not {step}")
    return step


def _gather(v: np.ndarray, lags: list[int]) -> np.ndarray:
    """Matrix M[i, j] = v[i - lags[j]] (NaN before the start). Lags are positive: only the past."""
    n = len(v)
    idx = np.arange(n)[:, None] - np.asarray(lags, dtype=np.int64)[None, :]
    out = np.full(idx.shape, np.nan)
    ok = idx >= 0
    out[ok] = v[idx[ok]]
    return out


def _median_mad(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    med = np.nanmedian(rows, axis=1)
    mad = np.nanmedian(np.abs(rows - med[:, None]), axis=1)
    return med, mad


def baseline_and_scale(
    timestamps: Sequence[datetime], values: Sequence[float], params: DetectorParams = DEFAULT
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point baseline and scale from past points only; NaN where there is not enough history."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    baseline = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    if n < 2:
        return baseline, np.full(n, np.nan)
    step = _interval(timestamps)
    idx = np.arange(n)

    seasonal = step <= DAY and DAY % step == timedelta(0)
    days_have = np.zeros(n, dtype=int)
    if seasonal:
        per_day = DAY // step
        half = min(params.smoothing // step, (per_day - 1) // 2)
        offsets = range(-half, half + 1)
        daily = _gather(v, [d * per_day + j for d in range(1, params.lookback_days + 1) for j in offsets])
        days_have = np.minimum(idx // per_day, params.lookback_days)
        weeks_have = np.minimum(idx // (7 * per_day), params.lookback_weeks)
        if params.lookback_weeks:
            weekly = _gather(v, [w * 7 * per_day + j for w in range(1, params.lookback_weeks + 1) for j in offsets])
        use_weekly = (weeks_have >= max(params.min_weeks, 1)) if params.lookback_weeks else np.zeros(n, bool)
        use_daily = ~use_weekly & (days_have >= params.min_days)
        if use_weekly.any():
            baseline[use_weekly], mad[use_weekly] = _median_mad(weekly[use_weekly])
        if use_daily.any():
            baseline[use_daily], mad[use_daily] = _median_mad(daily[use_daily])
            raise_to_weekly = use_daily & (weeks_have >= 1)
            if raise_to_weekly.any():
                week_med = np.nanmedian(weekly[raise_to_weekly], axis=1)
                baseline[raise_to_weekly] = np.maximum(baseline[raise_to_weekly], week_med)

    # Short history (or no seasonality possible at this interval): median of the trailing window.
    window = max(1, params.fallback_window // step)
    short = np.isnan(baseline) & (np.minimum(idx, window) >= params.min_fallback_points)
    if short.any():
        trailing = _gather(v, list(range(1, window + 1)))[short]
        baseline[short], mad[short] = _median_mad(trailing)

    floor = 1.0 + np.sqrt(np.maximum(baseline, 0.0))
    scale = np.maximum(MAD_TO_SIGMA * mad, floor)
    return baseline, scale


def detect_incidents(
    timestamps: Sequence[datetime], values: Sequence[float], params: DetectorParams = DEFAULT
) -> list[Incident]:
    """Incidents in a regular series (one timestamp per slot, fixed interval). Pure; uses only the past."""
    if len(timestamps) != len(values):
        raise ValueError("timestamps and values differ in length")
    if len(values) < 2:
        return []
    step = _interval(timestamps)
    baseline, scale = baseline_and_scale(timestamps, values, params)
    scores = (np.asarray(values, dtype=float) - baseline) / scale

    incidents: list[dict] = []
    current: dict | None = None  # the open incident, or the last closed one while within its cooldown
    open_ = False
    for i, ts in enumerate(timestamps):
        s = float(scores[i])
        if math.isnan(s):
            continue
        value = float(values[i])
        if open_ and s < params.exit_k:
            open_ = False
        if not open_:
            if s < params.k or value < params.min_count:
                continue
            # A trigger within the cooldown of the previous incident reopens it rather than starting a new one.
            if current is None or ts >= current["end"] + params.cooldown:
                current = {"start": ts, "score": -math.inf}
                incidents.append(current)  # updated in place while it lasts
            open_ = True
        assert current is not None
        current["end"] = ts + step
        if s > current["score"]:
            current.update(peak=ts, peak_value=value, score=s, baseline=float(baseline[i]))
    return [Incident(**c, severity=severity(c["score"], params)) for c in incidents]
