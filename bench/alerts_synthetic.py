"""Precision and recall of the spike detector on synthetic series with planted spikes, news days and decoys.

    python bench/alerts_synthetic.py [--seeds 20]

Each series: 8 weeks of mention counts at 1 h and at 5 min intervals, with daily and weekly seasonality and the
noise real mention counts show (variance far above the mean, news in clusters). The sizes come from the four
labelled NAB Twitter series, measured as the detector sees them (`python bench/alerts_real.py DATA_DIR` prints
the measurement; bench/alerts_lifts.py): the peak lift of the 2 h window over its baseline and the hours it stays
at least 1.5x.

* Level: mean 50-1,000 mentions/hour (log-uniform; the real series: 53-1,027).
* Noise, the part that must NOT fire: a gamma-Poisson (negative binomial) count per 5 minutes, an hour-level gamma
  factor (sd 18%), a day-level factor (lognormal, 15%), clustered **news days** (a day starts a news episode with
  probability 0.08, an episode goes on to the next day with probability 0.5; a news day has 1.3-1.8x the volume
  all day long) and short **news bursts** (one a day on average, three on a news day; 15 min-3 h, peak 1.5-4x).
  Measured like the real ones, the synthetic ordinary days peak at a 2 h lift of median 1.5 (90th percentile
  2.8-3.0; the real ordinary days, outside the labelled windows: 1.8 and 3.8). An incident that overlaps no
  planted spike is a false positive; those that start on a news day are counted apart.
* Decoys that must not alert either: a daily 09:00 newsletter hour (x2.5) and a Monday 10:00 digest (x3).
* **Planted spikes are drawn like the real labelled ones**: 8 per series, after the first week, on different days;
  peak 2 h lift log-uniform 2.4-31x over the usual rate (the 10th-90th percentile of the real labelled spikes,
  median 7.8x), lasting 2-24 h (log-uniform; the real ones stay >= 1.5x for 2.3-27 h, 10th-90th percentile),
  fast rise, slower decay. Measured back through the detector's baseline (which lags the weekly cycle in the first
  weeks) they come out a little smaller: median 6.7-7.1x.

An incident is a true positive if it overlaps a planted spike not already matched; every planted spike is found
at most once.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from alerts_lifts import Lifts, describe, lifts_in, ordinary_days, two_windows

from kaiku.alerts.detector import DEFAULT, DetectorParams, Incident, detect_incidents

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
WEEKS = 8
SPIKES = 8
SEEDS = 20  # series per interval: with fewer, recall moves by several points from one set of seeds to the next
MEAN_PER_HOUR = (50.0, 1000.0)  # log-uniform: the real series' means are 53-1,027 mentions/hour
SPIKE_LIFT = (2.4, 31.0)  # peak 2 h lift, log-uniform: 10th-90th percentile of the real labelled spikes
SPIKE_HOURS = (2.0, 24.0)  # duration, log-uniform: the real labelled spikes stay >= 1.5x for 2.3-27 h
LONG_WINDOW = timedelta(hours=2)  # the window the lift is measured on (the detector's long window)


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
# Short news bursts (a post quoted for a while), more on news days: sized so that ordinary days peak as the real
# ones do outside their labelled windows (2 h lift median 1.8, 90th percentile 3.8).
BURSTS_PER_DAY, BURSTS_PER_NEWS_DAY = 1.0, 3.0
BURST_LIFT, BURST_HOURS = (1.5, 4.0), (0.25, 3.0)  # log-uniform


def day_factors(rng: np.random.Generator, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day: ordinary variation times a news multiplier on days of a news episode (clustered); and which days
    are news days."""
    factors = np.exp(rng.normal(0.0, DAY_SIGMA, days))
    news = np.zeros(days, dtype=bool)
    for day in range(days):
        news[day] = rng.random() < (NEWS_STAY if day and news[day - 1] else NEWS_START)
        if news[day]:
            factors[day] *= rng.uniform(*NEWS_LIFT)
    return factors, news


@dataclass(frozen=True)
class Spike:
    start: datetime
    end: datetime  # exclusive
    lift: float  # planted peak lift of the 2 h window over the usual rate
    hours: float


@dataclass(frozen=True)
class Series:
    timestamps: list[datetime]
    values: np.ndarray
    spikes: list[Spike]
    news_days: np.ndarray  # per day since START: a news day?

    def on_news_day(self, when: datetime) -> bool:
        return bool(self.news_days[min((when - START) // timedelta(days=1), len(self.news_days) - 1)])


def log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def spike_shape(length: int, long_slots: int) -> np.ndarray:
    """Fast rise over the first quarter, slower decay to 0.3; scaled so that its highest mean over the long window
    (or over the whole spike, if shorter) is 1: then extra = (lift - 1) x usual gives a 2 h lift of about `lift`."""
    rise = max(1, length // 4)
    shape = np.concatenate([np.linspace(1 / rise, 1, rise), np.linspace(1, 0.3, length - rise + 1)[1:]])
    width = min(long_slots, length)
    return shape / np.convolve(shape, np.ones(width) / width, mode="valid").max()


def make_series(seed: int, step: timedelta) -> Series:
    rng = np.random.default_rng(seed)
    per_hour = timedelta(hours=1) / step
    per_day = int(24 * per_hour)
    n = WEEKS * 7 * per_day
    hours = np.arange(n) / per_hour
    usual = rate_per_hour(hours, log_uniform(rng, MEAN_PER_HOUR)) / per_hour
    hour_noise = rng.gamma(HOUR_SHAPE, 1 / HOUR_SHAPE, WEEKS * 7 * 24)[hours.astype(int)]
    factors, news_days = day_factors(rng, WEEKS * 7)
    lam = usual * hour_noise * factors[(hours // 24).astype(int)]
    extra = np.zeros(n)
    long_slots = max(1, round(LONG_WINDOW / step))
    for day in range(WEEKS * 7):
        for _ in range(rng.poisson(BURSTS_PER_NEWS_DAY if news_days[day] else BURSTS_PER_DAY)):
            s = int(day * per_day + rng.integers(0, per_day))
            length = max(1, round(log_uniform(rng, BURST_HOURS) * per_hour))
            end = min(n, s + length)
            extra[s:end] += (
                (log_uniform(rng, BURST_LIFT) - 1.0) * usual[s:end] * spike_shape(length, long_slots)[: end - s]
            )
    spikes = []
    # One spike per chosen day, every other day at most, so that no two overlap (the longest lasts a day).
    days = np.sort(rng.choice(np.arange(7, WEEKS * 7 - 1, 2), SPIKES, replace=False))
    for day in days:
        s = int(day * per_day + rng.integers(0, per_day))
        length = max(1, round(log_uniform(rng, SPIKE_HOURS) * per_hour))
        lift = log_uniform(rng, SPIKE_LIFT)
        end = min(n, s + length)
        extra[s:end] += (lift - 1.0) * usual[s:end] * spike_shape(length, long_slots)[: end - s]
        spikes.append(Spike(START + s * step, START + end * step, lift, (end - s) / per_hour))
    shape_k = SLOT_SHAPE * step / timedelta(minutes=5)
    values = rng.poisson(rng.gamma(shape_k, (lam + extra) / shape_k)).astype(float)
    timestamps = [START + i * step for i in range(n)]
    return Series(timestamps, values, spikes, news_days)


def match(incidents: list[Incident], spikes: list[Spike]) -> tuple[set[int], list[Incident]]:
    """(indices of the spikes found, incidents that overlap no planted spike): greedy one-to-one matching."""
    found: set[int] = set()
    false = []
    for inc in incidents:
        overlapping = [j for j, sp in enumerate(spikes) if inc.start < sp.end and sp.start < inc.end]
        fresh = [j for j in overlapping if j not in found]
        if fresh:
            found.add(fresh[0])
        elif not overlapping:
            false.append(inc)
    return found, false


def run(seeds: int, params: DetectorParams = DEFAULT, show_params: bool = True) -> None:
    if show_params:
        print(f"machine: {os.cpu_count()} cores; params: {params}")
    weeks = WEEKS - params.min_days / 7  # scored time: after the warm-up
    for step in (timedelta(hours=1), timedelta(minutes=5)):
        n_inc = n_spikes = hit = false = false_news = points = 0
        elapsed = 0.0
        planted: list[Lifts] = []
        ordinary: list[Lifts] = []
        for seed in range(seeds):
            series = make_series(seed, step)
            t0 = time.perf_counter()
            incidents = detect_incidents(series.timestamps, series.values.tolist(), params)
            elapsed += time.perf_counter() - t0
            points += len(series.values)
            found, wrong = match(incidents, series.spikes)
            n_inc += len(incidents)
            hit += len(found)
            n_spikes += len(series.spikes)
            false += len(wrong)
            false_news += sum(1 for inc in wrong if series.on_news_day(inc.start))
            windows = two_windows(series.timestamps, series.values, params)
            for sp in series.spikes:
                lifts = lifts_in(series.timestamps, windows, sp.start, sp.end, params)
                if lifts is not None:
                    planted.append(lifts)
            ordinary += ordinary_days(series.timestamps, windows, [(sp.start, sp.end) for sp in series.spikes], params)
        precision = (n_inc - false) / n_inc if n_inc else 1.0
        print(
            f"interval {str(step):>8}: {seeds} series x {points // seeds} points, {n_spikes} planted spikes, "
            f"{n_inc} incidents, recall {hit / n_spikes:.3f}, precision {precision:.3f}; false incidents "
            f"{false} ({false / seeds / weeks:.2f} per series per week), on news days {false_news} "
            f"({false_news / seeds / weeks:.2f} per series per week); detector {elapsed / seeds * 1000:.0f} ms "
            f"per series"
        )
        print("  " + describe("planted spikes, as measured", planted))
        print("  " + describe("ordinary days, news included", ordinary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=SEEDS)
    run(parser.parse_args().seeds)


if __name__ == "__main__":
    main()
