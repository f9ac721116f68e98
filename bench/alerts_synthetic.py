"""Precision and recall of the spike detector on synthetic series with planted spikes and seasonal decoys.

    python bench/alerts_synthetic.py [--seeds 5]

Each series: 8 weeks of mention counts with daily and weekly seasonality and overdispersed noise, at 1 h and at
5 min intervals. The noise is what real mention counts show (variance far above the mean, news in clusters): a
gamma-Poisson (negative binomial) count per 5 minutes, an hour-level gamma factor (shape 30: the hourly counts of the
real NAB Twitter series have a variance of roughly mean + mean^2 / 20-50), a day-level factor (lognormal, 15%),
and news days that come in clusters (a day starts a news episode with probability 0.08, an episode goes on to the
next day with probability 0.5; a news day has 1.3-1.8x the volume all day long). News days are background, not
spikes: an incident on one counts as a false positive. Decoys that must NOT alert: a sharp daily peak (a morning
newsletter, every day at 09:00) and a weekly peak (Monday 10:00 digest). Planted spikes: 8 per series, after the
first week, of varied size (peak +1.5x to +6x the usual rate at that time) and duration (1-12 h at 1 h; 15 min-6 h
at 5 min), with a fast rise and a slower decay. An incident is a true positive if it overlaps a planted spike not
already matched; every planted spike is found at most once. Recall is also given for the large spikes alone (at
least 3x extra over the usual rate, for an hour or more), the ones real-level noise cannot hide.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from kaiku.alerts.detector import DEFAULT, DetectorParams, detect_incidents

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
WEEKS = 8
SPIKES = 8


def rate_per_hour(hours: np.ndarray, mean: float) -> np.ndarray:
    """Expected mentions per hour at each (fractional) hour since START: daily + weekly seasonality + decoys."""
    hod = hours % 24
    dow = (hours // 24) % 7
    daily = 1.0 + 0.6 * np.sin((hod - 8) / 24 * 2 * np.pi)  # low at night, high mid-afternoon
    weekly = np.where(dow >= 5, 0.6, 1.0)  # quieter weekends
    newsletter = np.where((hod >= 9) & (hod < 10), 2.5, 1.0)  # decoy: every day 09:00-10:00
    digest = np.where((dow == 0) & (hod >= 10) & (hod < 11), 3.0, 1.0)  # decoy: every Monday 10:00-11:00
    return mean * daily * weekly * newsletter * digest


HOUR_SHAPE = 30.0  # hour-level gamma factor: sd 18%
SLOT_SHAPE = 10.0  # gamma-Poisson per 5 minutes (variance mean + mean^2 / 10); a slot of 1 h sums 12 of them
DAY_SIGMA = 0.15  # day-level lognormal factor
NEWS_START, NEWS_STAY, NEWS_LIFT = 0.08, 0.5, (1.3, 1.8)


def day_factors(rng: np.random.Generator, days: int) -> np.ndarray:
    """Per day: ordinary variation, times a news multiplier on days of a news episode (clustered)."""
    factors = np.exp(rng.normal(0.0, DAY_SIGMA, days))
    news = False
    for day in range(days):
        news = rng.random() < (NEWS_STAY if news else NEWS_START)
        if news:
            factors[day] *= rng.uniform(*NEWS_LIFT)
    return factors


Spike = tuple[datetime, datetime, float, float]  # start, end (exclusive), peak extra / usual rate, hours


def make_series(seed: int, step: timedelta) -> tuple[list[datetime], np.ndarray, list[Spike]]:
    rng = np.random.default_rng(seed)
    per_hour = timedelta(hours=1) / step
    n = int(WEEKS * 7 * 24 * per_hour)
    hours = np.arange(n) / per_hour
    mean = rng.uniform(20, 80)
    hour_noise = rng.gamma(HOUR_SHAPE, 1 / HOUR_SHAPE, WEEKS * 7 * 24)[hours.astype(int)]
    day_noise = day_factors(rng, WEEKS * 7)[(hours // 24).astype(int)]
    lam = rate_per_hour(hours, mean) / per_hour * hour_noise * day_noise
    extra = np.zeros(n)
    spikes = []
    min_h, max_h = (1, 12) if step >= timedelta(hours=1) else (0.25, 6)
    slots = np.sort(rng.choice(np.arange(int(7 * 24 * per_hour), n - int(13 * per_hour)), SPIKES, replace=False))
    for s in slots:
        dur_h = float(np.exp(rng.uniform(math.log(min_h), math.log(max_h))))
        length = max(1, round(dur_h * per_hour))
        lift = rng.uniform(1.5, 6.0)
        size = lift * lam[s]  # extra mentions per slot at the peak, relative to the usual rate then
        rise = max(1, length // 4)
        shape = np.concatenate([np.linspace(1 / rise, 1, rise), np.linspace(1, 0.3, length - rise + 1)[1:]])
        end = min(n, s + length)
        extra[s:end] += size * shape[: end - s]
        spikes.append((START + s * step, START + end * step, lift, (end - s) / per_hour))
    shape = SLOT_SHAPE * step / timedelta(minutes=5)
    values = rng.poisson(rng.gamma(shape, (lam + extra) / shape)).astype(float)
    timestamps = [START + i * step for i in range(n)]
    return timestamps, values, spikes


def score(incidents, spikes: list[Spike]) -> tuple[int, set[int]]:
    """(true positives, indices of the spikes found): greedy one-to-one matching of overlapping intervals."""
    found: set[int] = set()
    tp = 0
    for inc in incidents:
        for j, (a, b, _, _) in enumerate(spikes):
            if j not in found and inc.start < b and a < inc.end:
                found.add(j)
                tp += 1
                break
    return tp, found


def is_large(spike: Spike) -> bool:
    """A spike a team must hear about whatever the noise: at least 3x extra over the usual rate, for an hour or more."""
    return spike[2] >= 3.0 and spike[3] >= 1.0


def run(seeds: int, params: DetectorParams = DEFAULT, show_params: bool = True) -> None:
    if show_params:
        print(f"machine: {os.cpu_count()} cores; params: {params}")
    for step in (timedelta(hours=1), timedelta(minutes=5)):
        n_inc = tp = n_spikes = hit = warm_up = large = large_hit = points = 0
        elapsed = 0.0
        for seed in range(seeds):
            ts, values, spikes = make_series(seed, step)
            t0 = time.perf_counter()
            incidents = detect_incidents(ts, values, params)
            elapsed += time.perf_counter() - t0
            points += len(values)
            t, found = score(incidents, spikes)
            warm_up += sum(1 for inc in incidents if inc.start < START + timedelta(days=params.min_days))
            n_inc += len(incidents)
            tp += t
            hit += len(found)
            n_spikes += len(spikes)
            large += sum(1 for spike in spikes if is_large(spike))
            large_hit += sum(1 for j in found if is_large(spikes[j]))
        print(
            f"interval {str(step):>8}: {seeds} series x {points // seeds} points, {n_spikes} planted spikes, "
            f"{n_inc} incidents ({warm_up} in the warm-up), precision {tp / n_inc if n_inc else 1.0:.3f}, "
            f"recall {hit / n_spikes:.3f} (large spikes, >= 3x for >= 1 h: {large_hit}/{large} = "
            f"{large_hit / large if large else 1.0:.3f}), detector {elapsed / seeds * 1000:.0f} ms per series"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    run(parser.parse_args().seeds)


if __name__ == "__main__":
    main()
