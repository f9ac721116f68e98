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
    assert incident.severity == "high"


def test_daily_peak_is_learned_after_the_first_day() -> None:
    values = noisy(24 * 14)
    values[9::24] += 100  # every day at 09:00
    incidents = detect_incidents(hours(len(values)), values)
    assert all(inc.start < START + timedelta(days=1) for inc in incidents)


def test_min_count_suppresses_tiny_spikes() -> None:
    values = np.zeros(24 * 10)
    values[24 * 8] = 4  # score is huge against a zero baseline, but only 4 mentions
    assert detect_incidents(hours(len(values)), values) == []
    assert len(detect_incidents(hours(len(values)), values, replace(DEFAULT, min_count=3))) == 1


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
    assert [severity(s) for s in (4, 9, 20)] == ["low", "medium", "high"]
    with pytest.raises(ValueError):
        DetectorParams(k=2, exit_k=3)
    with pytest.raises(ValueError, match="regular"):
        detect_incidents([START, START + HOUR, START + 3 * HOUR], [1, 2, 3])
    assert detect_incidents([], []) == []
