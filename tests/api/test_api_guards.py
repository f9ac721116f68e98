"""Hostile requests: key guessing, many keys of one team, costly search texts, and what responses reveal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from limits.storage import MemoryStorage
from pydantic import SecretStr

from api.app import create_app
from api.ratelimit import Budget, DatabaseStorage, RateLimits
from core.settings import Settings
from indexer.search_text import MAX_EXPANDING_TERMS, QueryTooCostly, search_text_cost
from kaiku.db import open_database
from kaiku.wiring import team_store
from tests.api.conftest import ADMIN_KEY, bearer
from tests.api.dataset import seed

pytestmark = pytest.mark.integration


def app_with(settings: Settings, **update: Any) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=update)))


def test_key_guessing_from_one_address_gets_429_before_keys_are_checked(api_settings: Settings, keys: dict) -> None:
    with app_with(api_settings, auth_failure_burst=5, auth_failures_per_minute=1) as client:
        guesses = [client.get("/v1/brands", headers=bearer(f"kaiku_guess_{n}")).status_code for n in range(8)]
        assert guesses == [401] * 5 + [429] * 3
        refused = client.get("/v1/brands", headers=bearer("kaiku_guess_9"))
        assert refused.headers["content-type"].startswith("application/problem+json")
        # 5 failures per 5 minutes: the first failure leaves the window 300 s after it was made.
        assert 290 <= int(refused.headers["retry-after"]) <= 300
        # Even the right key is not checked from that address until the window has passed.
        assert client.get("/v1/brands", headers=bearer(keys["north"])).status_code == 429
        # Requests without a key count as failures too: /metrics is no way around the limit.
        assert client.get("/metrics").status_code == 429
    app = create_app(api_settings.model_copy(update={"auth_failure_burst": 5}))
    with TestClient(app) as first, TestClient(app, client=("192.0.2.7", 40000)) as other:
        for _ in range(5):
            first.get("/v1/brands", headers=bearer("kaiku_wrong"))
        assert first.get("/v1/brands", headers=bearer(keys["north"])).status_code == 429
        # Another address is not punished for the first one's guesses.
        assert other.get("/v1/brands", headers=bearer(keys["north"])).status_code == 200


def test_a_team_with_many_keys_has_one_team_budget(api_settings: Settings, keys: dict) -> None:
    store = team_store(api_settings)
    team_keys = [keys["north"]] + [store.create_key("north").secret for _ in range(3)]
    with app_with(api_settings, rate_limit_burst=10, team_rate_limit_burst=4, team_rate_limit_per_minute=1) as client:
        statuses = [client.get("/v1/brands", headers=bearer(key)).status_code for key in team_keys * 2]
        assert statuses == [200] * 4 + [429] * 4
        assert "team" in client.get("/v1/brands", headers=bearer(team_keys[0])).json()["detail"]
        # Another team has its own budget.
        assert client.get("/v1/brands", headers=bearer(keys["fell"])).status_code == 200


@pytest.mark.unit
def test_key_and_team_budgets_are_spent_together_or_not_at_all(tmp_path: Path) -> None:
    now = [0.0]
    storage = DatabaseStorage(open_database(f"sqlite:///{tmp_path / 'k.db'}"), clock=lambda: now[0])
    limits = RateLimits(Budget(60, 3), Budget(60, 4), Budget(60, 5), storage)  # windows of 3, 4 and 5 s
    assert limits.take("k1", "t") == 0.0
    now[0] = 1.0
    assert limits.take("k1", "t", cost=2) == 0.0  # key: 0 left, team: 1 left
    assert limits.take("k1", "t") == pytest.approx(2.0)  # the key is spent until its first request is 3 s old ...
    assert limits.take("k2", "t") == 0.0  # ... and the team's place was not spent: another key gets it
    assert limits.take("k3", "t") == pytest.approx(3.0)  # now the team is spent: its first request leaves at 4 s
    assert limits.take("admin", None) == 0.0  # the admin has no team
    assert limits.take("k4", "t", cost=50) == pytest.approx(3.0)  # a cost above the burst waits for a whole window
    now[0] = 5.0
    assert limits.take("k4", "t", cost=50) == 0.0  # and takes all of it
    assert limits.take("k5", "t") > 0


def test_costly_search_texts_are_refused_naming_the_limit(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seed(es, alias)
    wildcard_alternatives = "|".join(f"{a}{b}*" for a in "abcdefghijklmnopqrstuvwxyz" for b in "aeiouy")[:500]
    refused = {
        wildcard_alternatives: "MIN_PREFIX_LENGTH",
        "kyl* | kam* | huo* | sta*": "MAX_EXPANDING_TERMS",
        '"staff beyond"~50': "MAX_PHRASE_SLOP",
        "((((staff))))": "MAX_NESTING_DEPTH",
        " ".join(f"w{n}" for n in range(21)): "MAX_QUERY_TERMS",
    }
    for q, limit in refused.items():
        response = api.get("/v1/mentions", params={"q": q})
        assert response.status_code == 422, (q, response.text)
        body = response.json()
        assert body["limit"] == limit and limit in body["detail"]
        assert body["errors"][0]["parameter"] == "q"
        assert api.get("/v1/mentions/export", params={"q": q, "format": "ndjson"}).status_code == 422
    # Within the bounds the same features still find what they should.
    found = {
        "kyl* | kam*": {"R4", "T2", "R1"},  # kylmä, kamala
        '"staff beyond"~3': {"R2"},
        "((staff) -rude)": {"R2"},
    }
    ids = {mention.id: name for name, mention in seed(es, alias).items()}
    for q, names in found.items():
        response = api.get("/v1/mentions", params={"q": q, "limit": 50})
        assert response.status_code == 200, (q, response.text)
        assert {ids[m["id"]] for m in response.json()["data"]} == names, q


def test_prefix_and_fuzzy_terms_are_charged_to_the_rate_budget(api_settings: Settings, keys: dict) -> None:
    with app_with(api_settings, rate_limit_burst=12, rate_limit_per_minute=1) as client:
        headers = bearer(keys["north"])
        # 1 + 2 * 4 = 9 of the 12 requests the key may send at once.
        assert search_text_cost("kyl* kam*").request_cost == 9
        first = client.get("/v1/mentions", params={"q": "kyl* kam*"}, headers=headers)
        assert first.status_code in (200, 503), first.text  # 503: nothing indexed in this test, charged anyway
        second = client.get("/v1/mentions", params={"q": "kyl* kam*"}, headers=headers)
        assert second.status_code == 429 and "costs 9 requests" in second.json()["detail"]
        # Ordinary requests still have what is left.
        assert client.get("/v1/brands", headers=headers).status_code == 200


@pytest.mark.unit
def test_search_text_bounds() -> None:
    assert search_text_cost("huone likainen").request_cost == 1
    assert search_text_cost('"unclosed ((( \\* ok').expanding_terms == 0
    assert search_text_cost("kaiku~2 tunt*").expanding_terms == 2
    with pytest.raises(QueryTooCostly) as refused:
        search_text_cost(" ".join(["abc*"] * (MAX_EXPANDING_TERMS + 1)))
    assert refused.value.limit == "MAX_EXPANDING_TERMS"
    with pytest.raises(QueryTooCostly):
        search_text_cost("x" * 501)


def test_security_headers_and_no_cors_unless_configured(api: TestClient, anonymous: TestClient) -> None:
    for client, path in ((api, "/v1/brands"), (anonymous, "/healthz"), (anonymous, "/v1/brands")):
        response = client.get(path, headers={"Origin": "https://evil.example"})
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert "access-control-allow-origin" not in response.headers, path
    docs = anonymous.get("/docs")
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline';" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy  # Swagger UI comes from this server (api/docs.py), no CDN
    preflight = anonymous.options(
        "/v1/brands", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_only_for_the_configured_origins(api_settings: Settings, keys: dict) -> None:
    with app_with(api_settings, cors_allowed_origins="https://dash.example, https://other.example/") as client:
        ask = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
        allowed = client.options("/v1/brands", headers={"Origin": "https://dash.example", **ask})
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
        assert "access-control-allow-credentials" not in allowed.headers
        assert client.options("/v1/brands", headers={"Origin": "https://other.example", **ask}).status_code == 200
        refused = client.options("/v1/brands", headers={"Origin": "https://evil.example", **ask})
        assert "access-control-allow-origin" not in refused.headers
        read = client.get("/v1/brands", headers={"Origin": "https://evil.example", **bearer(keys["north"])})
        assert read.status_code == 200 and "access-control-allow-origin" not in read.headers


def test_metrics_need_the_metrics_key_or_the_admin_key(api_settings: Settings, keys: dict) -> None:
    metrics_key = "metrics-reader-key-0123456789"
    with app_with(api_settings, metrics_key=SecretStr(metrics_key)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=bearer(keys["both"])).status_code == 401
        assert client.get("/metrics", headers=bearer("wrong")).status_code == 401
        for key in (metrics_key, ADMIN_KEY):
            response = client.get("/metrics", headers=bearer(key))
            assert response.status_code == 200 and "kaiku_http_requests_total" in response.text
        # The metrics key opens nothing else.
        assert client.get("/v1/brands", headers=bearer(metrics_key)).status_code == 401


@pytest.mark.unit
def test_serve_sends_no_server_banner(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import uvicorn

    from cli import serve as serve_module

    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("api.app.create_app", lambda settings: object())
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    serve_module.get_settings.cache_clear()
    try:
        serve_module.serve(host="127.0.0.1", port=1)
    finally:
        serve_module.get_settings.cache_clear()
    assert seen["server_header"] is False


@pytest.mark.unit
def test_a_team_holds_at_most_its_search_slots() -> None:
    budget = Budget(60, 10)
    limits = RateLimits(budget, budget, budget, MemoryStorage(), searches_in_flight=2, expanding_searches_in_flight=1)
    with (
        limits.search_slot("t") as first,
        limits.search_slot("t") as second,
        limits.search_slot("t") as third,
        limits.search_slot("other") as others,
    ):
        assert (first, second, others) == (None, None, None)
        assert third == "this team already has 2 searches running"
    with limits.search_slot("t") as again:  # released when the searches end
        assert again is None
    with limits.search_slot("a", expanding=True) as heavy, limits.search_slot("b", expanding=True) as other_heavy:
        assert heavy is None and other_heavy == "1 searches with prefix or fuzzy terms are running"
        with limits.search_slot("b") as ordinary:
            assert ordinary is None
    with limits.search_slot("b", expanding=True) as later:
        assert later is None
