"""`kaiku alerts backtest`: run the spike detector over a past count series and print its incidents."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from cli._common import fail, parse_now, user_errors
from core.settings import Settings, get_settings
from kaiku.alerts.backtest import BacktestError, backtest, parse_duration
from kaiku.alerts.detector import DEFAULT
from kaiku.alerts.evaluation import LabelsError, read_labels, score_incidents

app = typer.Typer(help="Spike alerts.", no_args_is_help=True)

MAX_BAD_ROWS_SHOWN = 20


@app.command("backtest")
def backtest_command(
    path: Annotated[Path, typer.Argument(help="CSV of timestamp,value rows (ISO 8601; naive means UTC).")],
    interval: Annotated[str, typer.Option(help="Slot size the rows are summed into: 5min, 15min, 1h, 1d.")] = "5min",
    k: Annotated[float, typer.Option(help="Score that opens an incident.")] = DEFAULT.k,
    min_count: Annotated[float, typer.Option(help="Minimum count in a slot to open an incident.")] = DEFAULT.min_count,
    cooldown: Annotated[
        str, typer.Option(help="After an incident, a new trigger within this reopens it (0 for none).")
    ] = f"{int(DEFAULT.cooldown.total_seconds() // 3600)}h",
    max_per_week: Annotated[
        int | None, typer.Option(min=1, help="Alert budget: the most incidents opened in any 7 days.")
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(help="JSON of labelled windows per file name: prints precision, recall and F1 on stderr."),
    ] = None,
) -> None:
    """Print the incidents the detector finds as a JSON list of {start, end, peak, score}; a summary on stderr."""
    try:
        step = parse_duration(interval)
        wait = parse_duration(cooldown, allow_zero=True)
        params = replace(
            DEFAULT, k=k, min_count=min_count, cooldown=wait, exit_k=min(DEFAULT.exit_k, k), max_per_week=max_per_week
        )
        windows = None
        if labels is not None:
            by_file = read_labels(labels)
            if path.name not in by_file:
                raise BacktestError(f"{labels} has no windows for {path.name} (it has: {', '.join(sorted(by_file))})")
            windows = by_file[path.name]
        detection, series = backtest(path, step, params)
        incidents = detection.incidents
    except (BacktestError, LabelsError, ValueError) as exc:
        fail(str(exc))
    for line_no, reason in series.bad_rows[:MAX_BAD_ROWS_SHOWN]:
        print(f"warning: {path}:{line_no}: {reason}", file=sys.stderr)
    if len(series.bad_rows) > MAX_BAD_ROWS_SHOWN:
        print(f"warning: ... and {len(series.bad_rows) - MAX_BAD_ROWS_SHOWN} more", file=sys.stderr)
    if series.bad_rows:
        print(f"warning: skipped {len(series.bad_rows)} bad row(s)", file=sys.stderr)
    out = [
        {
            "start": inc.start.isoformat(),
            "end": inc.end.isoformat(),
            "peak": inc.peak.isoformat(),
            "score": round(inc.score, 2),
        }
        for inc in incidents
    ]
    print(json.dumps(out, indent=2))
    span = series.timestamps[-1] - series.timestamps[0] + step
    result = score_incidents(incidents, windows or [], span)
    summary = f"summary: {result.incidents} incidents in {result.weeks:.1f} weeks: {result.per_week:.2f} per week"
    if max_per_week is not None:
        summary += f"; budget {max_per_week} per week held back {detection.held_back} more"
    if windows is not None:
        summary += (
            f"; labelled windows {result.windows}, found {result.found}; incidents in a window {result.hits}; "
            f"precision {result.precision:.3f} recall {result.recall:.3f} F1 {result.f1:.3f}"
        )
    print(summary, file=sys.stderr)


NowOption = Annotated[
    str | None, typer.Option("--now", help="Check as of this time (ISO 8601; naive means UTC) [default: now]")
]


@app.command("check")
def check_command(
    now: NowOption = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Only this rule id (repeatable)")] = None,
    deliver: Annotated[bool, typer.Option(help="Send the queued emails right after the check")] = True,
) -> None:
    """Count outliers per alert rule, update incidents and queue one email per new incident and recipient."""
    from core.config import load_config
    from kaiku.alerts.check import CheckOptions, check_alerts
    from kaiku.wiring import database, ready_store

    when = parse_now(now)
    with user_errors():
        settings = get_settings()
        config = load_config(settings.config_dir)
        unknown = sorted(set(rule or []) - {r.id for r in config.alerts})
        if unknown:
            fail(f"unknown alert rule(s) {', '.join(unknown)} (known: {', '.join(r.id for r in config.alerts)})")
        db = database(settings)
        results = check_alerts(
            ready_store(settings), db, config, when, CheckOptions.from_settings(settings), rule or None
        )
        for result in results:
            print(result.summary())
        if deliver:
            _deliver(db, settings, when)
    failed = [r.rule_id for r in results if r.error is not None]
    if failed:
        fail(
            f"{len(failed)} rule(s) not checked: {', '.join(failed)} (the others were; details above and in the log)",
            code=1,
        )


def _deliver(db: Engine, settings: Settings, when: datetime) -> None:
    from kaiku.alerts.outbox import deliver_due
    from kaiku.alerts.smtp import SmtpConfig, SmtpSender

    report = deliver_due(
        db,
        SmtpSender(SmtpConfig.from_settings(settings)),
        when,
        base=timedelta(seconds=settings.outbox_retry_base_seconds),
        cap=timedelta(seconds=settings.outbox_retry_max_seconds),
    )
    print(f"outbox: {report.summary()}")


@app.command("deliver")
def deliver_command(now: NowOption = None) -> None:
    """Send the emails in the outbox that are due (new ones, and retries whose backoff has passed)."""
    from kaiku.wiring import database

    with user_errors():
        settings = get_settings()
        _deliver(database(settings), settings, parse_now(now))


@app.command("outbox")
def outbox_command(
    status: Annotated[str | None, typer.Option(help="Only pending, sending, sent or failed")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List the email outbox: what was queued, sent, is waiting for a retry, or failed for good."""
    from kaiku.alerts.outbox import list_outbox
    from kaiku.wiring import database

    if status is not None and status not in OUTBOX_STATUSES:
        fail(f"--status must be one of {', '.join(OUTBOX_STATUSES)}, got {status!r}")
    with user_errors():
        rows = list_outbox(database(get_settings()), status, limit)
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str))
        return
    if not rows:
        print("outbox is empty" + (f" (status {status})" if status else ""))
    for row in rows:
        when = row["sent_at"] or row["next_attempt_at"]
        label = "sent" if row["status"] == "sent" else "next try"
        line = f"#{row['id']} {row['status']:<8} {row['kind']:<8} {row['recipient']}  attempts {row['attempts']}"
        print(f"{line}  {label} {when:%Y-%m-%d %H:%M:%S}Z  {row['subject']}")
        if row["last_error"] and row["status"] != "sent":
            print(f"    last error: {row['last_error']}")


OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


@app.command("incidents")
def incidents_command(
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule id")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List incidents: open ones are spikes still going on; closed ones ended."""
    from kaiku.alerts.incidents import list_incidents
    from kaiku.wiring import database

    with user_errors(), database(get_settings()).connect() as conn:
        rows = list_incidents(conn, rule, limit)
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str))
        return
    if not rows:
        print("no incidents" + (f" for rule {rule}" if rule else ""))
    for row in rows:
        print(
            f"#{row['id']} {row['status']:<6} {row['rule_id']}  {row['start']:%Y-%m-%d %H:%M}-{row['end']:%H:%M}Z  "
            f"peak {row['peak_value']:g} vs {row['baseline']:.1f} (score {row['score']:.1f}, {row['severity']})"
        )
