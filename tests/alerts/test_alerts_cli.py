"""`kaiku alerts check`, `deliver` and `outbox` as a user runs them, against the real engine and SMTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from cli import app
from core.settings import get_settings
from kaiku.local_engine import LocalEngine
from tests.alerts.conftest import SmtpServer, every, index_mentions
from tests.alerts.test_alert_e2e import NOW

pytestmark = pytest.mark.integration


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, engine: LocalEngine, alias: str) -> Iterator:
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KAIKU_ELASTICSEARCH_URL", engine.url)
    monkeypatch.setenv("KAIKU_INDEX_ALIAS", alias)

    def invoke(*args: str, **env: str):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args))

    yield invoke
    get_settings.cache_clear()


def test_check_then_outbox(run, es: Elasticsearch, alias: str, smtp_server: SmtpServer) -> None:
    # Three days of history (two are the detector's warm-up), then a burst.
    index_mentions(es, alias, "tunturi", every(NOW - timedelta(days=3), NOW - timedelta(hours=2), timedelta(hours=7)))
    index_mentions(es, alias, "tunturi", every(NOW - timedelta(minutes=30), NOW, timedelta(minutes=3)))
    smtp = {"KAIKU_SMTP_PORT": str(smtp_server.port), "KAIKU_SMTP_FROM": "kaiku@test.example"}

    result = run("alerts", "check", "--now", NOW.isoformat(), **smtp)
    assert result.exit_code == 0, result.output
    assert "tunturi-anger: 10 in the current window; incidents new [1]" in result.output
    assert "emails queued 1" in result.output and "outbox: sent 1, deferred 0, failed 0" in result.output
    [(recipients, message)] = smtp_server.inbox.received
    assert recipients == ["asiakaskokemus@tunturi.example"]
    assert "Piikki vihaisten asiakkaiden maininnoissa: Tunturi Inn" in message["Subject"]  # the rule says fi

    again = run("alerts", "check", "--now", (NOW + timedelta(minutes=5)).isoformat(), **smtp)
    assert "incidents new -, ongoing [1]" in again.output and "emails queued 0" in again.output

    listed = run("alerts", "outbox", "--json")
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["status"], r["recipient"], r["attempts"]) for r in rows] == [
        ("sent", "asiakaskokemus@tunturi.example", 1)
    ]
    assert "sent" in run("alerts", "outbox").output
    incidents = run("alerts", "incidents").output
    assert "#1 open   tunturi-anger  2026-11-20 12:00-13:00Z  peak 10 vs 0.0" in incidents, incidents


def test_bad_input_is_a_message(run) -> None:
    result = run("alerts", "check", "--now", "yesterday")
    assert result.exit_code == 2 and "--now: not an ISO 8601 time" in result.output
    result = run("alerts", "check", "--rule", "nope")
    assert result.exit_code == 2 and "unknown alert rule(s) nope" in result.output
    result = run("alerts", "outbox", "--status", "lost")
    assert result.exit_code == 2 and "--status must be one of" in result.output
    result = run("alerts", "outbox", KAIKU_DATABASE_URL="nosuchdb://x")
    assert result.exit_code == 2 and "cannot open the database" in result.output
