"""Conventions: Prometheus /metrics, a complete OpenAPI document, and schemathesis finding no 5xx."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from api.app import create_app
from core.settings import Settings
from crawler.context import CrawlContext
from tests.api.conftest import ADMIN_KEY, bearer
from tests.api.dataset import WINDOW, seed

pytestmark = pytest.mark.integration


def test_prometheus_metrics_count_requests_per_route(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seed(es, alias)
    for _ in range(3):
        api.get("/v1/brands/revontuli/metrics", params=WINDOW)
    api.get("/v1/brands/nosuch/metrics")
    response = api.get("/metrics", headers=bearer(ADMIN_KEY))
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = 'route="/v1/brands/{brand}/metrics"'
    assert f'kaiku_http_requests_total{{method="GET",{route},status="200"}} 3.0' in text
    assert f'kaiku_http_requests_total{{method="GET",{route},status="404"}} 1.0' in text
    assert f'kaiku_http_request_duration_seconds_count{{method="GET",{route}}} 4.0' in text
    assert "nosuch" not in text  # labels are route templates, never raw paths


def test_unhandled_errors_are_500_problems_and_counted(app: FastAPI) -> None:
    """Issue 15.1: a request that fails unexpectedly is still counted, as a 500 of its route, and says nothing."""

    @app.get("/v1/boom", summary="fails")
    def boom() -> None:
        raise RuntimeError("secret detail of the failure")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/boom")
        text = client.get("/metrics", headers=bearer(ADMIN_KEY)).text
    assert response.status_code == 500 and response.headers["content-type"].startswith("application/problem+json")
    assert "secret" not in response.text
    assert 'kaiku_http_requests_total{method="GET",route="/v1/boom",status="500"} 1.0' in text
    assert 'kaiku_http_request_duration_seconds_count{method="GET",route="/v1/boom"} 1.0' in text


def test_openapi_is_complete(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/v1/brands", "/v1/brands/{brand}/metrics", "/v1/brands/{brand}/breakdown", "/v1/brands/{brand}/outliers",
        "/v1/mentions", "/v1/mentions/export", "/v1/mentions/{mention_id}", "/v1/admin/teams",
        "/v1/admin/teams/{team}", "/v1/admin/teams/{team}/keys", "/v1/admin/keys/{key_id}", "/metrics", "/healthz",
        "/v1/brands/{brand}", "/v1/sources", "/v1/sources/{source_id}", "/v1/alerts", "/v1/alerts/{alert_id}",
        "/v1/admin/config/import",
    }  # fmt: skip
    assert expected <= set(paths)
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            if path.startswith("/v1/"):
                assert operation.get("security"), (method, path)
    assert spec["components"]["schemas"]["MetricsResponse"]["examples"]
    assert spec["components"]["schemas"]["Problem"]["examples"]
    errors = paths["/v1/brands/{brand}/metrics"]["get"]["responses"]
    assert {"401", "404", "422", "429"} <= set(errors) and "application/problem+json" in errors["401"]["content"]
    metric_params = {p["name"] for p in paths["/v1/brands/{brand}/metrics"]["get"]["parameters"]}
    assert {"brand", "interval", "tz", "from", "to", "competitors", "reach"} <= metric_params


KNOWN_IDS = {"brand": "revontuli", "team": "both", "source_id": "demo-reviews", "alert_id": "revontuli-anger"}


def every_operation(spec: dict) -> list[tuple[str, str, dict]]:
    """(method, path with known ids filled in, operation) for every operation of the OpenAPI document."""
    found = []
    for template, operations in spec["paths"].items():
        path = template.format(**{**KNOWN_IDS, "mention_id": "x", "case_id": 1, "job_id": "x", "key_id": "x"})
        found += [(method.upper(), path, operation) for method, operation in operations.items()]
    return found


def test_openapi_lists_the_statuses_the_routes_answer(api_settings: Settings, keys: dict) -> None:
    """Issue 15.11: each status provoked here is listed in the route's `responses` (the schemathesis test below
    checks every status it meets as well)."""
    relaxed = api_settings.model_copy(update={"rate_limit_burst": 100_000, "max_request_bytes": 2048})
    app = create_app(relaxed)
    spec = app.openapi()
    seen: list[tuple[str, str, int]] = []

    def answer(client: TestClient, method: str, template: str, **kwargs: Any) -> int:
        path = template.format(**{**KNOWN_IDS, "mention_id": "x", "case_id": 1, "job_id": "x", "key_id": "x"})
        response = client.request(method, path, **kwargs)
        seen.append((method, template, response.status_code))
        return response.status_code

    with TestClient(app, headers=bearer(ADMIN_KEY)) as admin, TestClient(app) as anonymous:
        for method, template, operation in [
            (m.upper(), path, op) for path, ops in spec["paths"].items() for m, op in ops.items()
        ]:
            answer(admin, method, template, params={"nosuch": "1"})  # 422
            if template.startswith("/v1/"):
                answer(anonymous, method, template)  # 401
            if "requestBody" in operation:
                answer(admin, method, template, content=b"{}" + b" " * 4096)  # 413
        for template, body in [
            ("/v1/brands", {"id": "revontuli", "name": "R"}),
            ("/v1/alerts", {"id": "revontuli-anger", "brand": "revontuli", "recipients": ["a@b.example"]}),
            ("/v1/sources", {"id": "demo-reviews", "spider": "rss", "start_urls": ["https://x.example/"]}),
            ("/v1/admin/teams", {"id": "both"}),
        ]:
            assert answer(admin, "POST", template, json=body) == 409
        assert answer(admin, "GET", "/v1/cases/{case_id}") == 404
        assert answer(admin, "PATCH", "/v1/cases/{case_id}", json={"status": "closed"}) == 404
        assert answer(admin, "POST", "/v1/jobs/{job_id}/run") == 404
        assert answer(admin, "GET", "/v1/mentions", params={"cursor": "bm9wZQ"}) in (400, 503)
    undocumented = [
        (method, template, status)
        for method, template, status in seen
        if str(status) not in spec["paths"][template][method.lower()]["responses"]
    ]
    assert not undocumented
    assert {status for _, _, status in seen} >= {401, 404, 409, 413, 422}


def test_unknown_and_repeated_query_parameters_are_refused_on_every_route(api_settings: Settings, keys: dict) -> None:
    """Issue 15.3: a misspelt parameter is a 422 naming it, never silently ignored; so is a repeated single one."""
    relaxed = api_settings.model_copy(update={"rate_limit_burst": 100_000})
    with TestClient(create_app(relaxed), headers=bearer(ADMIN_KEY)) as admin:
        operations = every_operation(admin.get("/openapi.json").json())
        assert len(operations) >= 25
        for method, path, operation in operations:
            response = admin.request(method, path, params={"brnad": "revontuli"})
            assert response.status_code == 422, (method, path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert [(e["parameter"], e["in"]) for e in response.json()["errors"]] == [("brnad", "query")]
            scalar = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            if scalar:
                repeated = admin.request(method, f"{path}?{scalar[0]}=a&{scalar[0]}=b")
                assert repeated.status_code == 422, (method, path, repeated.text)
                assert [e["parameter"] for e in repeated.json()["errors"]] == [scalar[0]]
        # The reported cases: a misspelt filter and interval, two brands.
        brnad = admin.get("/v1/mentions", params={"brnad": "revontuli"}).json()
        assert "unknown parameter" in brnad["errors"][0]["msg"] and "brand" in brnad["errors"][0]["msg"]
        intervall = admin.get("/v1/brands/revontuli/metrics", params={"intervall": "day"})
        assert intervall.json()["errors"][0]["parameter"] == "intervall"
        two = admin.get("/v1/mentions?brand=revontuli&brand=tunturi")
        assert two.status_code == 422 and two.json()["errors"][0]["msg"] == "given more than once; give it once"


def test_no_server_errors_anywhere(api_settings: Settings, keys: dict, es: Elasticsearch, alias: str) -> None:
    """Schemathesis-generated requests on every operation, with the admin key so that every route is reached:
    any 4xx is fine, a 5xx never. Bounded by max_examples so that it takes seconds."""
    seed(es, alias)
    relaxed = api_settings.model_copy(update={"rate_limit_burst": 100_000})
    app = create_app(relaxed)
    with TestClient(app):  # runs the lifespan
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        failures: list[str] = []
        statuses: set[int] = set()
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15
        documented = {
            (method.upper(), path): set(operation["responses"])
            for path, operations_of_path in app.openapi()["paths"].items()
            for method, operation in operations_of_path.items()
        }
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def check(case: Any) -> None:
                # Each case twice: as generated (random ids: mostly 404s), then with ids that exist, so that
                # generated query parameters and bodies reach the code behind the lookups.
                for known in (False, True):
                    if known:
                        if not case.path_parameters:
                            return
                        for name in case.path_parameters:
                            case.path_parameters[name] = KNOWN_IDS.get(name, case.path_parameters[name])
                    response = case.call(headers=bearer(ADMIN_KEY))
                    statuses.add(response.status_code)
                    if response.status_code >= 500:
                        failures.append(f"{case.method} {case.formatted_path} {case.query}: {response.status_code}")
                    elif str(response.status_code) not in documented[(case.method, case.operation.path)]:
                        failures.append(f"{case.method} {case.operation.path}: {response.status_code} undocumented")

            check()
    assert not failures, failures
    assert {200, 422} <= statuses  # the run reached real answers, not only rejections


def test_metrics_show_the_crawl_and_scoring_totals_that_crawls_recorded(api_settings: Settings, tmp_path) -> None:
    """Two real crawls of the demo site (another process in production) record their totals; /metrics shows them."""
    from bench.stand_ins import CollectingWriter, KeywordClassifier
    from cli.demo.server import serve_site
    from core.config import load_config
    from crawler.runner import run_crawl
    from kaiku.crawl_counters import record_crawl
    from kaiku.db import open_database

    settings = api_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'kaiku.db'}"})
    config = load_config(settings.config_dir)
    db = open_database(settings.resolved_database_url)
    with serve_site(port=0) as site:
        source = config.source("demo-reviews").model_copy(update={"start_urls": [site.url + "/"]})
        summaries = [
            run_crawl(
                source, CrawlContext(config.brands, KeywordClassifier(), CollectingWriter()), allow_private_urls=True
            )
            for _ in range(2)
        ]
    for summary in summaries:
        record_crawl(db, summary)
    first = summaries[0]
    with TestClient(create_app(settings)) as client:
        text = client.get("/metrics", headers=bearer(ADMIN_KEY)).text
    source_label = 'source="demo-reviews"'
    assert f"kaiku_crawl_runs_total{{{source_label}}} 2.0" in text
    assert f"kaiku_crawl_requests_total{{{source_label}}} {2.0 * first.requests}" in text
    assert f'kaiku_crawl_mentions_total{{{source_label},stage="indexed"}} {2.0 * first.indexed}' in text
    for name, count in first.experience.items():
        assert f'kaiku_mentions_scored_by_experience_total{{experience="{name}",{source_label}}} {2.0 * count}' in text
    assert f'kaiku_crawl_losses_total{{kind="skipped",{source_label}}} {2.0 * sum(first.skipped.values())}' in text


def test_docs_page_works_offline_from_packaged_assets(api: TestClient) -> None:
    page = api.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls, page.text
    external = [url for url in urls if re.match(r"(?:[a-z]+:)?//", url)]
    assert not external, f"/docs loads from other hosts: {external}"
    assert "cdn" not in page.text.lower()
    for url in urls:
        asset = api.get(url)
        assert asset.status_code == 200 and asset.content, url
    # FastAPI writes OpenAPI 3.1, which only Swagger UI 5 and later render.
    from swagger_ui_bundle import swagger_ui_path

    assert api.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert int(swagger_ui_path.name.removeprefix("swagger-ui-").split(".")[0]) >= 5, swagger_ui_path.name
    assert api.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not served
