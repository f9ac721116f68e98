"""A brand (or rule) with no history gets the detector's warm-up: the slots before its first mention are missing
history, not zeros, so its first day of ordinary volume is not a spike."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from elasticsearch import Elasticsearch
from sqlalchemy import Engine

from core.config import load_config
from indexer.es_store import ElasticsearchMentionStore
from kaiku.alerts.check import CheckOptions, check_alerts
from kaiku.alerts.counts import count_series, slot_start
from kaiku.alerts.detector import detect_incidents, usual_band
from tests.alerts.conftest import every, index_mentions

NOW = datetime(2026, 11, 20, 12, 40, tzinfo=UTC)
HOUR = timedelta(hours=1)
OPTIONS = CheckOptions(history=timedelta(days=28))  # the production default


@pytest.mark.unit
def test_leading_missing_history_is_a_warm_up_not_zeros() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    timestamps = [start + i * HOUR for i in range(24 * 28)]
    ordinary = np.random.default_rng(0).poisson(20, 24 * 28).astype(float)
    ordinary[: 24 * 27] = 0.0  # 27 days of zeros, then a first day of ordinary volume
    assert detect_incidents(timestamps, ordinary), "zeros are history: the first ordinary day is a spike"
    unknown = ordinary.copy()
    unknown[: 24 * 27] = math.nan  # the same, but the brand did not exist: nothing to compare with yet
    assert detect_incidents(timestamps, unknown) == []
    usual, _ = usual_band(timestamps, unknown)
    assert np.isnan(usual).all()
    with pytest.raises(ValueError, match="only before the first known value"):
        detect_incidents(timestamps, [1.0, math.nan, *unknown[2:]])


@pytest.mark.integration
def test_a_brand_first_mentioned_today_does_not_fire_on_its_first_ordinary_burst(
    es: Elasticsearch, alias: str, db: Engine, config_dir: Path
) -> None:
    config = load_config(config_dir)  # the shipped rules: revontuli-anger and tunturi-anger, 1 h windows, min 5
    # Tunturi is new today: from 08:00 on, eight angry mentions an hour, its ordinary volume.
    index_mentions(es, alias, "tunturi", every(NOW - timedelta(hours=4, minutes=40), NOW, timedelta(minutes=7.5)))
    # Revontuli has three quiet days of history, then a burst: the check does fire where history exists.
    index_mentions(es, alias, "revontuli", every(NOW - timedelta(days=3), NOW - 2 * HOUR, timedelta(hours=5)))
    index_mentions(es, alias, "revontuli", every(NOW - timedelta(minutes=40), NOW, timedelta(minutes=3)))

    series = count_series(ElasticsearchMentionStore(es, alias), "tunturi", "anger", NOW, HOUR, OPTIONS.history)
    known = [v for v in series.values if not math.isnan(v)]
    assert known == [8, 8, 8, 8, 6]  # 08:00 .. 12:00 (still filling)
    assert all(math.isnan(v) for v in series.values[: -len(known)])
    zero_filled = [0.0 if math.isnan(v) else v for v in series.values]
    assert detect_incidents(series.timestamps, zero_filled), "read as 28 days of zeros, today would be a spike"

    results = {r.rule_id: r for r in check_alerts(ElasticsearchMentionStore(es, alias), db, config, NOW, OPTIONS)}
    assert results["tunturi-anger"].error is None and results["tunturi-anger"].new == []
    assert results["revontuli-anger"].error is None and len(results["revontuli-anger"].new) == 1


@pytest.mark.integration
def test_zero_slots_after_the_brand_first_mention_are_real_zeros(es: Elasticsearch, alias: str) -> None:
    # The brand was first mentioned three days ago with delight; no angry mention since: anger is zero, not unknown.
    index_mentions(es, alias, "tunturi", [NOW - timedelta(days=3)], experience="delight")
    series = count_series(ElasticsearchMentionStore(es, alias), "tunturi", "anger", NOW, HOUR, OPTIONS.history)
    first = series.timestamps.index(slot_start(NOW - timedelta(days=3), HOUR))
    assert all(math.isnan(v) for v in series.values[:first])
    assert series.values[first:] == [0.0] * (len(series.values) - first)
