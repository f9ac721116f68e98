"""/v1/cases against the real engine and database, and the follow-up reminder delivered over real SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from api.app import create_app
from core.config import load_config
from core.settings import Settings
from indexer.es_store import ElasticsearchMentionStore
from kaiku.alerts.outbox import deliver_due, list_outbox
from kaiku.alerts.smtp import SmtpSender
from kaiku.cases import queue_followup_reminders
from kaiku.db import open_database
from kaiku.local_engine import LocalEngine
from kaiku.wiring import team_store
from tests.alerts.conftest import SmtpServer, index_mentions
from tests.alerts.test_alert_e2e import NOW
from tests.api.conftest import bearer

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(engine: LocalEngine, alias: str, tmp_path: Path) -> Settings:
    return Settings(
        elasticsearch_url=engine.url,
        index_alias=alias,
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        followup_days=10,
    )


@pytest.fixture
def team_keys(settings: Settings) -> dict[str, str]:
    """`both` owns both demo brands, `fell` only tunturi."""
    store = team_store(settings)
    owned = {"both": ["revontuli", "tunturi"], "fell": ["tunturi"]}
    return {team: store.create_key(store.create_team(team, brands=brands).id).secret for team, brands in owned.items()}


@pytest.fixture
def api(settings: Settings, team_keys: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=bearer(team_keys["both"])) as client:
        yield client


def test_a_team_sees_and_changes_only_the_cases_of_its_own_brands(
    api: TestClient, settings: Settings, team_keys: dict[str, str], es: Elasticsearch, alias: str
) -> None:
    [revontuli] = index_mentions(es, alias, "revontuli", [NOW])
    [tunturi] = index_mentions(es, alias, "tunturi", [NOW - timedelta(minutes=5)])
    north_case = api.post("/v1/cases", json={"mention_id": revontuli.id, "owner": "a@r.example"}).json()
    fell_case = api.post("/v1/cases", json={"mention_id": tunturi.id, "owner": "b@t.example"}).json()
    with TestClient(create_app(settings), headers=bearer(team_keys["fell"])) as fell:
        assert [case["id"] for case in fell.get("/v1/cases").json()["data"]] == [fell_case["id"]]
        assert fell.get(f"/v1/cases/{north_case['id']}").status_code == 404
        assert fell.patch(f"/v1/cases/{north_case['id']}", json={"status": "closed"}).status_code == 404
        again = fell.post("/v1/cases", json={"mention_id": revontuli.id, "owner": "c@t.example"})
        assert again.status_code == 422 and "no mention" in again.json()["detail"]
        assert fell.get(f"/v1/cases/{fell_case['id']}").json()["brand"] == "tunturi"
    with TestClient(create_app(settings)) as anonymous:
        assert anonymous.get("/v1/cases").status_code == 401
    assert api.get(f"/v1/cases/{north_case['id']}").json()["status"] == "open"


def test_case_lifecycle_and_errors(api: TestClient, es: Elasticsearch, alias: str) -> None:
    [angry] = index_mentions(es, alias, "revontuli", [NOW])
    [calm] = index_mentions(es, alias, "revontuli", [NOW - timedelta(hours=1)], experience="comfort")

    created = api.post("/v1/cases", json={"mention_id": angry.id, "owner": "anna@revontuli.example"})
    assert created.status_code == 201, created.text
    case = created.json()
    assert (case["status"], case["brand"], case["mention_url"]) == ("open", "revontuli", angry.url)

    duplicate = api.post("/v1/cases", json={"mention_id": angry.id, "owner": "anna@revontuli.example"})
    assert duplicate.status_code == 409 and duplicate.json()["case_id"] == case["id"]
    assert duplicate.headers["content-type"] == "application/problem+json"
    not_outlier = api.post("/v1/cases", json={"mention_id": calm.id, "owner": "anna@revontuli.example"})
    assert not_outlier.status_code == 422 and "not an anger outlier" in not_outlier.json()["detail"]
    missing = api.post("/v1/cases", json={"mention_id": "nope", "owner": "anna@revontuli.example"})
    assert missing.status_code == 422 and "mention_id" in missing.json()["detail"]
    no_incident = api.post("/v1/cases", json={"mention_id": calm.id, "owner": "a@r.example", "incident_id": 5})
    assert no_incident.status_code == 422  # (the mention is checked first: not an outlier)
    bad_owner = api.post("/v1/cases", json={"mention_id": angry.id, "owner": "anna"})
    assert bad_owner.status_code == 422 and bad_owner.json()["errors"][0]["parameter"] == "owner"

    url = f"/v1/cases/{case['id']}"
    skip = api.patch(url, json={"status": "followed_up"})
    assert skip.status_code == 409 and skip.json()["allowed"] == ["responded", "closed"]
    assert api.patch(url, json={"status": "lost"}).status_code == 422
    responded = api.patch(url, json={"status": "responded", "note": "Called, offered a refund"}).json()
    assert responded["status"] == "responded" and responded["note"] == "Called, offered a refund"
    due = datetime.fromisoformat(responded["follow_up_at"]) - datetime.fromisoformat(responded["responded_at"])
    assert due == timedelta(days=10)
    assert api.patch(url, json={"status": "followed_up"}).json()["status"] == "followed_up"
    assert api.patch(url, json={"status": "closed"}).json()["status"] == "closed"
    reopened = api.patch(url, json={"status": "open"})
    assert reopened.status_code == 409 and "closed" in reopened.json()["detail"]

    assert api.get("/v1/cases/999999").status_code == 404
    assert api.get("/v1/cases", params={"status": "closed"}).json()["count"] == 1
    assert api.get("/v1/cases", params={"status": "open"}).json() == {"data": [], "count": 0, "next": None}
    bad_cursor = api.get("/v1/cases", params={"cursor": "abc"})
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["parameter"] == "cursor"


def test_pagination(api: TestClient, es: Elasticsearch, alias: str) -> None:
    mentions = index_mentions(es, alias, "tunturi", [NOW - timedelta(minutes=n) for n in range(3)])
    ids = [api.post("/v1/cases", json={"mention_id": m.id, "owner": "o@t.example"}).json()["id"] for m in mentions]
    first = api.get("/v1/cases", params={"limit": 2, "brand": "tunturi"}).json()
    assert [c["id"] for c in first["data"]] == ids[:2] and first["count"] == 3
    second = api.get("/v1/cases", params={"limit": 2, "brand": "tunturi", "cursor": first["next"]}).json()
    assert [c["id"] for c in second["data"]] == ids[2:] and second["next"] is None


def test_reminder_when_a_responded_case_reaches_its_follow_up_date(
    api: TestClient, es: Elasticsearch, alias: str, settings: Settings, config_dir: Path, smtp_server: SmtpServer
) -> None:
    [angry] = index_mentions(es, alias, "tunturi", [NOW], texts=["Huone oli kylmä"])
    body = {"mention_id": angry.id, "owner": "ville@tunturi.example", "language": "fi"}
    case = api.post("/v1/cases", json=body).json()
    responded = api.patch(f"/v1/cases/{case['id']}", json={"status": "responded", "note": "Soitettu"}).json()
    follow_up = datetime.fromisoformat(responded["follow_up_at"])
    db = open_database(settings.resolved_database_url)
    config = load_config(config_dir)

    args = ("https://kaiku.example/api", "kaiku@test.example")
    assert queue_followup_reminders(db, config, follow_up - timedelta(minutes=1), *args) == []
    assert queue_followup_reminders(db, config, follow_up, *args) == [case["id"]]
    assert queue_followup_reminders(db, config, follow_up + timedelta(days=1), *args) == []  # once only
    assert len(deliver_due(db, SmtpSender(smtp_server.config), follow_up).sent) == 1
    [(recipients, message)] = smtp_server.inbox.received
    assert recipients == ["ville@tunturi.example"]
    assert message["Subject"] == "[Kaiku] Seuraa tänään asiakasta: Tunturi Inn"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert angry.url in text and "Soitettu" in text and f"PATCH https://kaiku.example/api/v1/cases/{case['id']}" in text
    assert [row["kind"] for row in list_outbox(db)] == ["reminder"]
    assert api.get(f"/v1/cases/{case['id']}").json()["reminder_queued_at"] is not None
    db.dispose()


def test_a_case_can_belong_to_an_incident(
    api: TestClient, es: Elasticsearch, alias: str, settings: Settings, config_dir: Path
) -> None:
    from kaiku.alerts.check import CheckOptions, check_alerts
    from tests.alerts.conftest import every

    # Three quiet days of history (a brand without any gets the detector's warm-up), then a burst.
    index_mentions(es, alias, "revontuli", every(NOW - timedelta(days=3), NOW - timedelta(hours=2), timedelta(hours=7)))
    burst = index_mentions(es, alias, "revontuli", every(NOW - timedelta(minutes=30), NOW, timedelta(minutes=3)))
    [tunturi] = index_mentions(es, alias, "tunturi", [NOW])
    db = open_database(settings.resolved_database_url)
    [incident_id] = check_alerts(
        ElasticsearchMentionStore(es, alias), db, load_config(config_dir), NOW, CheckOptions(), ["revontuli-anger"]
    )[0].new
    body = {"mention_id": burst[0].id, "owner": "anna@revontuli.example", "incident_id": incident_id}
    created = api.post("/v1/cases", json=body)
    assert created.status_code == 201 and created.json()["incident_id"] == incident_id
    other_brand = api.post("/v1/cases", json={**body, "mention_id": tunturi.id})
    assert other_brand.status_code == 422 and other_brand.json()["errors"] == [
        {"parameter": "incident_id", "in": "body"}
    ]
    unknown = api.post("/v1/cases", json={**body, "mention_id": burst[1].id, "incident_id": incident_id + 100})
    assert unknown.status_code == 422 and f"no incident with id {incident_id + 100}" in unknown.json()["detail"]
    db.dispose()
