"""API fixtures: an app on the real local engine, a team database per test, keys for two teams and the admin."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import REPO_CONFIGS, Settings
from kaiku.local_engine import LocalEngine
from kaiku.wiring import team_store

ADMIN_KEY = "test-admin-key-0123456789"


@pytest.fixture
def api_settings(engine: LocalEngine, alias: str, tmp_path: Path) -> Settings:
    """Settings with a copy of configs/ (the management API writes to it) and a fresh database (teams, keys)."""
    config_dir = tmp_path / "configs"
    shutil.copytree(REPO_CONFIGS, config_dir)
    return Settings(
        elasticsearch_url=engine.url,
        index_alias=alias,
        data_dir=tmp_path / "data",
        admin_key=ADMIN_KEY,
        config_dir=config_dir,
        # The suites send hundreds of wrong keys from one address on purpose; test_api_guards.py tests the limit.
        auth_failure_burst=100_000,
    )


@pytest.fixture
def app(api_settings: Settings) -> FastAPI:
    return create_app(api_settings)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keys(api_settings: Settings) -> dict[str, str]:
    """Keys of three teams: `both` owns revontuli and tunturi, `north` only revontuli, `fell` only tunturi."""
    store = team_store(api_settings)
    owned = {"both": ["revontuli", "tunturi"], "north": ["revontuli"], "fell": ["tunturi"]}
    return {team: store.create_key(store.create_team(team, brands=brands).id).secret for team, brands in owned.items()}


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    """A client sending no key."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def api(app: FastAPI, keys: dict[str, str]) -> Iterator[TestClient]:
    """A client with the key of a team owning both configured brands."""
    with TestClient(app, headers=bearer(keys["both"])) as client:
        yield client
