"""Bad alert rules: config loading refuses a window that is zero, too short or absurd with a clear error; a rule
that still fails at check time is logged and skipped while the other rules are checked."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from sqlalchemy import Engine

from core.config import AlertRule, ConfigError, load_config
from indexer.es_store import ElasticsearchMentionStore
from kaiku.alerts.check import CheckOptions, check_alerts
from tests.alerts.conftest import every, index_mentions

NOW = datetime(2026, 11, 20, 12, 40, tzinfo=UTC)
RULE = "alerts:\n  - id: r1\n    brand: revontuli\n    recipients: [cx@revontuli.example]\n"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("window: 0m", "alerts.0.window: Value error, window must be between 5m and 90d, got '0m'"),
        ("window: 4m", "window must be between 5m and 90d, got '4m'"),
        ("window: 91d", "window must be between 5m and 90d, got '91d'"),
        ("window: 99999999999999999999d", "window must look like '30m', '6h' or '1d' (between 5m and 90d)"),
        ("window: -5m", "window must look like"),
        ("cooldown: 0m", "cooldown must be between 1m and 90d, got '0m'"),
        ("max_per_week: 0", "max_per_week: Input should be greater than or equal to 1"),
    ],
)
def test_config_refuses_bad_windows(tmp_path: Path, config_dir: Path, line: str, message: str) -> None:
    shutil.copytree(config_dir, tmp_path / "c")
    (tmp_path / "c" / "alerts.yaml").write_text(RULE + f"    {line}\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c")
    assert "alerts.yaml" in str(info.value) and message in str(info.value)


@pytest.mark.unit
def test_config_accepts_the_bounds(tmp_path: Path, config_dir: Path) -> None:
    shutil.copytree(config_dir, tmp_path / "c")
    (tmp_path / "c" / "alerts.yaml").write_text(RULE + "    window: 5m\n    cooldown: 90d\n    max_per_week: 2\n")
    [rule] = load_config(tmp_path / "c").alerts
    assert (rule.window, rule.cooldown, rule.max_per_week) == ("5m", "90d", 2)


@pytest.mark.integration
def test_a_rule_failing_at_check_time_is_logged_and_skipped(
    es: Elasticsearch, alias: str, db: Engine, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(config_dir)  # the shipped rules: revontuli-anger, tunturi-anger
    # A rule that slipped past validation (an older file, a hand-built config): it breaks in the check itself.
    broken = AlertRule.model_construct(**{**config.alerts[0].model_dump(), "id": "broken", "window": "0m"})
    config = config.model_copy(update={"alerts": [broken, *config.alerts]})
    # Three quiet days of history (a brand without any gets the warm-up), then a burst.
    index_mentions(es, alias, "revontuli", every(NOW - timedelta(days=3), NOW - timedelta(hours=2), timedelta(hours=5)))
    index_mentions(es, alias, "revontuli", every(NOW - timedelta(minutes=40), NOW, timedelta(minutes=3)))
    with caplog.at_level(logging.ERROR, logger="kaiku.alerts.check"):
        results = check_alerts(
            ElasticsearchMentionStore(es, alias), db, config, NOW, CheckOptions(history=timedelta(days=7))
        )
    by_id = {r.rule_id: r for r in results}
    assert list(by_id) == ["broken", "revontuli-anger", "tunturi-anger"]
    assert by_id["broken"].error is not None and "0m" in by_id["broken"].error
    assert by_id["broken"].summary().startswith("broken: NOT CHECKED: ValueError")
    assert by_id["revontuli-anger"].error is None and len(by_id["revontuli-anger"].new) == 1
    assert by_id["tunturi-anger"].error is None
    assert "alert rule broken could not be checked" in caplog.text
