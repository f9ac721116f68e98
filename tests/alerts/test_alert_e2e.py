"""The issue's "done when": angry mentions burst in the real local engine, the check runs, and exactly one email
arrives at a real SMTP server; checks within the cooldown send none; an SMTP outage delays but loses nothing."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from sqlalchemy import Engine, select

from core.config import KaikuConfig, load_config
from indexer.es_store import ElasticsearchMentionStore
from kaiku.alerts.check import CheckOptions, check_alerts
from kaiku.alerts.outbox import deliver_due, list_outbox
from kaiku.alerts.smtp import SmtpSender
from kaiku.db import incidents, open_database
from tests.alerts.conftest import SmtpServer, every, index_mentions

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 12, 40, tzinfo=UTC)
OPTIONS = CheckOptions(history=timedelta(days=7), api_base="https://kaiku.example/api", sender="kaiku@test.example")
HOSTILE = '<script>alert("x")</script> Awful & "rude" staff'


@pytest.fixture
def config(config_dir: Path) -> KaikuConfig:
    return load_config(config_dir)  # the shipped rules: revontuli-anger, 1 h windows, min 5, cooldown 6 h


def seed_background_and_burst(es: Elasticsearch, alias: str) -> None:
    # Three quiet days: one angry mention every 5 hours; then 12 in the 40 minutes before NOW.
    background = every(NOW - timedelta(days=3), NOW - timedelta(hours=2), timedelta(hours=5))
    burst = every(NOW - timedelta(minutes=40), NOW, timedelta(minutes=3, seconds=20))
    index_mentions(es, alias, "revontuli", background)
    texts = [f"Burst {n}: cold room, nobody at the desk" for n in range(len(burst) - 1)] + [HOSTILE]
    index_mentions(es, alias, "revontuli", burst, texts=texts)  # the newest one is hostile HTML
    index_mentions(es, alias, "tunturi", background)  # the other brand stays quiet


def test_burst_sends_exactly_one_email_and_cooldown_sends_none(
    es: Elasticsearch, alias: str, db: Engine, config: KaikuConfig, smtp_server: SmtpServer
) -> None:
    seed_background_and_burst(es, alias)

    first = {r.rule_id: r for r in check_alerts(ElasticsearchMentionStore(es, alias), db, config, NOW, OPTIONS)}
    assert first["revontuli-anger"].new and first["revontuli-anger"].emails == 1
    assert not first["tunturi-anger"].new and first["tunturi-anger"].emails == 0
    report = deliver_due(db, SmtpSender(smtp_server.config), NOW)
    assert len(report.sent) == 1

    assert len(smtp_server.inbox.received) == 1
    recipients, message = smtp_server.inbox.received[0]
    assert recipients == ["cx-team@revontuli.example"]
    assert "Revontuli Hotels" in message["Subject"] and "12 in 1 h" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    page = message.get_body(preferencelist=("html",)).get_content()
    assert "Since: 2026-11-20 12:00 UTC" in text
    assert "https://reviews.example/revontuli/anger/" in text  # the mentions, with links
    link = (
        "https://kaiku.example/api/v1/mentions?brand=revontuli&experience=anger&from=2026-11-20T12%3A00%3A00%2B00%3A00"
    )
    assert link in text and link.replace("&", "&amp;") in page
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert HOSTILE in text  # the text part carries it verbatim: plain text cannot execute
    # The chart travels inside the email (multipart/related, by Content-ID): nothing is fetched when it is opened.
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n" and f"cid:{image['Content-ID'].strip('<>')}" in page
    assert "Most intense angry mentions" in page and "POST https://kaiku.example/api/v1/cases" in page

    # Twenty minutes later the spike goes on: the same incident is updated, no second email.
    index_mentions(es, alias, "revontuli", every(NOW, NOW + timedelta(minutes=20), timedelta(minutes=4)))
    second = {
        r.rule_id: r
        for r in check_alerts(ElasticsearchMentionStore(es, alias), db, config, NOW + timedelta(minutes=20), OPTIONS)
    }
    assert second["revontuli-anger"].updated == first["revontuli-anger"].new
    assert second["revontuli-anger"].new == [] and second["revontuli-anger"].emails == 0
    assert deliver_due(db, SmtpSender(smtp_server.config), NOW + timedelta(minutes=20)).sent == []
    assert len(smtp_server.inbox.received) == 1

    # Quiet again: the incident closes.
    third = {
        r.rule_id: r
        for r in check_alerts(ElasticsearchMentionStore(es, alias), db, config, NOW + timedelta(hours=3), OPTIONS)
    }
    assert third["revontuli-anger"].closed == first["revontuli-anger"].new

    # A second burst four hours later is within the 6 h cooldown: the incident reopens, still one email.
    later = NOW + timedelta(hours=4)
    index_mentions(es, alias, "revontuli", every(later - timedelta(minutes=30), later, timedelta(minutes=3)))
    fourth = {r.rule_id: r for r in check_alerts(ElasticsearchMentionStore(es, alias), db, config, later, OPTIONS)}
    assert fourth["revontuli-anger"].updated == first["revontuli-anger"].new and fourth["revontuli-anger"].emails == 0
    with db.connect() as conn:
        rows = conn.execute(select(incidents)).all()
    assert len(rows) == 1 and rows[0].status == "open"
    assert deliver_due(db, SmtpSender(smtp_server.config), later).sent == []
    assert len(smtp_server.inbox.received) == 1


def test_smtp_down_keeps_the_email_until_delivered_once(
    es: Elasticsearch, alias: str, tmp_path: Path, config: KaikuConfig, smtp_server: SmtpServer
) -> None:
    seed_background_and_burst(es, alias)
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = open_database(url)
    smtp_server.stop()  # the mail server is down when the spike is found
    assert check_alerts(ElasticsearchMentionStore(es, alias), db, config, NOW, OPTIONS)[0].emails == 1

    down = deliver_due(db, SmtpSender(smtp_server.config), NOW, base=timedelta(seconds=30))
    assert down.sent == [] and len(down.deferred) == 1
    [row] = list_outbox(db)
    assert row["status"] == "pending" and row["attempts"] == 1 and "cannot connect" in row["last_error"]
    assert row["next_attempt_at"] == NOW + timedelta(seconds=30)
    # Still down a minute later: the second wait doubles.
    deliver_due(db, SmtpSender(smtp_server.config), NOW + timedelta(seconds=30), base=timedelta(seconds=30))
    [row] = list_outbox(db)
    assert row["attempts"] == 2 and row["next_attempt_at"] == NOW + timedelta(seconds=90)

    # The process restarts (a new engine on the same file) and the server comes back.
    db.dispose()
    db = open_database(url)
    smtp_server.start()
    assert deliver_due(db, SmtpSender(smtp_server.config), NOW + timedelta(seconds=60)).sent == []  # not due yet
    assert len(deliver_due(db, SmtpSender(smtp_server.config), NOW + timedelta(seconds=90)).sent) == 1
    assert len(smtp_server.inbox.received) == 1
    # Nothing is sent twice: not by another delivery run, not by the next check of the same spike.
    assert (
        check_alerts(ElasticsearchMentionStore(es, alias), db, config, NOW + timedelta(minutes=5), OPTIONS)[0].emails
        == 0
    )
    assert deliver_due(db, SmtpSender(smtp_server.config), NOW + timedelta(hours=2)).sent == []
    assert len(smtp_server.inbox.received) == 1
    [row] = list_outbox(db)
    assert row["status"] == "sent" and row["attempts"] == 3
    db.dispose()


def test_each_recipient_gets_the_email_in_their_language(
    es: Elasticsearch, alias: str, db: Engine, tmp_path: Path, config_dir: Path, smtp_server: SmtpServer
) -> None:
    edited = tmp_path / "configs"
    shutil.copytree(config_dir, edited)
    (edited / "alerts.yaml").write_text(
        "alerts:\n  - id: revontuli-anger\n    brand: revontuli\n"
        "    recipients: [cx@revontuli.example, johtaja@revontuli.example]\n"
        "    recipient_languages: {johtaja@revontuli.example: fi}\n"
    )
    seed_background_and_burst(es, alias)
    [result] = check_alerts(ElasticsearchMentionStore(es, alias), db, load_config(edited), NOW, OPTIONS)
    assert result.emails == 2
    assert len(deliver_due(db, SmtpSender(smtp_server.config), NOW).sent) == 2
    subjects = {to[0]: message["Subject"].strip() for to, message in smtp_server.inbox.received}
    assert subjects["cx@revontuli.example"].startswith("[Kaiku] Spike of angry mentions: Revontuli Hotels")
    assert subjects["johtaja@revontuli.example"].startswith("[Kaiku] Piikki vihaisten asiakkaiden maininnoissa")


def test_the_chart_is_drawn_once_per_incident_outside_the_transaction(
    es: Elasticsearch, alias: str, db: Engine, tmp_path: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kaiku.alerts import chart

    edited = tmp_path / "configs"
    shutil.copytree(config_dir, edited)
    (edited / "alerts.yaml").write_text(
        "alerts:\n  - id: revontuli-anger\n    brand: revontuli\n"
        "    recipients: [cx@revontuli.example, johtaja@revontuli.example, yo@revontuli.example]\n"
        "    recipient_languages: {johtaja@revontuli.example: fi}\n"
    )
    drawn = []
    draw = chart.spike_chart

    def spike_chart_checking_the_lock(*args: object) -> bytes:
        # Another writer gets the database at once: the check holds no write transaction while drawing.
        other = sqlite3.connect(db.url.database or "", timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
        finally:
            other.close()
        drawn.append(args)
        return draw(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(chart, "spike_chart", spike_chart_checking_the_lock)
    seed_background_and_burst(es, alias)
    [first] = check_alerts(ElasticsearchMentionStore(es, alias), db, load_config(edited), NOW, OPTIONS)
    assert first.new and first.emails == 3 and len(drawn) == 1  # three recipients, two languages, one chart
    # The spike goes on: the next check updates the incident and draws nothing.
    index_mentions(es, alias, "revontuli", every(NOW, NOW + timedelta(minutes=20), timedelta(minutes=4)))
    [second] = check_alerts(
        ElasticsearchMentionStore(es, alias), db, load_config(edited), NOW + timedelta(minutes=20), OPTIONS
    )
    assert second.updated == first.new and len(drawn) == 1
