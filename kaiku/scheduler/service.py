"""Building the scheduler, keeping its jobs in line with configs/, and recording each job's last result.

Jobs live in a SQLAlchemy job store (the Kaiku database by default), so a restart resumes the schedule: a job
already stored with the same function, arguments and interval keeps its next run time; a changed one is
replaced; a job whose source left sources.yaml is removed. Every job runs with max_instances=1 (never overlaps
itself) and coalesce=True (runs missed while Kaiku was down collapse into one).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from core.config import KaikuConfig, config_interval
from core.settings import Settings
from kaiku.db import DatabaseError, ensure_sqlite_folder, job_runs

JOBS_TABLE = "kaiku_scheduler_jobs"
# `control`: spike checks, email, reminders, retention; `crawl`: the crawls of this worker's share of the
# sources; `all`: both, in one process (a small installation).
Role = Literal["all", "control", "crawl"]
RESULT_CHARS = 1000
FUNCS = "kaiku.scheduler.jobs:"
REMINDER_INTERVAL = timedelta(hours=1)
RETENTION_INTERVAL = timedelta(days=1)


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # textual reference, persisted as such
    interval: timedelta
    args: tuple[Any, ...] = field(default=())
    name: str = ""


def crawl_shard(source_id: str, shards: int) -> int:
    """Which crawl worker runs a source: a hash that does not change between processes or releases."""
    return int(hashlib.sha256(source_id.encode()).hexdigest()[:8], 16) % shards


def job_specs(settings: Settings, config: KaikuConfig, role: Role = "all") -> list[JobSpec]:
    """The jobs the configuration asks of a scheduler in this role (and, for crawls, this shard)."""
    specs = []
    if role in ("all", "crawl"):
        specs += [
            JobSpec(f"crawl:{s.id}", FUNCS + "crawl_source", config_interval(s.schedule), (s.id,), f"crawl {s.id}")
            for s in config.sources
            if s.schedule and crawl_shard(s.id, settings.crawl_shards) == settings.crawl_shard
        ]
    if role == "crawl":
        return specs
    specs += [
        JobSpec(
            "alerts:check",
            FUNCS + "check_alerts",
            timedelta(minutes=settings.alert_check_interval_minutes),
            name="spike check",
        ),
        JobSpec(
            "outbox:deliver",
            FUNCS + "deliver_outbox",
            timedelta(seconds=settings.outbox_interval_seconds),
            name="email delivery",
        ),
        JobSpec("cases:reminders", FUNCS + "followup_reminders", REMINDER_INTERVAL, name="follow-up reminders"),
        JobSpec("retention", FUNCS + "apply_retention", RETENTION_INTERVAL, name="retention"),
    ]
    return specs


def jobs_table(settings: Settings, role: Role) -> str:
    """Each crawl shard keeps its jobs apart, so that schedulers sharing a database never run each other's jobs."""
    return f"{JOBS_TABLE}_crawl_{settings.crawl_shard}" if role == "crawl" else JOBS_TABLE


def _job_store(settings: Settings, role: Role = "all") -> SQLAlchemyJobStore:
    url = settings.resolved_scheduler_url
    try:
        ensure_sqlite_folder(url)
        return SQLAlchemyJobStore(url=url, tablename=jobs_table(settings, role))
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseError(f"cannot open the scheduler's job store {url!r}: {exc}") from exc


def build_scheduler(settings: Settings, role: Role = "all") -> BackgroundScheduler:
    store = _job_store(settings, role)
    return BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.scheduler_misfire_grace_seconds,
        },
        timezone=UTC,
    )


def _same(job: Any, spec: JobSpec) -> bool:
    trigger = job.trigger
    return (
        job.func_ref == spec.func
        and tuple(job.args) == spec.args
        and isinstance(trigger, IntervalTrigger)
        and trigger.interval == spec.interval
    )


@dataclass
class SyncReport:
    kept: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def sync_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec]) -> SyncReport:
    """Make the stored jobs match `specs`; call on a started (paused) scheduler so stored jobs are visible."""
    report = SyncReport()
    wanted = {spec.id: spec for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            report.removed.append(job.id)
    for spec in specs:
        existing = scheduler.get_job(spec.id)
        if existing is not None and _same(existing, spec):
            report.kept.append(spec.id)
            continue
        scheduler.add_job(
            spec.func,
            IntervalTrigger(seconds=int(spec.interval.total_seconds()), timezone=UTC),
            args=spec.args,
            id=spec.id,
            name=spec.name or spec.id,
            replace_existing=True,
        )
        report.added.append(spec.id)
    return report


def record_result(db: Engine, job_id: str, when: datetime, status: str, result: str) -> None:
    values = {"last_run_at": when, "last_status": status, "last_result": result[:RESULT_CHARS]}
    with db.begin() as conn:
        if conn.execute(update(job_runs).where(job_runs.c.job_id == job_id).values(**values)).rowcount == 0:
            conn.execute(insert(job_runs).values(job_id=job_id, **values))


def install_result_recorder(scheduler: BackgroundScheduler, db: Engine) -> None:
    """Keep each job's last run and result in the job_runs table (APScheduler keeps only the next run)."""

    def listener(event: JobExecutionEvent) -> None:
        now = datetime.now(UTC)
        if event.code == EVENT_JOB_EXECUTED:
            record_result(db, event.job_id, now, "ok", str(event.retval))
        elif event.code == EVENT_JOB_ERROR:
            record_result(db, event.job_id, now, "error", f"{type(event.exception).__name__}: {event.exception}")
        else:
            record_result(db, event.job_id, now, "missed", f"run due at {event.scheduled_run_time} was skipped")

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)


class JobStoreView:
    """The job store read (and nudged) from another process -- `kaiku jobs`, the API -- without a scheduler.

    Not a paused scheduler: one being shut down right after a wake-up can still process due jobs, taking a run
    away from the real scheduler. The scheduler object here is never started; stored jobs only need one to
    point at.
    """

    def __init__(self, settings: Settings, role: Role = "all") -> None:
        self._store = _job_store(settings, role)
        try:
            self._store.start(BackgroundScheduler(timezone=UTC), "default")
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot read the scheduler's job store: {exc}") from exc

    def get_jobs(self) -> list[Any]:
        return list(self._store.get_all_jobs())

    def get_job(self, job_id: str) -> Any:
        return self._store.lookup_job(job_id)

    def run_now(self, job_id: str, now: datetime) -> bool:
        """Move a job's next run to `now`; the running scheduler starts it at its next wake-up."""
        job = self._store.lookup_job(job_id)
        if job is None:
            return False
        job._modify(next_run_time=now)  # what Scheduler.modify_job does, minus waking a scheduler
        self._store.update_job(job)
        return True

    def close(self) -> None:
        self._store.shutdown()


def job_table(scheduler: BackgroundScheduler | JobStoreView, db: Engine) -> list[dict[str, Any]]:
    """Every stored job with its next run and, when it has run, its last run and result."""
    with db.connect() as conn:
        runs = {row.job_id: row for row in conn.execute(select(job_runs))}
    rows = []
    for job in sorted(scheduler.get_jobs(), key=lambda j: j.id):
        run = runs.get(job.id)
        rows.append(
            {
                "id": job.id,
                "name": job.name,
                "every": str(job.trigger.interval) if isinstance(job.trigger, IntervalTrigger) else str(job.trigger),
                "next_run": job.next_run_time,
                "last_run": run.last_run_at if run else None,
                "last_status": run.last_status if run else None,
                "last_result": run.last_result if run else None,
            }
        )
    return rows
