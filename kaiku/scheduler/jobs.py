"""The scheduled jobs. Each is a module-level function referenced by its textual name
(`kaiku.scheduler.jobs:check_alerts`), so the SQLAlchemy job store persists a name, not a pickled object; each
builds what it needs from the settings at run time, and returns a one-line result that `kaiku jobs` shows.

Every job but the crawl takes an optional `now` so tests (and operators) can run the logic at a chosen time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from core.config import KaikuConfig, load_config
from core.settings import Settings, get_settings
from crawler.runner import run_crawl
from kaiku.alerts.check import CheckOptions
from kaiku.alerts.check import check_alerts as run_checks
from kaiku.alerts.outbox import deliver_due
from kaiku.alerts.smtp import SmtpConfig, SmtpSender
from kaiku.cases import queue_followup_reminders
from kaiku.crawl_counters import record_crawl
from kaiku.db import open_database
from kaiku.wiring import configured_classifier, crawl_context, crawl_settings_from, ready_store

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from core.polarity import SentimentClassifier


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _config(settings: Settings) -> KaikuConfig:
    # Read on every run: an edited alerts.yaml takes effect at the next check without a restart.
    return load_config(settings.config_dir)


@lru_cache
def _database(url: str) -> Engine:
    return open_database(url)


_classifiers: dict[tuple[str, str | None, str], SentimentClassifier] = {}
_classifier_lock = threading.Lock()


def _classifier(settings: Settings) -> SentimentClassifier:
    """Loaded once per scheduler process, on the first crawl, and shared by every crawl job."""
    key = (settings.sentiment_model, settings.sentiment_labels, settings.device)
    with _classifier_lock:
        if key not in _classifiers:
            _classifiers[key] = configured_classifier(settings)
        return _classifiers[key]


def crawl_source(source_id: str) -> str:
    settings = get_settings()
    config = _config(settings)
    try:
        source = config.source(source_id)
    except KeyError:
        raise LookupError(f"source {source_id!r} is no longer in {settings.config_dir}/sources.yaml") from None
    store = ready_store(settings)
    summary = run_crawl(
        source,
        crawl_context(settings, config.brands, _classifier(settings), store),
        extra_settings=crawl_settings_from(settings),
        allow_private_urls=settings.allow_private_urls,
    )
    record_crawl(_database(settings.resolved_database_url), summary)
    return summary.format().splitlines()[0]


def check_alerts(now: datetime | None = None) -> str:
    settings = get_settings()
    results = run_checks(
        ready_store(settings),
        _database(settings.resolved_database_url),
        _config(settings),
        _now(now),
        CheckOptions.from_settings(settings),
    )
    new = sum(len(r.new) for r in results)
    ongoing = sum(len(r.updated) for r in results)
    emails = sum(r.emails for r in results)
    failed = [r.rule_id for r in results if r.error is not None]
    summary = f"{len(results)} rules: {new} new incidents, {ongoing} ongoing, {emails} emails queued"
    return summary + (f"; not checked: {', '.join(failed)}" if failed else "")


def deliver_outbox(now: datetime | None = None) -> str:
    settings = get_settings()
    report = deliver_due(
        _database(settings.resolved_database_url),
        SmtpSender(SmtpConfig.from_settings(settings)),
        _now(now),
        base=timedelta(seconds=settings.outbox_retry_base_seconds),
        cap=timedelta(seconds=settings.outbox_retry_max_seconds),
    )
    return report.summary()


def followup_reminders(now: datetime | None = None) -> str:
    settings = get_settings()
    queued = queue_followup_reminders(
        _database(settings.resolved_database_url),
        _config(settings),
        _now(now),
        settings.public_api_url,
        settings.smtp_from,
    )
    return f"{len(queued)} reminders queued"


def apply_retention(now: datetime | None = None) -> str:
    settings = get_settings()
    if settings.retention_days is None:
        return "retention off (KAIKU_RETENTION_DAYS unset)"
    cutoff = _now(now) - timedelta(days=settings.retention_days)
    report = ready_store(settings).delete_older_than(cutoff)
    return (
        f"before {cutoff:%Y-%m-%d}: dropped {len(report.indices_dropped)} indices, "
        f"deleted {report.documents_deleted} mentions"
    )
