"""/v1/incidents: the alert check's incidents, only those of the caller's brands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from api.app import create_app
from core.settings import Settings
from kaiku.db import incidents, open_database
from kaiku.wiring import team_store
from tests.api.conftest import bearer

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 10, 8, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}")


@pytest.fixture
def keys(settings: Settings) -> dict[str, str]:
    store = team_store(settings)
    owned = {"both": ["revontuli", "tunturi"], "fell": ["tunturi"]}
    return {team: store.create_key(store.create_team(team, brands=brands).id).secret for team, brands in owned.items()}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    db = open_database(settings.resolved_database_url)
    with db.begin() as conn:
        for brand, status in (("revontuli", "open"), ("tunturi", "open"), ("revontuli", "closed")):
            conn.execute(
                insert(incidents).values(
                    rule_id=f"{brand}-anger", brand=brand, experience="anger", status=status, start=START,
                    end=START + timedelta(hours=2), peak=START, peak_value=7, baseline=0.5, score=6.0,
                    severity="high", window_seconds=3600, opened_at=START, updated_at=START,
                    closed_at=START + timedelta(hours=3) if status == "closed" else None,
                )
            )  # fmt: skip
    db.dispose()
    with TestClient(create_app(settings)) as client:
        yield client


def brands_of(response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"])
    return [(row["brand"], row["status"]) for row in body["data"]]


def test_a_team_sees_only_the_incidents_of_its_own_brands(client: TestClient, keys: dict[str, str]) -> None:
    both, fell = bearer(keys["both"]), bearer(keys["fell"])
    assert brands_of(client.get("/v1/incidents", headers=both)) == [
        ("revontuli", "closed"), ("tunturi", "open"), ("revontuli", "open")
    ]  # fmt: skip
    assert brands_of(client.get("/v1/incidents?status=open", headers=both)) == [
        ("tunturi", "open"),
        ("revontuli", "open"),
    ]
    assert brands_of(client.get("/v1/incidents", headers=fell)) == [("tunturi", "open")]
    # Another team's brand named outright is as empty as an unknown one.
    assert brands_of(client.get("/v1/incidents?brand=revontuli", headers=fell)) == []
    row = client.get("/v1/incidents?brand=tunturi", headers=fell).json()["data"][0]
    assert (row["peak_value"], row["window_seconds"], row["end"]) == (7, 3600, "2026-11-10T10:00:00Z")


def test_bad_parameters_and_missing_keys_are_refused(client: TestClient, keys: dict[str, str]) -> None:
    assert client.get("/v1/incidents").status_code == 401
    response = client.get("/v1/incidents?status=ongoing", headers=bearer(keys["both"]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "status"
