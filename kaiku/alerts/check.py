"""The alert check: per rule, count outliers in the index, run the detector, keep incidents, queue emails.

`check_alerts(...)` is what `kaiku alerts check` and the scheduler's spike-check job call, with an explicit `now`
so that tests and backfills control the clock.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from core.config import AlertRule, KaikuConfig, config_interval
from core.settings import Settings
from indexer.queries import MentionFilters, SortName
from indexer.store import MentionStore
from kaiku.alerts.counts import CountSeries, count_series
from kaiku.alerts.detector import DEFAULT, DetectorParams, Incident, detect_incidents, usual_band
from kaiku.alerts.incidents import continues, latest_incident, reconcile
from kaiku.alerts.messages import AlertFacts, build_message, duration_text, mentions_query_url, render_alert
from kaiku.alerts.outbox import enqueue

TOP_MENTIONS = 5
INTENSE_MENTIONS = 3
CHART_DAYS = 3  # the email's chart shows this much history before now
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOptions:
    history: timedelta = timedelta(days=28)  # counts read per check, for the seasonal baseline
    api_base: str = "http://127.0.0.1:8000"  # links in the emails
    sender: str = "kaiku@localhost"
    detector: DetectorParams = DEFAULT  # min_count and cooldown come from each rule

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckOptions:
        return cls(
            history=timedelta(days=settings.alert_history_days),
            api_base=settings.public_api_url,
            sender=settings.smtp_from,
        )


@dataclass
class RuleCheck:
    rule_id: str
    current: float  # count in the current (still filling) slot
    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    emails: int = 0
    error: str | None = None  # the rule could not be checked: logged and skipped, the other rules still run

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.rule_id}: NOT CHECKED: {self.error}"
        return (
            f"{self.rule_id}: {self.current:g} in the current window; incidents new {self.new or '-'}, "
            f"ongoing {self.updated or '-'}, closed {self.closed or '-'}; emails queued {self.emails}"
        )


def rule_params(rule: AlertRule, base: DetectorParams = DEFAULT) -> DetectorParams:
    return replace(
        base, min_count=float(rule.min_count), cooldown=config_interval(rule.cooldown), max_per_week=rule.max_per_week
    )


def _chart(series: CountSeries, params: DetectorParams, incident: Incident, label: str) -> bytes:
    from kaiku.alerts.chart import spike_chart  # matplotlib loads in seconds: only when there is a spike to draw

    usual, threshold = usual_band(series.timestamps, series.values, params)
    first = max(0, len(series.timestamps) - int(timedelta(days=CHART_DAYS) / series.step))
    return spike_chart(
        series.timestamps[first:],
        series.values[first:],
        usual[first:],
        threshold[first:],
        incident.start,
        max(incident.end, series.current_slot + series.step),
        label,
    )


def check_rule(
    store: MentionStore,
    db: Engine,
    config: KaikuConfig,
    rule: AlertRule,
    now: datetime,
    options: CheckOptions,
) -> RuleCheck:
    step = config_interval(rule.window)
    params = rule_params(rule, options.detector)
    series = count_series(store, rule.brand, rule.experience, now, step, options.history)
    detected = detect_incidents(series.timestamps, series.values, params)
    ongoing = [d for d in detected if d.end >= series.current_slot]
    # Read the example mentions before the database transaction: no network call while holding its lock.
    mentions: list[dict[str, Any]] = []
    intense: list[dict[str, Any]] = []
    if ongoing:
        filters = MentionFilters(brand=rule.brand, experience=rule.experience, start=ongoing[-1].start, end=now)
        mentions = store.search(filters, size=TOP_MENTIONS).data
        by_intensity: SortName = "angriest" if rule.experience == "anger" else "most_delighted"
        intense = store.search(filters, size=INTENSE_MENTIONS, sort=by_intensity).data
    # Draw the chart of each incident that will be new before the transaction: rendering takes most of a second
    # and must not hold the database's write lock. Once per incident: every recipient and retry reuses the email.
    with db.connect() as conn:
        latest = latest_incident(conn, rule.id)
    label = f"{rule.experience} mentions per {duration_text(step)}"
    charts = {f.start: _chart(series, params, f, label) for f in ongoing if not continues(latest, f, params.cooldown)}
    result = RuleCheck(rule.id, 0.0 if math.isnan(series.values[-1]) else series.values[-1])
    with db.begin() as conn:
        outcome = reconcile(
            conn, rule.id, rule.brand, rule.experience, detected, series.current_slot, step, params.cooldown, now
        )
        result.new, result.updated, result.closed = outcome.new, outcome.updated, outcome.closed
        for incident_id, found in zip(outcome.new, outcome.opened, strict=True):
            facts = AlertFacts(
                rule_id=rule.id,
                brand_name=config.brand(rule.brand).name,
                experience=rule.experience,
                window=step,
                cooldown=params.cooldown,
                start=found.start,
                peak=found.peak,
                peak_value=found.peak_value,
                baseline=found.baseline,
                score=found.score,
                severity=found.severity,
                mentions=mentions,
                query_url=mentions_query_url(options.api_base, rule.brand, rule.experience, found.start),
                intense=intense,
                cases_url=f"{options.api_base.rstrip('/')}/v1/cases",
                chart=charts.get(found.start),  # None only if the stored incidents changed between the two reads
                held_back=found.held_back,
                max_per_week=rule.max_per_week,
            )
            by_language = {lang: render_alert(facts, lang) for lang in {rule.language_of(r) for r in rule.recipients}}
            for recipient in rule.recipients:
                rendered = by_language[rule.language_of(recipient)]
                key = f"alert:{incident_id}:{recipient}"
                message = build_message(rendered, options.sender, recipient, key, now)
                if enqueue(conn, key, "alert", recipient, rendered.subject, message, now):
                    result.emails += 1
    return result


def check_alerts(
    store: MentionStore,
    db: Engine,
    config: KaikuConfig,
    now: datetime,
    options: CheckOptions,
    rule_ids: list[str] | None = None,
) -> list[RuleCheck]:
    """Check every configured rule (or the named ones) at `now`. A rule that fails is logged and reported in its
    result (`error`); the other rules are still checked."""
    results = []
    for rule in config.alerts:
        if rule_ids is not None and rule.id not in rule_ids:
            continue
        try:
            results.append(check_rule(store, db, config, rule, now, options))
        except Exception as exc:  # noqa: BLE001 -- one bad rule must not stop the others
            log.exception("alert rule %s could not be checked; skipped", rule.id)
            results.append(RuleCheck(rule.id, 0.0, error=f"{type(exc).__name__}: {exc}"))
    return results
