"""Teams, keys and rate limits: every route tried without a key, with a wrong key and with another team's key."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import require_admin
from api.ratelimit import REFUSAL_MEMORY_S, RecentRefusals
from core.config import load_config
from core.settings import Settings
from kaiku.wiring import team_store
from tests.api.conftest import ADMIN_KEY, bearer
from tests.api.dataset import WINDOW, seed

pytestmark = pytest.mark.integration

BRAND_ROUTES = ["/v1/brands/{b}/metrics", "/v1/brands/{b}/breakdown?by=lang", "/v1/brands/{b}/outliers"]
MENTION_ROUTES = ["/v1/mentions?brand={b}", "/v1/mentions/export?format=csv&brand={b}"]
MANAGE_ROUTES = [
    ("GET", "/v1/brands/{b}"), ("PUT", "/v1/brands/{b}"), ("DELETE", "/v1/brands/{b}"),
    ("GET", "/v1/alerts/{b}-anger"), ("PUT", "/v1/alerts/{b}-anger"), ("DELETE", "/v1/alerts/{b}-anger"),
]  # fmt: skip
ADMIN_ROUTES = [
    ("GET", "/v1/sources"), ("POST", "/v1/sources"), ("GET", "/v1/sources/demo-reviews"),
    ("PUT", "/v1/sources/demo-reviews"), ("DELETE", "/v1/sources/demo-reviews"), ("POST", "/v1/admin/config/import"),
    ("GET", "/v1/admin/teams"), ("POST", "/v1/admin/teams"), ("GET", "/v1/admin/teams/north"),
    ("PATCH", "/v1/admin/teams/north"), ("DELETE", "/v1/admin/teams/north"), ("POST", "/v1/admin/teams/north/keys"),
    ("GET", "/v1/admin/teams/north/keys"), ("DELETE", "/v1/admin/keys/abc"),
]  # fmt: skip


def brand_routes(brand: str, mention_id: str) -> list[tuple[str, str]]:
    """Every route naming a brand (or one of its mentions)."""
    routes = [("GET", r.format(b=brand)) for r in BRAND_ROUTES + MENTION_ROUTES]
    routes += [(method, r.format(b=brand)) for method, r in MANAGE_ROUTES]
    return [*routes, ("GET", f"/v1/mentions/{mention_id}")]


def every_route(brand: str, mention_id: str) -> list[tuple[str, str]]:
    general = [("GET", "/v1/brands"), ("GET", "/v1/mentions"), ("GET", "/v1/mentions/export?format=csv"),
               ("POST", "/v1/brands"), ("GET", "/v1/alerts"), ("POST", "/v1/alerts")]  # fmt: skip
    return [*brand_routes(brand, mention_id), *ADMIN_ROUTES, *general]


def test_missing_or_wrong_key_is_401_everywhere(
    anonymous: TestClient, keys: dict, es: Elasticsearch, alias: str
) -> None:
    mentions = seed(es, alias)
    wrong = [
        None,
        "Bearer nope",
        "Bearer kaiku_000000000000_guess",
        f"Bearer {keys['north']}x",
        f"Basic {keys['north']}",
    ]
    for method, path in every_route("revontuli", mentions["R1"].id):
        for header in wrong:
            response = anonymous.request(method, path, headers={"Authorization": header} if header else {})
            assert response.status_code == 401, (method, path, header, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.headers["content-type"].startswith("application/problem+json")


def test_another_teams_brand_is_404_on_every_route(app: FastAPI, keys: dict, es: Elasticsearch, alias: str) -> None:
    mentions = seed(es, alias)
    with TestClient(app, headers=bearer(keys["north"])) as north:
        for method, path in brand_routes("tunturi", mentions["T1"].id):
            response = north.request(method, path, json={} if method in {"POST", "PATCH", "PUT"} else None)
            assert response.status_code == 404, (method, path, response.text)
        # Its own brand works (competitors it may not see are left out: test_competitor_figures_...).
        own = north.get("/v1/brands/revontuli/metrics", params={"tz": "Europe/Helsinki", **WINDOW})
        assert own.status_code == 200 and own.json()["data"][0]["earned"] == 2
        # Without a brand filter a search covers only the team's own brands.
        found = north.get("/v1/mentions", params={"limit": 200}).json()["data"]
        assert found and {m["brand"] for m in found} == {"revontuli"}
        export = north.get("/v1/mentions/export", params={"format": "ndjson"}).text.splitlines()
        assert len(export) == len(found)
        assert north.get("/v1/brands").json()["count"] == 1


def admin_only_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route that depends on the admin key."""

    def needs_admin(dependant: Dependant) -> bool:
        return any(d.call is require_admin or needs_admin(d) for d in dependant.dependencies)

    # Included routers keep their routes (paths with the router's prefix) on `original_router`.
    included = [getattr(route, "original_router", None) for route in app.routes]
    routes = [*app.routes, *(route for router in included if router for route in router.routes)]
    return sorted(
        (method, route.path)
        for route in routes
        if isinstance(route, APIRoute) and needs_admin(route.dependant)
        for method in route.methods
    )


def test_a_team_key_on_an_admin_route_is_403_and_the_route_is_documented_as_admin(app: FastAPI, keys: dict) -> None:
    routes = admin_only_routes(app)
    templates = [re.compile(re.sub(r"\{\w+\}", "[^/]+", t)) for _, t in routes]
    assert all(any(t.fullmatch(path) for t in templates) for _, path in ADMIN_ROUTES)  # the list above is found
    api_doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    openapi = app.openapi()["paths"]
    with TestClient(app, headers=bearer(keys["both"])) as team:
        for method, template in routes:
            path = re.sub(r"\{\w+\}", "demo-reviews", template)
            response = team.request(method, path, json={} if method in {"POST", "PATCH", "PUT"} else None)
            assert response.status_code == 403, (method, path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "admin key required" in response.json()["detail"]
            assert "403" in openapi[template][method.lower()]["responses"], (method, template)
            assert template in api_doc, f"docs/api.md does not list the admin route {template}"


def test_admin_manages_teams_and_keys(app: FastAPI, api_settings: Settings) -> None:
    with TestClient(app, headers=bearer(ADMIN_KEY)) as admin:
        created = admin.post("/v1/admin/teams", json={"id": "growth", "name": "Growth", "brands": ["tunturi"]})
        assert created.status_code == 201 and created.json()["brands"] == ["tunturi"]
        assert admin.post("/v1/admin/teams", json={"id": "growth"}).status_code == 409
        bad = admin.post("/v1/admin/teams", json={"id": "x", "brands": ["nosuch"]})
        assert bad.status_code == 422 and "nosuch" in bad.json()["detail"]
        assert admin.post("/v1/admin/teams", json={"id": "Bad Id!"}).status_code == 422
        key = admin.post("/v1/admin/teams/growth/keys").json()
        assert key["key"].startswith(f"kaiku_{key['id']}_")
        listed = admin.get("/v1/admin/teams/growth/keys").json()["data"]
        assert [k["id"] for k in listed] == [key["id"]] and "key" not in listed[0]
        # The key works, sees its brand, then the team gains a brand.
        with TestClient(app, headers=bearer(key["key"])) as growth:
            assert [b["id"] for b in growth.get("/v1/brands").json()["data"]] == ["tunturi"]
            admin.patch("/v1/admin/teams/growth", json={"brands": ["tunturi", "revontuli"]})
            assert growth.get("/v1/brands").json()["count"] == 2
            assert admin.delete(f"/v1/admin/keys/{key['id']}").json()["revoked_at"]
            assert growth.get("/v1/brands").status_code == 401
        assert admin.delete("/v1/admin/teams/growth").status_code == 204
        assert admin.get("/v1/admin/teams/growth").status_code == 404


def test_keys_are_stored_hashed(api_settings: Settings) -> None:
    store = team_store(api_settings)
    store.create_team("t1", brands=["revontuli"])
    key = store.create_key("t1")
    secret = key.secret.split("_", 2)[2]
    files = [api_settings.data_dir / name for name in ("kaiku.db", "kaiku.db-wal")]  # the database is in WAL mode
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    assert key.info.id.encode() in raw  # the key's row is in what was read ...
    assert secret.encode() not in raw and key.secret.encode() not in raw  # ... and its secret is not
    with sqlite3.connect(api_settings.data_dir / "kaiku.db") as db:
        salts = [row[0] for row in db.execute("SELECT salt FROM api_keys")]
    assert len(salts[0]) == 16
    found = store.key_and_team(key.secret)
    assert found is not None and found[0] == key.info and found[1].id == "t1"
    assert store.key_and_team(key.secret[:-1] + ("A" if key.secret[-1] != "A" else "B")) is None


def test_rate_limit_per_key(api_settings: Settings, keys: dict) -> None:
    limited = api_settings.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 2})
    with TestClient(create_app(limited)) as client:
        statuses = [client.get("/v1/brands", headers=bearer(keys["north"])).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        refused = client.get("/v1/brands", headers=bearer(keys["north"]))
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 110 <= int(refused.headers["retry-after"]) <= 120  # 2 requests per 2 minutes
        # Another key has its own bucket.
        assert client.get("/v1/brands", headers=bearer(keys["fell"])).status_code == 200


def test_a_key_refused_a_moment_ago_is_refused_again_without_reading_the_database(
    api_settings: Settings, keys: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = api_settings.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 2})
    app = create_app(limited)
    with TestClient(app) as client:
        state = app.state.kaiku
        now = [0.0]
        state.rate_limits.recent_refusals = RecentRefusals(clock=lambda: now[0])
        looked_up: list[str] = []
        lookup = state.teams.key_and_team
        monkeypatch.setattr(
            state.teams, "key_and_team", lambda presented: looked_up.append(presented) or lookup(presented)
        )

        def status() -> tuple[int, int]:
            response = client.get("/v1/brands", headers=bearer(keys["north"]))
            return response.status_code, len(looked_up)

        assert [status() for _ in range(3)] == [(200, 1), (200, 2), (429, 3)]  # the budget refused the third
        now[0] = 0.5
        refused = client.get("/v1/brands", headers=bearer(keys["north"]))
        assert refused.status_code == 429 and len(looked_up) == 3  # refused from memory: no lookup, no count
        assert 110 <= int(refused.headers["retry-after"]) <= 120  # the budget's own wait, not the memory's second
        assert client.get("/v1/brands", headers=bearer(keys["fell"])).status_code == 200  # other keys as before
        assert len(looked_up) == 4
        now[0] = REFUSAL_MEMORY_S
        assert status() == (429, 5)  # after a second the budget is asked again, and refuses again


def test_competitor_figures_only_for_brands_the_team_may_see(
    app: FastAPI, keys: dict, api_settings: Settings, es: Elasticsearch, alias: str
) -> None:
    """Issue 18.3: revontuli names tunturi as competitor; north owns only revontuli, `both` owns the two."""
    seed(es, alias)
    params = {"interval": "week", "tz": "Europe/Helsinki", **WINDOW}
    with TestClient(app, headers=bearer(keys["north"])) as north, TestClient(app, headers=bearer(keys["both"])) as both:
        # Metrics: tunturi is in neither the series, the totals, the set, nor the set's outliers behind share of voice.
        seen = north.get("/v1/brands/revontuli/metrics", params=params).json()
        assert seen["competitive_set"] == ["revontuli"]
        week1 = seen["data"][0]
        assert week1["competitors"] == {} and seen["totals"]["competitors"] == {}
        assert week1["set_earned"] == week1["earned"] == 2 and week1["earned_sov"] == 1.0
        assert "tunturi" not in north.get("/v1/brands/revontuli/metrics", params={**params, "reach": "true"}).text
        # A team that may see tunturi gets its figures, and the whole set's.
        full = both.get("/v1/brands/revontuli/metrics", params=params).json()
        assert full["competitive_set"] == ["revontuli", "tunturi"] and full["data"][0]["set_earned"] == 4
        assert full["data"][0]["competitors"]["tunturi"]["earned"] == 2
        # The brand list and the brand's configuration name no brand the team may not see.
        assert north.get("/v1/brands").json()["data"][0]["competitors"] == []
        assert both.get("/v1/brands").json()["data"][0]["competitors"] == ["tunturi"]
        configured = north.get("/v1/brands/revontuli").json()
        assert configured["competitors"] == []
        # Changing the brand keeps the competitor it was not shown (another team's choice, or the admin's).
        assert north.put("/v1/brands/revontuli", json={**configured, "aliases": ["Revontuli"]}).status_code == 200
        assert load_config(api_settings.config_dir).brand("revontuli").competitors == ["tunturi"]
        # Naming a brand it may not see is refused, the same for one that exists and one that does not.
        answers = []
        for other in ("tunturi", "nosuch"):
            refused = north.post("/v1/brands", json={"id": "spy", "name": "Spy", "competitors": [other]})
            assert refused.status_code == 422, refused.text
            assert [e["parameter"] for e in refused.json()["errors"]] == ["competitors.0"]
            answers.append(refused.json()["errors"][0]["msg"].replace(other, "X"))
        assert answers[0] == answers[1]
        refused = north.put("/v1/brands/revontuli", json={**configured, "competitors": ["tunturi"]})
        assert refused.status_code == 422 and refused.json()["errors"][0]["parameter"] == "competitors.0"
        assert (
            both.post("/v1/brands", json={"id": "rival", "name": "Rival", "competitors": ["tunturi"]}).status_code
            == 201
        )


def test_a_taken_id_answers_the_same_whoever_has_it(app: FastAPI, keys: dict) -> None:
    """Issue 18.8: ids are one namespace, so a taken id is a 409, but it says no more than that it is taken."""
    rule = {"id": "tunturi-anger", "brand": "revontuli", "recipients": ["a@b.example"]}
    with TestClient(app, headers=bearer(keys["north"])) as north:
        others = north.post("/v1/brands", json={"id": "tunturi", "name": "Mine"})
        own = north.post("/v1/brands", json={"id": "revontuli", "name": "Mine"})
        assert others.status_code == own.status_code == 409
        assert others.json()["detail"] == "brand id 'tunturi' is in use; choose another id"
        assert own.json()["detail"] == "brand id 'revontuli' is in use; choose another id"
        taken_rule = north.post("/v1/alerts", json=rule)
        assert taken_rule.status_code == 409 and taken_rule.json()["detail"] == (
            "alert rule id 'tunturi-anger' is in use; choose another id"
        )


def test_a_new_brand_is_not_seen_by_a_team_left_listed_for_an_old_one_of_its_id(
    app: FastAPI, keys: dict, api_settings: Settings
) -> None:
    """A brand deleted by a process that died before updating the teams leaves a row behind; reusing the id must
    not hand the new brand to that team."""
    team_store(api_settings).grant_brand("fell", "merituuli")
    with TestClient(app, headers=bearer(keys["north"])) as north, TestClient(app, headers=bearer(keys["fell"])) as fell:
        assert north.post("/v1/brands", json={"id": "merituuli", "name": "Merituuli"}).status_code == 201
        assert north.get("/v1/brands/merituuli").status_code == 200
        assert fell.get("/v1/brands/merituuli").status_code == 404


def test_the_memory_of_refusals_stays_bounded_and_forgets() -> None:
    now = [0.0]
    refusals = RecentRefusals(clock=lambda: now[0], most=2)
    refusals.remember("kaiku_a_1", 30.0)
    refusals.remember("kaiku_b_2", 0.2)  # a wait shorter than the memory's second: remembered as long as the wait
    assert refusals.wait("kaiku_a_1") == 30.0 and refusals.wait("kaiku_b_2") == 0.2 and refusals.wait("other") == 0.0
    now[0] = 0.5
    refusals.remember("kaiku_c_3", 30.0)  # full: the expired b goes first
    assert refusals.wait("kaiku_a_1") == 29.5 and refusals.wait("kaiku_c_3") == 30.0 and refusals.wait("kaiku_b_2") == 0
    refusals.remember("kaiku_d_4", 30.0)  # full of live ones: all forgotten rather than growing
    assert [refusals.wait(k) for k in ("kaiku_a_1", "kaiku_c_3", "kaiku_d_4")] == [0.0, 0.0, 30.0]
    now[0] = 0.5 + REFUSAL_MEMORY_S
    assert refusals.wait("kaiku_d_4") == 0.0  # a second later the budgets are asked again
