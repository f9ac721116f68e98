"""The spike detector on small hand-made hourly series."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from kaiku.alerts.detector import DEFAULT, DetectorParams, detect_incidents, severity

pytestmark = pytest.mark.unit

START = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def hours(n: int) -> list[datetime]:
    return [START + i * HOUR for i in range(n)]


def noisy(n: int, mean: float = 20.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(mean, n).astype(float)


def test_flat_series_gives_no_incident() -> None:
    assert detect_incidents(hours(24 * 21), [10.0] * (24 * 21)) == []
    assert detect_incidents(hours(24 * 21), [0.0] * (24 * 21)) == []


def test_noise_alone_gives_no_incident() -> None:
    assert detect_incidents(hours(24 * 28), noisy(24 * 28)) == []


def test_one_spike_gives_one_incident_spanning_it() -> None:
    values = noisy(24 * 14)
    at = 24 * 10 + 5
    values[at : at + 4] += [60, 150, 100, 60]
    [incident] = detect_incidents(hours(len(values)), values)
    assert incident.start == START + at * HOUR
    assert incident.end == START + (at + 4) * HOUR  # exclusive end of the last slot
    assert incident.peak == START + (at + 1) * HOUR
    assert incident.peak_value == values[at + 1]
    assert incident.score >= DEFAULT.k
    assert 15 <= incident.baseline <= 25
    assert incident.severity == severity(incident.score) != "low"


def test_daily_peak_is_learned_after_the_first_day() -> None:
    values = noisy(24 * 14)
    values[9::24] += 100  # every day at 09:00
    incidents = detect_incidents(hours(len(values)), values)
    assert all(inc.start < START + timedelta(days=1) for inc in incidents)


def test_min_count_suppresses_tiny_spikes() -> None:
    values = np.zeros(24 * 10)
    values[24 * 8] = 8  # far above a zero baseline, but only 8 mentions
    assert detect_incidents(hours(len(values)), values, replace(DEFAULT, min_count=10)) == []
    assert len(detect_incidents(hours(len(values)), values, replace(DEFAULT, min_count=5))) == 1


def test_cooldown_merges_a_second_spike_right_after_the_first() -> None:
    values = noisy(24 * 14)
    first = 24 * 10
    values[first] += 150
    values[first + 2] += 150  # one quiet hour between the two
    ts = hours(len(values))
    [incident] = detect_incidents(ts, values, replace(DEFAULT, cooldown=timedelta(hours=3)))
    assert incident.start == ts[first] and incident.end == ts[first + 3]
    assert len(detect_incidents(ts, values, replace(DEFAULT, cooldown=timedelta(0)))) == 2


def test_no_lookahead() -> None:
    values = noisy(24 * 21, seed=3)
    for at in (24 * 8, 24 * 12 + 7, 24 * 17 + 20):
        values[at : at + 3] += 120
    ts = hours(len(values))
    full = detect_incidents(ts, values)
    assert len(full) == 3
    for cut in (24 * 8 + 1, 24 * 12 + 8, 24 * 15):
        early = detect_incidents(ts[:cut], values[:cut])
        assert [i.start for i in early] == [i.start for i in full if i.start < ts[cut]]


def test_severity_and_params_validation() -> None:
    assert [severity(s) for s in (5, 12, 25)] == ["low", "medium", "high"]
    with pytest.raises(ValueError):
        DetectorParams(k=2, exit_k=3)
    with pytest.raises(ValueError, match="regular"):
        detect_incidents([START, START + HOUR, START + 3 * HOUR], [1, 2, 3])
    assert detect_incidents([], []) == []


def test_no_incident_during_the_warm_up() -> None:
    values = noisy(24 * 10)
    values[30:33] += 200  # day 2: no baseline with enough history yet
    values[24 * 6 : 24 * 6 + 3] += 200
    [incident] = detect_incidents(hours(len(values)), values)
    assert incident.start == START + 24 * 6 * HOUR


def overdispersed(n: int, seed: int = 0) -> np.ndarray:
    """Negative binomial counts (variance mean + mean^2 / 5) around a daily cycle, as real mention volume."""
    rng = np.random.default_rng(seed)
    mean = 40 * (1 + 0.6 * np.sin(np.arange(n) / 288 * 2 * np.pi))
    return rng.poisson(rng.gamma(5.0, mean / 5.0)).astype(float)


def test_overdispersed_noise_is_learned_and_a_single_burst_does_not_fire() -> None:
    step = timedelta(minutes=5)
    values = overdispersed(288 * 14)
    ts = [START + i * step for i in range(len(values))]
    assert detect_incidents(ts, values) == []  # a Poisson floor would fire on this noise many times
    burst = values.copy()
    burst[288 * 10] += 400  # one slot, ten times the usual: the long window keeps it from firing
    assert detect_incidents(ts, burst) == []
    episode = values.copy()
    episode[288 * 10 : 288 * 10 + 30] += 150  # two and a half hours at several times the usual
    [incident] = detect_incidents(ts, episode)
    assert ts[288 * 10] <= incident.start <= ts[288 * 10 + 24]


def test_min_lift_asks_for_practical_significance() -> None:
    values = np.full(24 * 14, 10000.0)
    values[24 * 10 : 24 * 10 + 3] = 11500  # statistically far off a flat series, but only +15%
    assert detect_incidents(hours(len(values)), values) == []
    assert len(detect_incidents(hours(len(values)), values, replace(DEFAULT, min_lift=1.1, min_lift_long=1.1))) == 1


def test_alert_budget_holds_back_spikes_and_says_how_many() -> None:
    values = noisy(24 * 21)
    for day in (8, 9, 10, 11, 16):
        values[24 * day + 12 : 24 * day + 15] += 150
    ts = hours(len(values))
    assert len(detect_incidents(ts, values)) == 5
    budgeted = detect_incidents(ts, values, replace(DEFAULT, max_per_week=2))
    assert [inc.start.day for inc in budgeted] == [9, 10, 17]  # days 8 and 9 used the budget; 10 and 11 held back
    assert [inc.held_back for inc in budgeted] == [0, 0, 2]
