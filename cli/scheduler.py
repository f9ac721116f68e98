"""`kaiku scheduler` runs the jobs; `kaiku jobs` lists them with their last and next run and last result."""

from __future__ import annotations

import json
import signal
import threading
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from cli._common import user_errors
from core.priority import lower_priority
from core.settings import get_settings


class SchedulerRole(StrEnum):
    all = "all"
    control = "control"
    crawl = "crawl"


RoleOption = Annotated[
    SchedulerRole,
    typer.Option(
        "--role",
        help="all: every job; control: spike checks, email, reminders, retention (exactly one per deployment); "
        "crawl: the crawls of shard KAIKU_CRAWL_SHARD of KAIKU_CRAWL_SHARDS",
    ),
]


def scheduler(role: RoleOption = SchedulerRole.all) -> None:
    """Run crawls, spike checks, email delivery, follow-up reminders and retention on their schedules.

    Jobs are kept in the job store (KAIKU_SCHEDULER_URL, else the Kaiku database): a restart resumes them.
    Stop with Ctrl-C or SIGTERM; a running job is allowed to finish.
    """
    from core.config import load_config
    from kaiku.scheduler.service import build_scheduler, install_result_recorder, job_specs, sync_jobs
    from kaiku.wiring import database

    with user_errors():
        settings = get_settings()
        if role != SchedulerRole.control:  # its crawls yield the CPU to the API; its threads inherit the niceness
            lower_priority(settings.crawl_nice)
        config = load_config(settings.config_dir)
        db = database(settings)
        runner = build_scheduler(settings, role.value)
        install_result_recorder(runner, db)
        runner.start(paused=True)  # see the stored jobs before anything runs
        report = sync_jobs(runner, job_specs(settings, config, role.value))
    print(f"jobs kept {report.kept or '-'}, added {report.added or '-'}, removed {report.removed or '-'}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner.resume()
    print(f"scheduler running ({len(runner.get_jobs())} jobs); Ctrl-C to stop")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        runner.shutdown(wait=True)
    print("scheduler stopped")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def jobs(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    role: RoleOption = SchedulerRole.all,
) -> None:
    """List the scheduled jobs: every how long, last run, next run, last result."""
    from kaiku.scheduler.service import JobStoreView, job_table
    from kaiku.wiring import database

    with user_errors():
        settings = get_settings()
        db = database(settings)
        view = JobStoreView(settings, role.value)
        try:
            rows: list[dict[str, Any]] = job_table(view, db)
        finally:
            view.close()
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str))
        return
    if not rows:
        print("no jobs stored yet: start `kaiku scheduler` once")
    for row in rows:
        print(
            f"{row['id']:<24} every {row['every']:<10} last {_when(row['last_run'])} "
            f"[{row['last_status'] or '-'}]  next {_when(row['next_run'])}"
        )
        if row["last_result"]:
            print(f"    {row['last_result']}")
