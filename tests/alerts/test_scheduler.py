"""The scheduler: jobs persisted in SQLite and resumed after a restart, coalesced runs, recorded results, and the
job functions run with an explicit clock against the real engine and SMTP server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from elasticsearch import Elasticsearch
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from core.config import load_config
from core.settings import Settings, get_settings
from kaiku.db import job_runs, open_database
from kaiku.local_engine import LocalEngine, free_port
from kaiku.scheduler import jobs
from kaiku.scheduler.service import build_scheduler, install_result_recorder, job_specs, sync_jobs
from tests.alerts.conftest import SmtpServer, every, index_mentions
from tests.alerts.test_alert_e2e import NOW
from tests.api.conftest import bearer
from tests.processes import start_scheduler

EXPECTED_JOBS = ["alerts:check", "cases:reminders", "crawl:demo-reviews", "outbox:deliver", "retention"]
RUNS: list[datetime] = []
_RUNS_LOCK = threading.Lock()


def count_run() -> str:
    """A job for the coalescing test; module level so the job store can persist its name."""
    with _RUNS_LOCK:
        RUNS.append(datetime.now(UTC))
    return "counted"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Settings from the environment, as the job functions read them, with a data folder of this test's own."""
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.unit
def test_jobs_survive_a_restart_with_their_next_run(tmp_path: Path, config_dir: Path) -> None:
    settings = Settings(data_dir=tmp_path, config_dir=config_dir)
    config = load_config(config_dir)
    first = build_scheduler(settings)
    first.start(paused=True)
    report = sync_jobs(first, job_specs(settings, config))
    assert sorted(report.added) == EXPECTED_JOBS
    before = {job.id: job.next_run_time for job in first.get_jobs()}
    crawl = first.get_job("crawl:demo-reviews")
    assert crawl.func_ref == "kaiku.scheduler.jobs:crawl_source" and crawl.args == ("demo-reviews",)
    assert crawl.trigger.interval == timedelta(hours=6)
    assert crawl.max_instances == 1 and crawl.coalesce is True
    first.shutdown()

    time.sleep(1.1)  # a re-added job would get a later next run time
    second = build_scheduler(settings)
    second.start(paused=True)
    report = sync_jobs(second, job_specs(settings, config))
    assert sorted(report.kept) == EXPECTED_JOBS and report.added == [] and report.removed == []
    assert {job.id: job.next_run_time for job in second.get_jobs()} == before
    second.shutdown()

    # A source whose schedule goes away loses its job; a changed interval replaces the job.
    edited = tmp_path / "configs"
    shutil.copytree(config_dir, edited)
    sources = edited / "sources.yaml"
    sources.write_text(sources.read_text().replace("schedule: 6h", "schedule: 2h"))
    third = build_scheduler(settings)
    third.start(paused=True)
    report = sync_jobs(third, job_specs(settings, load_config(edited)))
    assert report.added == ["crawl:demo-reviews"] and third.get_job("crawl:demo-reviews").trigger.interval == timedelta(
        hours=2
    )
    sources.write_text("sources: []\n")
    report = sync_jobs(third, job_specs(settings, load_config(edited)))
    assert report.removed == ["crawl:demo-reviews"]
    third.shutdown()


@pytest.mark.unit
def test_missed_runs_are_coalesced_into_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    RUNS.clear()
    runner = build_scheduler(settings)
    runner.start(paused=True)
    # Down for an hour with a job due every minute: sixty missed runs.
    runner.add_job(
        "tests.alerts.test_scheduler:count_run",
        IntervalTrigger(minutes=1, timezone=UTC),
        id="counter",
        next_run_time=datetime.now(UTC) - timedelta(hours=1),
    )
    runner.resume()
    deadline = time.monotonic() + 10
    while not RUNS and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    runner.shutdown()
    assert len(RUNS) == 1


@pytest.mark.integration
def test_results_are_recorded_and_listed(env, monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    # Engine unreachable (the spike check fails) and SMTP irrelevant (the outbox is empty: delivery succeeds).
    monkeypatch.setenv("KAIKU_ELASTICSEARCH_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    settings = get_settings()
    db = open_database(settings.resolved_database_url)
    runner = build_scheduler(settings)
    install_result_recorder(runner, db)
    runner.start(paused=True)
    sync_jobs(runner, job_specs(settings, load_config(config_dir)))
    now = datetime.now(UTC)
    runner.modify_job("outbox:deliver", next_run_time=now)
    runner.modify_job("alerts:check", next_run_time=now)
    runner.resume()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.connect() as conn:
            if len(conn.execute(select(job_runs)).all()) == 2:
                break
        time.sleep(0.1)
    runner.shutdown()

    listed = CliRunner().invoke(app, ["jobs", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["id"]: row for row in map(json.loads, listed.output.splitlines())}
    assert sorted(rows) == EXPECTED_JOBS
    assert rows["outbox:deliver"]["last_status"] == "ok"
    assert rows["outbox:deliver"]["last_result"] == "sent 0, deferred 0, failed 0"
    assert rows["alerts:check"]["last_status"] == "error" and "EngineUnavailable" in rows["alerts:check"]["last_result"]
    assert rows["retention"]["last_run"] is None and rows["retention"]["next_run"] is not None
    text = CliRunner().invoke(app, ["jobs"]).output
    assert "alerts:check" in text and "[error]" in text and "every 0:05:00" in text


@pytest.mark.integration
def test_job_functions_with_an_explicit_clock(
    env, monkeypatch: pytest.MonkeyPatch, engine: LocalEngine, es: Elasticsearch, alias: str, smtp_server: SmtpServer
) -> None:
    for key, value in {
        "KAIKU_ELASTICSEARCH_URL": engine.url,
        "KAIKU_INDEX_ALIAS": alias,
        "KAIKU_SMTP_PORT": str(smtp_server.port),
        "KAIKU_ALERT_HISTORY_DAYS": "7",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    index_mentions(es, alias, "revontuli", every(NOW - timedelta(days=3), NOW - timedelta(hours=2), timedelta(hours=5)))
    index_mentions(es, alias, "revontuli", every(NOW - timedelta(minutes=30), NOW, timedelta(minutes=3)))

    assert jobs.check_alerts(now=NOW) == "2 rules: 1 new incidents, 0 ongoing, 1 emails queued"
    assert jobs.deliver_outbox(now=NOW) == "sent 1, deferred 0, failed 0"
    assert jobs.check_alerts(now=NOW + timedelta(minutes=5)) == "2 rules: 0 new incidents, 1 ongoing, 0 emails queued"
    assert jobs.deliver_outbox(now=NOW + timedelta(minutes=5)) == "sent 0, deferred 0, failed 0"
    assert len(smtp_server.inbox.received) == 1
    assert jobs.followup_reminders(now=NOW) == "0 reminders queued"
    assert jobs.apply_retention(now=NOW).startswith("retention off")

    monkeypatch.setenv("KAIKU_RETENTION_DAYS", "2")
    get_settings.cache_clear()
    # Background mentions older than two days go; the eleven recent ones stay.
    assert jobs.apply_retention(now=NOW) == "before 2026-11-18: dropped 0 indices, deleted 5 mentions"


def _run_scheduler_until_running(environment: dict[str, str]) -> str:
    """Start `kaiku scheduler` as a user would, wait until it runs, stop it with SIGTERM; its output."""
    process, started = start_scheduler(environment)
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=30)
    output = started + rest
    assert process.returncode == 0, output
    return output


@pytest.mark.integration
def test_scheduler_command_restarts_with_the_same_jobs(tmp_path: Path, config_dir: Path) -> None:
    environment = {**os.environ, "KAIKU_DATA_DIR": str(tmp_path / "data"), "KAIKU_CONFIG_DIR": str(config_dir)}
    first = _run_scheduler_until_running(environment)
    assert "added ['crawl:demo-reviews', 'alerts:check'" in first and "scheduler stopped" in first
    second = _run_scheduler_until_running(environment)
    assert "jobs kept ['crawl:demo-reviews', 'alerts:check', 'outbox:deliver', 'cases:reminders', 'retention']" in (
        second
    )
    assert "added -, removed -" in second


@pytest.mark.unit
def test_bad_job_store_url_is_a_message(env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAIKU_SCHEDULER_URL", "nosuchdb://nowhere")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["jobs"])
    assert result.exit_code == 2 and "cannot open the scheduler's job store 'nosuchdb://nowhere'" in result.output


def wake() -> str:
    """Stands in for the outbox job, which wakes a real scheduler every minute."""
    return "awake"


@pytest.mark.integration
def test_api_lists_jobs_and_runs_one_now(tmp_path: Path, config_dir: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = Settings(data_dir=tmp_path, config_dir=config_dir, admin_key="admin-key-for-jobs")
    running = build_scheduler(settings)  # the `kaiku scheduler` process
    running.start(paused=True)
    sync_jobs(running, job_specs(settings, load_config(config_dir)))
    RUNS.clear()
    running.add_job("tests.alerts.test_scheduler:count_run", IntervalTrigger(hours=1, timezone=UTC), id="counter")
    running.add_job("tests.alerts.test_scheduler:wake", IntervalTrigger(seconds=1, timezone=UTC), id="wake")
    running.resume()
    try:
        with TestClient(create_app(settings)) as anonymous:
            assert anonymous.get("/v1/jobs").status_code == 401
        with TestClient(create_app(settings), headers=bearer("admin-key-for-jobs")) as api:
            listed = api.get("/v1/jobs").json()
            assert sorted(job["id"] for job in listed["data"]) == sorted([*EXPECTED_JOBS, "counter", "wake"])
            assert listed["count"] == 7
            missing = api.post("/v1/jobs/crawl:nowhere/run")
            assert missing.status_code == 404 and "crawl:demo-reviews" in missing.json()["detail"]
            started = api.post("/v1/jobs/counter/run")
            assert started.status_code == 202
            assert datetime.fromisoformat(started.json()["next_run"]) <= datetime.now(UTC)
        deadline = time.monotonic() + 15
        while not RUNS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(RUNS) == 1  # the running scheduler saw the change made through the API
    finally:
        running.shutdown()


@pytest.mark.unit
def test_roles_split_the_jobs_and_crawl_shards_split_the_sources(tmp_path: Path, config_dir: Path) -> None:
    configs = tmp_path / "configs"
    shutil.copytree(config_dir, configs)
    ids = [f"site-{n}" for n in range(12)]
    (configs / "sources.yaml").write_text(
        "sources:\n"
        + "".join(
            f"  - {{id: {i}, spider: reviews, start_urls: ['https://{i}.example/'], schedule: 1h}}\n" for i in ids
        )
    )
    config = load_config(configs)
    control = {spec.id for spec in job_specs(Settings(data_dir=tmp_path), config, "control")}
    assert control == {"alerts:check", "cases:reminders", "outbox:deliver", "retention"}
    shares = [
        {spec.id for spec in job_specs(Settings(data_dir=tmp_path, crawl_shard=n, crawl_shards=3), config, "crawl")}
        for n in range(3)
    ]
    assert set().union(*shares) == {f"crawl:{i}" for i in ids}, "every source is crawled by some worker"
    assert sum(len(share) for share in shares) == len(ids), "and by one only"
    assert all(shares), "a dozen sources spread over all three workers"
    everything = {spec.id for spec in job_specs(Settings(data_dir=tmp_path), config)}
    assert everything == control | shares[0] | shares[1] | shares[2]

    # A control scheduler and a crawl worker sharing one database keep their jobs apart.
    schedulers = []
    for role, settings in (("control", Settings(data_dir=tmp_path)), ("crawl", Settings(data_dir=tmp_path))):
        runner = build_scheduler(settings, role)  # type: ignore[arg-type]
        runner.start(paused=True)
        sync_jobs(runner, job_specs(settings, config, role))  # type: ignore[arg-type]
        schedulers.append(runner)
    assert {job.id for job in schedulers[0].get_jobs()} == control
    assert {job.id for job in schedulers[1].get_jobs()} == {f"crawl:{i}" for i in ids}
    for runner in schedulers:
        runner.shutdown()


@pytest.mark.unit
def test_a_shard_outside_the_worker_count_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="KAIKU_CRAWL_SHARD must be below KAIKU_CRAWL_SHARDS"):
        Settings(crawl_shard=2, crawl_shards=2)
