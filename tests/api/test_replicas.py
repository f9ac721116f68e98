"""Several API replicas on one database: the same teams and keys, one rate budget; the old team file imported once."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from limits.storage import MemoryStorage
from pydantic import ValidationError

from api.app import create_app
from api.ratelimit import REFUSAL_MEMORY_S, Budget, DatabaseStorage, RateLimits, RecentRefusals, open_storage
from core.settings import REPO_CONFIGS, Settings
from kaiku.db import open_database
from kaiku.local_engine import free_port
from kaiku.wiring import team_store
from tests.api.conftest import ADMIN_KEY, bearer

pytestmark = pytest.mark.integration

# The team file as Kaiku kept it before teams moved into the database (kaiku/teams.py of 0.x, stdlib sqlite3).
LEGACY_SCHEMA = """
CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE team_brands (
    team TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE, brand TEXT NOT NULL, PRIMARY KEY (team, brand));
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY, team TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    salt BLOB NOT NULL, digest BLOB NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);
"""


def legacy_team_file(path: Path) -> tuple[str, str]:
    """A pre-0.x team file with team `north` (a live and a revoked key) and `fell`; returns north's live key and
    the revoked one."""
    salt, revoked_salt = b"s" * 16, b"r" * 16
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY_SCHEMA)
        db.executemany(
            "INSERT INTO teams VALUES (?, ?, ?)",
            [("north", "North", "2026-01-02T03:04:05+00:00"), ("fell", "Fell", "2026-01-03T00:00:00+00:00")],
        )
        db.executemany("INSERT INTO team_brands VALUES (?, ?)", [("north", "revontuli"), ("fell", "tunturi")])
        db.executemany("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?)", [
            ("aaaaaaaaaaaa", "north", salt, hashlib.sha256(salt + b"secret1").digest(), "2026-01-02T03:04:06+00:00",
             None),
            ("bbbbbbbbbbbb", "north", revoked_salt, hashlib.sha256(revoked_salt + b"secret2").digest(),
             "2026-01-02T03:04:07+00:00", "2026-02-01T00:00:00+00:00"),
        ])  # fmt: skip
    db.close()
    return "kaiku_aaaaaaaaaaaa_secret1", "kaiku_bbbbbbbbbbbb_secret2"


def test_the_old_team_file_is_imported_on_first_start_and_only_then(api_settings: Settings) -> None:
    legacy = api_settings.resolved_api_db
    legacy.parent.mkdir(parents=True, exist_ok=True)
    live, revoked = legacy_team_file(legacy)
    before = legacy.read_bytes()
    with TestClient(create_app(api_settings)) as client:
        assert client.get("/v1/brands", headers=bearer(live)).json()["data"][0]["id"] == "revontuli"
        assert client.get("/v1/brands", headers=bearer(revoked)).status_code == 401
        admin = bearer(ADMIN_KEY)
        teams = client.get("/v1/admin/teams", headers=admin).json()["data"]
        assert [(t["id"], t["name"], t["brands"], t["created_at"]) for t in teams] == [
            ("fell", "Fell", ["tunturi"], "2026-01-03T00:00:00+00:00"),
            ("north", "North", ["revontuli"], "2026-01-02T03:04:05+00:00"),
        ]
        keys = client.get("/v1/admin/teams/north/keys", headers=admin).json()["data"]
        assert [(k["id"], k["revoked_at"]) for k in keys] == [
            ("aaaaaaaaaaaa", None),
            ("bbbbbbbbbbbb", "2026-02-01T00:00:00+00:00"),
        ]
        assert client.delete("/v1/admin/teams/north", headers=admin).status_code == 204
    assert legacy.read_bytes() == before  # the user's file is left as it was
    # A later start (another replica, a restart) does not bring the deleted team back from the file.
    with TestClient(create_app(api_settings)) as client:
        assert client.get("/v1/brands", headers=bearer(live)).status_code == 401
        assert [t["id"] for t in client.get("/v1/admin/teams", headers=bearer(ADMIN_KEY)).json()["data"]] == ["fell"]


def test_a_file_without_teams_imports_nothing(api_settings: Settings) -> None:
    api_settings.resolved_api_db.parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(api_settings.resolved_api_db).close()  # an empty SQLite file
    assert team_store(api_settings).teams() == []


def test_two_replicas_share_teams_keys_and_one_rate_budget(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"rate_limit_burst": 4, "rate_limit_per_minute": 1})
    first = TestClient(create_app(settings))
    second = TestClient(create_app(settings))
    now = [0.0]
    with first, second:
        for client in (first, second):  # a clock of the test's for each replica's memory of refusals
            client.app.state.kaiku.rate_limits.recent_refusals = RecentRefusals(clock=lambda: now[0])
        made = first.post("/v1/admin/teams", json={"id": "north", "brands": ["revontuli"]}, headers=bearer(ADMIN_KEY))
        assert made.status_code == 201
        key = bearer(first.post("/v1/admin/teams/north/keys", headers=bearer(ADMIN_KEY)).json()["key"])
        statuses = [client.get("/v1/brands", headers=key).status_code for client in (first, second) * 3]
        assert statuses == [200] * 4 + [429] * 2  # four for the two together, not four each
        # A key revoked through one replica is refused by the other at once: for a second still as over its budget
        # (the replica refused it for that a moment ago and remembers it, api/ratelimit.py), then as not valid.
        key_id = key["Authorization"].split("_")[1]
        second.delete(f"/v1/admin/keys/{key_id}", headers=bearer(ADMIN_KEY))
        assert first.get("/v1/brands", headers=key).status_code == 429
        now[0] = REFUSAL_MEMORY_S
        assert first.get("/v1/brands", headers=key).status_code == 401


def _spend(url: str, attempts: int) -> int:
    storage = DatabaseStorage(open_database(url))
    limits = RateLimits(Budget(1, 30), Budget(1, 1000), Budget(1, 1), storage)
    return sum(limits.take("key", "team") == 0.0 for _ in range(attempts))


def test_two_processes_spend_one_budget(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kaiku.db'}"
    open_database(url).dispose()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        allowed = sum(pool.starmap(_spend, [(url, 40), (url, 40)]))
    # Two processes racing for the last place may both be refused (never both allowed): what is left, if anything,
    # is still there for the next request.
    left = _spend(url, 40)
    assert allowed <= 30 and allowed + left == 30, (allowed, left)


@pytest.mark.unit
def test_the_window_frees_a_place_when_its_oldest_request_leaves(tmp_path: Path) -> None:
    now = [0.0]
    storage = DatabaseStorage(open_database(f"sqlite:///{tmp_path / 'k.db'}"), clock=lambda: now[0])
    limits = RateLimits(Budget(60, 2), Budget(60, 2), Budget(60, 2), storage)  # 2 requests per 2 s
    assert [limits.take("k", None), limits.take("k", None)] == [0.0, 0.0]
    assert limits.take("k", None) == pytest.approx(2.0)
    now[0] = 1.5
    assert limits.take("k", None) == pytest.approx(0.5)
    now[0] = 2.0
    assert limits.take("k", None) == 0.0
    assert limits.take("other", None) == 0.0
    # Failed logins: refused once the address's budget is spent, before anything else is checked.
    assert limits.auth_blocked("10.0.0.1") == 0.0
    limits.auth_failed("10.0.0.1")
    limits.auth_failed("10.0.0.1")
    assert limits.auth_blocked("10.0.0.1") == pytest.approx(2.0)


@pytest.mark.unit
def test_the_storage_setting_is_used_or_refused_never_ignored(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'k.db'}")
    assert isinstance(open_storage("database", db), DatabaseStorage)
    assert isinstance(open_storage("memory://", db), MemoryStorage)
    for wrong in ("nosuch://x", "databse", "redis://127.0.0.1:1"):  # redis: no client installed here
        with pytest.raises(ValueError, match=f"KAIKU_RATE_LIMIT_STORAGE='{wrong}'"):
            open_storage(wrong, db)


@pytest.mark.unit
def test_a_window_that_is_not_whole_seconds_is_rounded_up_and_said(caplog: pytest.LogCaptureFixture) -> None:
    item = Budget(per_minute=600, burst=7).item("key")  # 0.7 s
    assert (item.amount, item.get_expiry()) == (7, 1)
    assert "rounded up" in caplog.text


@pytest.mark.slow
def test_kaiku_serve_workers_answer_on_one_port_and_spend_one_budget(tmp_path: Path) -> None:
    """`kaiku serve --workers 2`: two processes on one port, a key's budget (5 requests) spent once for both."""
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, config_dir=REPO_CONFIGS)
    teams = team_store(settings)
    key = teams.create_key(teams.create_team("north", brands=["revontuli"]).id).secret
    port = free_port()
    environment = {
        **os.environ, "KAIKU_DATA_DIR": str(data_dir), "KAIKU_CONFIG_DIR": str(REPO_CONFIGS),
        "KAIKU_RATE_LIMIT_BURST": "5", "KAIKU_RATE_LIMIT_PER_MINUTE": "5",
    }  # fmt: skip
    command = [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen([*command, "--log-level", "WARNING"], env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # each worker imports Kaiku first
        while not _answers(f"{base}/livez"):
            assert server.poll() is None and time.monotonic() < deadline, "kaiku serve --workers 2 did not start"
            time.sleep(0.5)
        workers = [p for p in Path("/proc").glob("[0-9]*/stat") if _parent(p) == server.pid]
        assert len(workers) >= 2  # uvicorn's workers (and perhaps multiprocessing's resource tracker)

        def ask(_: int) -> int:  # a new connection each time: the kernel hands them to either worker
            return httpx.get(f"{base}/v1/brands", headers=bearer(key), timeout=30).status_code

        with ThreadPoolExecutor(10) as pool:
            statuses = list(pool.map(ask, range(20)))
        # Never more than the budget across both workers; two requests racing for the last place may both be
        # refused (DatabaseStorage's rule), so fewer than 5 may pass.
        assert set(statuses) <= {200, 429}
        assert 1 <= statuses.count(200) <= 5
    finally:
        server.terminate()
        server.wait(30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _parent(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@pytest.mark.unit
@pytest.mark.parametrize("workers", ["0", "65", "two"])
def test_a_worker_count_out_of_range_is_refused(workers: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAIKU_API_WORKERS", workers)
    with pytest.raises(ValidationError, match="api_workers"):
        Settings()
