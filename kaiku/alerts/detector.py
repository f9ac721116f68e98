"""The spike detector: a pure function from a regular count series to incidents.

Real mention counts are overdispersed (variance far above the mean), clustered (news days), seasonal (quiet nights
and weekends) and bursty (one post quoted fifty times in five minutes). The detector therefore:

* compares **two windows** ending at each point, a short one (``short_window``, sees the spike) and a long one
  (``long_window``, keeps a single burst from firing), the multi-window idea of burn-rate alerting: both must be
  anomalous;
* builds each window's **baseline** from the past only: the median of the same window at the same time of day on
  the previous ``lookback_days`` days (neighbours within ``smoothing`` included), raised to the same time of week
  once ``min_weeks`` weeks of history exist (so a weekly digest is not an incident), and nothing at all during the
  warm-up (fewer than ``min_days`` days of history). Leading NaN values are *missing* history (a brand not watched
  yet), not zeros: the series is scored from its first known value, so the warm-up counts from there;
* scores on a **variance-stabilised scale**: z = (sqrt(x) - sqrt(baseline)) / (sigma / 2), where sigma is the
  robust spread (1.4826 x MAD) of 2 sqrt(comparable past windows), floored at 1 (the Poisson value). sigma^2 is the
  quasi-Poisson dispersion (variance = phi x mean) estimated from the series' own history at that time of day;
* asks for **practical significance** beside the statistical one: the short window must be at least ``min_lift``
  times its baseline (and the long one ``min_lift_long`` times), and hold ``min_count`` mentions;
* keeps **one incident per episode**: it stays open while the short window's score is >= ``exit_k``, and a new
  trigger within ``cooldown`` of its end reopens it;
* enforces an optional **alert budget** (``max_per_week``): a trigger that would open more incidents than that in
  the trailing 7 days is held back; the next incident that opens says how many were held back.
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
    k: float = 4.0  # score (both windows) that opens an incident
    exit_k: float = 2.0  # short-window score below which an open incident closes (hysteresis)
    min_lift: float = 2.0  # the short window must be at least this many times its baseline ...
    min_lift_long: float = 1.5  # ... and the long window this many times its own
    min_count: float = 5.0  # a point opens an incident only with at least this many mentions in its slot
    cooldown: timedelta = timedelta(hours=6)  # after an incident ends, a new trigger reopens it instead
    short_window: timedelta = timedelta(minutes=15)  # sees the spike (at least one slot)
    long_window: timedelta = timedelta(hours=2)  # confirms it (at least the short window)
    lookback_days: int = 7  # same time of day on this many previous days
    lookback_weeks: int = 4  # same time of week on this many previous weeks
    min_days: int = 2  # warm-up: no score before this many days of history
    min_weeks: int = 2  # from this many weeks of history the same-time-of-week median also counts
    smoothing: timedelta = timedelta(minutes=30)  # comparable points: within this of the same time
    min_fallback_points: int = 12  # intervals that do not divide a day: trailing points needed for a score
    max_per_week: int | None = None  # alert budget: most incidents opened in any 7 days (None: no budget)
    medium_score: float = 10.0  # peak score from which severity is "medium"
    high_score: float = 20.0  # peak score from which severity is "high"

    def __post_init__(self) -> None:
        if not (self.k > 0 and 0 <= self.exit_k <= self.k):
            raise ValueError("need k > 0 and 0 <= exit_k <= k")
        if self.min_count < 0 or self.cooldown < timedelta(0) or self.min_lift < 1 or self.min_lift_long < 1:
            raise ValueError("min_count and cooldown must not be negative, min_lift and min_lift_long >= 1")
        if self.lookback_days < 1 or self.lookback_weeks < 0 or self.min_days < 1:
            raise ValueError("lookback_days and min_days must be >= 1, lookback_weeks >= 0")
        if self.short_window <= timedelta(0) or self.long_window < self.short_window:
            raise ValueError("need 0 < short_window <= long_window")
        if self.max_per_week is not None and self.max_per_week < 1:
            raise ValueError("max_per_week must be >= 1")


DEFAULT = DetectorParams()


@dataclass(frozen=True)
class Incident:
    start: datetime  # first slot where both windows crossed k
    end: datetime  # exclusive: end of the last slot at or above exit_k
    peak: datetime  # slot with the highest short-window score
    peak_value: float  # count in that slot
    score: float  # highest short-window score during the incident
    baseline: float  # usual count for one slot at the peak (short-window baseline per slot)
    severity: str  # "low", "medium" or "high", from the peak score
    held_back: int = 0  # triggers the alert budget suppressed since the previous incident


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


def _rolling_sum(v: np.ndarray, width: int) -> np.ndarray:
    """Sum of the `width` slots ending at each point (fewer at the very start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(v)])
    lo = np.maximum(np.arange(1, len(v) + 1) - width, 0)
    return cumulative[1:] - cumulative[lo]


def _known_from(values: np.ndarray) -> int:
    """Index of the first known value: leading NaNs are history that does not exist. NaN after it is an error."""
    known = ~np.isnan(values)
    first = int(np.argmax(known)) if known.any() else len(values)
    if not known[first:].all():
        raise ValueError("values may be NaN (missing history) only before the first known value")
    return first


@dataclass(frozen=True)
class WindowScores:
    """Per point, for the window of `width` slots ending there: its count, baseline, lift and score."""

    count: np.ndarray
    baseline: np.ndarray  # NaN during the warm-up
    score: np.ndarray  # NaN during the warm-up
    threshold: np.ndarray  # the count at which the score reaches k (NaN during the warm-up)

    @property
    def lift(self) -> np.ndarray:
        return (self.count + 1.0) / (self.baseline + 1.0)


def window_scores(values: np.ndarray, step: timedelta, width: int, params: DetectorParams) -> WindowScores:
    """Baseline and score of the window of `width` slots ending at each point, from earlier windows only."""
    n = len(values)
    count = _rolling_sum(values, width)
    root = 2.0 * np.sqrt(count)  # variance-stabilised: Poisson noise has variance ~1 on this scale
    baseline = np.full(n, np.nan)
    idx = np.arange(n)
    if step <= DAY and DAY % step == timedelta(0):
        per_day = DAY // step
        half = min(params.smoothing // step, (per_day - 1) // 2)
        offsets = range(-half, half + 1)
        # Lags of at least `width` slots keep a comparable window from overlapping the current one.
        days = [
            d * per_day + j for d in range(1, params.lookback_days + 1) for j in offsets if d * per_day + j >= width
        ]
        ready = idx >= params.min_days * per_day + width
        if ready.any():
            baseline[ready] = np.nanmedian(_gather(root, days)[ready], axis=1)
        weekly_ready = ready & (idx >= params.min_weeks * 7 * per_day + width)
        if params.lookback_weeks and params.min_weeks and weekly_ready.any():
            weeks = [w * 7 * per_day + j for w in range(1, params.lookback_weeks + 1) for j in offsets]
            week_med = np.nanmedian(_gather(root, weeks)[weekly_ready], axis=1)
            baseline[weekly_ready] = np.maximum(baseline[weekly_ready], week_med)
        block = per_day
    else:
        # No time of day to compare with: the median of the trailing non-overlapping windows.
        lags = list(range(width, width + max(params.min_fallback_points, params.lookback_days)))
        trailing = _gather(root, lags)
        ready = np.sum(~np.isnan(trailing), axis=1) >= params.min_fallback_points
        if ready.any():
            baseline[ready] = np.nanmedian(trailing[ready], axis=1)
        block = params.min_fallback_points
    sigma = _dispersion(root, baseline, block, params.lookback_days)
    score = (root - baseline) / sigma
    threshold = ((baseline + params.k * sigma) / 2.0) ** 2
    return WindowScores(count=count, baseline=(baseline / 2.0) ** 2, score=score, threshold=threshold)


def _dispersion(root: np.ndarray, baseline: np.ndarray, block: int, blocks: int) -> np.ndarray:
    """Noise scale per point on the square-root scale, from the past only.

    Counts are modelled as negative binomial: variance = m + m^2 / r for a mean m. On the 2 sqrt(x) scale that is a
    variance of about 1 + m / r: Poisson noise (1) plus a part that grows with the level (news, bursts). 1 / r is
    estimated once per block (a day) from the residuals of the previous `blocks` blocks: the robust variance
    (1.4826 x MAD)^2 minus the Poisson 1, divided by the median baseline count. NaN until a dozen residuals exist
    (with daily slots: a full lookback of them)."""
    residuals = root - baseline
    counts = (baseline / 2.0) ** 2
    inverse_r = np.full(len(root), np.nan)
    for start in range(block, len(root), block):
        past = slice(max(0, start - blocks * block), start)
        res, level = residuals[past], counts[past]
        known = ~np.isnan(res)
        if known.sum() >= min(blocks * block, 12):  # a dozen residuals, or a full lookback of daily slots
            res = res[known]
            spread = MAD_TO_SIGMA * float(np.median(np.abs(res - np.median(res))))
            inverse_r[start : start + block] = max(spread**2 - 1.0, 0.0) / max(float(np.median(level[known])), 1.0)
    return np.sqrt(1.0 + inverse_r * counts)


def _slots(window: timedelta, step: timedelta) -> int:
    return max(1, round(window / step))


def usual_band(
    timestamps: Sequence[datetime], values: Sequence[float], params: DetectorParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per slot, the usual count and the count at which the short window would score k (both per slot; NaN during
    the warm-up): the band drawn in the alert email's chart."""
    params = params or DEFAULT
    step = _interval(timestamps)
    width = _slots(params.short_window, step)
    v = np.asarray(values, dtype=float)
    first = _known_from(v)
    usual, threshold = np.full(len(v), np.nan), np.full(len(v), np.nan)
    if first < len(v):
        short = window_scores(v[first:], step, width, params)
        usual[first:], threshold[first:] = short.baseline / width, short.threshold / width
    return usual, threshold


@dataclass(frozen=True)
class Detection:
    incidents: list[Incident]
    held_back: int  # episodes the alert budget suppressed, in all


def detect_incidents(
    timestamps: Sequence[datetime], values: Sequence[float], params: DetectorParams = DEFAULT
) -> list[Incident]:
    """Incidents in a regular series (one timestamp per slot, fixed interval). Pure; uses only the past."""
    return detect(timestamps, values, params).incidents


def detect(timestamps: Sequence[datetime], values: Sequence[float], params: DetectorParams = DEFAULT) -> Detection:
    """`detect_incidents`, with the number of episodes the alert budget held back."""
    if len(timestamps) != len(values):
        raise ValueError("timestamps and values differ in length")
    if len(values) < 2:
        return Detection([], 0)
    step = _interval(timestamps)
    first = _known_from(np.asarray(values, dtype=float))
    timestamps, values = timestamps[first:], values[first:]  # missing history: the warm-up starts after it
    v = np.asarray(values, dtype=float)
    short_width = _slots(params.short_window, step)
    short = window_scores(v, step, short_width, params)
    long = window_scores(v, step, max(short_width, _slots(params.long_window, step)), params)
    trigger = (
        (short.score >= params.k)
        & (long.score >= params.k)
        & (short.lift >= params.min_lift)
        & (long.lift >= params.min_lift_long)
        & (v >= params.min_count)
    )
    keep_open = short.score >= params.exit_k

    incidents: list[dict] = []
    current: dict | None = None  # the open incident, or the last closed one while within its cooldown
    open_ = False
    held_back = total_held = 0
    for i, ts in enumerate(timestamps):
        if open_ and not keep_open[i]:
            open_ = False
        if not open_:
            if not trigger[i]:
                continue
            # A trigger within the cooldown of the previous incident reopens it rather than starting a new one.
            if current is None or ts >= current["end"] + params.cooldown:
                current = {"start": ts, "score": -math.inf, "held_back": held_back}
                if _over_budget(incidents, ts, params):
                    # Held back: still followed as an episode (so that it counts once), never reported.
                    held_back += 1
                    total_held += 1
                else:
                    held_back = 0
                    incidents.append(current)  # updated in place while it lasts
            open_ = True
        assert current is not None
        current["end"] = ts + step
        s = float(short.score[i])
        if s > current["score"]:
            current.update(peak=ts, peak_value=float(v[i]), score=s, baseline=float(short.baseline[i]) / short_width)
    return Detection([Incident(**c, severity=severity(c["score"], params)) for c in incidents], total_held)


def _over_budget(incidents: list[dict], ts: datetime, params: DetectorParams) -> bool:
    """Would opening an incident at `ts` make more than `max_per_week` in the 7 days ending there?"""
    if params.max_per_week is None:
        return False
    return sum(1 for c in incidents if c["start"] > ts - WEEK) >= params.max_per_week
