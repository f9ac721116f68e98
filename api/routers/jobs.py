"""/v1/jobs: the scheduler's jobs (crawls, checks, upkeep) -- list them, or ask one to run now."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from api.deps import AdminDep, DbDep, StateDep
from api.problems import ADMIN_ONLY_RESPONSES, COMMON_RESPONSES
from kaiku.scheduler.service import JobStoreView, job_table

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses={**COMMON_RESPONSES, **ADMIN_ONLY_RESPONSES})


class Job(BaseModel):
    id: str
    name: str
    every: str
    next_run: datetime | None
    last_run: datetime | None
    last_status: str | None
    last_result: str | None


class JobList(BaseModel):
    data: list[Job]
    count: int
    next: str | None = None


@contextmanager
def _store(state: StateDep) -> Iterator[JobStoreView]:
    view = JobStoreView(state.settings)
    try:
        yield view
    finally:
        view.close()


@router.get("", response_model=JobList, summary="Scheduled jobs with last and next run and last result")
def list_jobs(state: StateDep, db: DbDep, _admin: AdminDep) -> JobList:
    with _store(state) as reader:
        rows = job_table(reader, db)
    return JobList(data=[Job(**row) for row in rows], count=len(rows))


@router.post("/{job_id}/run", status_code=202, response_model=Job, summary="Run a job as soon as possible")
def run_job(job_id: str, state: StateDep, db: DbDep, _admin: AdminDep) -> dict[str, Any]:
    """Moves the job's next run to now. The running `kaiku scheduler` picks it up at its next wake-up (within the
    outbox interval, 60 s by default); the job's regular schedule then goes on from that run."""
    with _store(state) as reader:
        if reader.get_job(job_id) is None:
            known = ", ".join(job.id for job in reader.get_jobs()) or "none: start `kaiku scheduler` once"
            raise HTTPException(404, f"no job {job_id!r} (known: {known})")
        reader.run_now(job_id, datetime.now(UTC))
        [row] = [r for r in job_table(reader, db) if r["id"] == job_id]
    return row
