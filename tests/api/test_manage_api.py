"""Management of brands, sources and alert rules: validated like configs/ YAML, persisted to it, per team."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from core.config import load_config
from core.settings import Settings
from indexer.admin import ensure_index
from tests.api.conftest import ADMIN_KEY, bearer

pytestmark = pytest.mark.integration

MERITUULI = {"id": "merituuli", "name": "Merituuli Spa", "aliases": ["Kylpylä Merituuli"], "competitors": ["revontuli"]}
SOURCE = {"id": "trip", "spider": "reviews", "start_urls": ["https://reviews.example/"], "schedule": "6h"}


def snapshot(config_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(config_dir.glob("*.yaml"))}


def test_team_creates_changes_and_deletes_its_brand(
    app: FastAPI, keys: dict, api_settings: Settings, es: Elasticsearch, alias: str
) -> None:
    with TestClient(app, headers=bearer(keys["north"])) as north:
        missing = north.get("/v1/brands/revontuli/metrics")
        assert missing.status_code == 503 and "kaiku index init" in missing.json()["detail"]
        ensure_index(es, alias)
        created = north.post("/v1/brands", json=MERITUULI)
        assert created.status_code == 201, created.text
        assert north.post("/v1/brands", json=MERITUULI).status_code == 409
        # Persisted to configs/ and owned by the creating team.
        assert load_config(api_settings.config_dir).brand("merituuli").aliases == ["Kylpylä Merituuli"]
        assert [b["id"] for b in north.get("/v1/brands").json()["data"]] == ["revontuli", "merituuli"]
        metrics = north.get("/v1/brands/merituuli/metrics")
        assert metrics.status_code == 200, metrics.text
        assert metrics.json()["competitive_set"] == ["merituuli", "revontuli"]
        changed = north.put("/v1/brands/merituuli", json={**MERITUULI, "terms": ["Merituulen kylpylä"]})
        assert changed.status_code == 200
        assert load_config(api_settings.config_dir).brand("merituuli").terms == ["Merituulen kylpylä"]
        assert north.put("/v1/brands/merituuli", json={**MERITUULI, "id": "other"}).status_code == 422
        assert north.delete("/v1/brands/merituuli").status_code == 204
        assert [b.id for b in load_config(api_settings.config_dir).brands] == ["revontuli", "tunturi"]
        assert north.get("/v1/brands/merituuli").status_code == 404


def test_invalid_changes_are_refused_and_write_nothing(app: FastAPI, keys: dict, api_settings: Settings) -> None:
    before = snapshot(api_settings.config_dir)
    with TestClient(app, headers=bearer(keys["north"])) as north:
        dangling = north.post("/v1/brands", json={**MERITUULI, "competitors": ["revontuli", "nosuch"]})
        assert dangling.status_code == 422
        assert [e["parameter"] for e in dangling.json()["errors"]] == ["competitors.1"]
        assert "no brand 'nosuch' among your team's brands" in dangling.json()["errors"][0]["msg"]
        # A dangling reference the admin writes is refused by the configuration checks, naming file and field.
        admin = north.post("/v1/brands", json={**MERITUULI, "competitors": ["nosuch"]}, headers=bearer(ADMIN_KEY))
        assert admin.status_code == 422 and admin.json()["detail"].startswith("brands.yaml: brands.2.competitors.0")
        assert "unknown brand 'nosuch'" in admin.json()["detail"]
        extra = north.post("/v1/brands", json={**MERITUULI, "colour": "blue"})
        assert extra.status_code == 422 and "colour" in [e["parameter"] for e in extra.json()["errors"]]
        bad_id = north.post("/v1/brands", json={**MERITUULI, "id": "Meri Tuuli"})
        assert bad_id.status_code == 422 and "id" in [e["parameter"] for e in bad_id.json()["errors"]]
        # Still referenced by tunturi's competitors and an alert rule: refused, naming the file and field.
        referenced = north.delete("/v1/brands/revontuli")
        assert referenced.status_code == 422
        # Named: the rule the team sees; not named: tunturi, a brand of another team that lists it as competitor.
        assert referenced.json()["detail"] == (
            "brand 'revontuli' is still named by alert rule 'revontuli-anger'; configuration of other teams or of "
            "the admin: change those first"
        )
    assert snapshot(api_settings.config_dir) == before


def test_alert_rules_per_team(app: FastAPI, keys: dict, api_settings: Settings) -> None:
    rule = {"id": "revontuli-delight", "brand": "revontuli", "experience": "delight", "recipients": ["m@r.example"]}
    with TestClient(app, headers=bearer(keys["north"])) as north:
        assert [a["id"] for a in north.get("/v1/alerts").json()["data"]] == ["revontuli-anger"]
        assert north.post("/v1/alerts", json=rule).status_code == 201
        assert north.post("/v1/alerts", json={**rule, "id": "x", "brand": "tunturi"}).status_code == 404
        bad = north.post("/v1/alerts", json={**rule, "id": "y", "recipients": ["not-an-address"]})
        assert bad.status_code == 422 and "recipients" in [e["parameter"] for e in bad.json()["errors"]]
        assert north.put("/v1/alerts/revontuli-delight", json={**rule, "min_count": 2}).json()["min_count"] == 2
        assert load_config(api_settings.config_dir).alerts[-1].min_count == 2
        assert north.delete("/v1/alerts/revontuli-delight").status_code == 204
        assert [a.id for a in load_config(api_settings.config_dir).alerts] == ["revontuli-anger", "tunturi-anger"]


def test_admin_manages_sources_and_imports_yaml(app: FastAPI, api_settings: Settings) -> None:
    with TestClient(app, headers=bearer(ADMIN_KEY)) as admin:
        assert admin.post("/v1/sources", json=SOURCE).status_code == 201
        assert admin.post("/v1/sources", json={**SOURCE, "id": "ftp", "start_urls": ["ftp://x"]}).status_code == 422
        assert admin.put("/v1/sources/trip", json={**SOURCE, "max_pages": 5}).json()["max_pages"] == 5
        assert load_config(api_settings.config_dir).source("trip").max_pages == 5
        assert admin.delete("/v1/sources/trip").status_code == 204
        alerts = "alerts:\n  - id: only\n    brand: tunturi\n    recipients: [a@b.example]\n"
        imported = admin.post("/v1/admin/config/import", json={"alerts.yaml": alerts})
        assert imported.json() == {"brands": 2, "sources": 1, "alerts": 1}
        broken = admin.post("/v1/admin/config/import", json={"alerts.yaml": "alerts:\n  - id: x\n    brand: ghost\n"})
        assert broken.status_code == 422 and "alerts.yaml" in broken.json()["detail"]
        assert admin.post("/v1/admin/config/import", json={"evil.yaml": "x: 1"}).status_code == 422
    # Another app on the same folder (a restart) sees the changes.
    again = create_app(api_settings)
    assert [a.id for a in again.state.kaiku.config.alerts] == ["only"]


def test_changes_keep_the_files_comments_and_layout(app: FastAPI, keys: dict, api_settings: Settings) -> None:
    brands_file = api_settings.config_dir / "brands.yaml"
    before = brands_file.read_text(encoding="utf-8")
    assert "# the northern lights themselves are not the brand" in before
    with TestClient(app, headers=bearer(keys["north"])) as north:
        assert north.post("/v1/brands", json=MERITUULI).status_code == 201
        assert "Merituuli" in brands_file.read_text(encoding="utf-8")
        changed = {**north.get("/v1/brands/revontuli").json(), "aliases": ["Hotelli Revontuli"]}
        changed.pop("team", None)
        assert north.put("/v1/brands/revontuli", json=changed).status_code == 200
        assert north.delete("/v1/brands/merituuli").status_code == 204
    # Comments, quotes, flow lists and defaults written out all stay; only the changed value differs.
    old_aliases = "aliases: [Hotelli Revontuli, Revontuli-hotelli, Revontuli Hotel]"
    assert brands_file.read_text(encoding="utf-8") == before.replace(old_aliases, "aliases: [Hotelli Revontuli]")
    assert load_config(api_settings.config_dir).brand("revontuli").aliases == ["Hotelli Revontuli"]


def test_imported_files_are_written_as_given(app: FastAPI, api_settings: Settings) -> None:
    alerts = (
        "# Our rules\nalerts:\n  - id: only   # the one that matters\n    brand: tunturi\n"
        "    recipients: [a@b.example]\n"
    )
    with TestClient(app, headers=bearer(ADMIN_KEY)) as admin:
        assert admin.post("/v1/admin/config/import", json={"alerts.yaml": alerts}).status_code == 200
    assert (api_settings.config_dir / "alerts.yaml").read_text(encoding="utf-8") == alerts


N_PARALLEL = 12


def _parallel(calls: list) -> list[int]:
    """Runs the calls at once (threads; the app serves each in its own worker thread); their status codes."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [response.status_code for response in pool.map(lambda call: call(), calls)]


def test_parallel_creates_of_distinct_ids_all_persist(app: FastAPI, keys: dict, api_settings: Settings) -> None:
    """Each 201 is a rule, a brand, a source on disk: no change is lost to a concurrent one (issue 18.1)."""
    with TestClient(app, headers=bearer(keys["north"])) as north, TestClient(app, headers=bearer(ADMIN_KEY)) as admin:
        rules = [{"id": f"rule-{i}", "brand": "revontuli", "recipients": ["m@r.example"]} for i in range(N_PARALLEL)]
        brands = [{"id": f"brand-{i}", "name": f"Brand {i}"} for i in range(N_PARALLEL)]
        sources = [{**SOURCE, "id": f"source-{i}"} for i in range(N_PARALLEL)]
        calls = [lambda r=r: north.post("/v1/alerts", json=r) for r in rules]
        calls += [lambda b=b: north.post("/v1/brands", json=b) for b in brands]
        calls += [lambda s=s: admin.post("/v1/sources", json=s) for s in sources]
        assert _parallel(calls) == [201] * len(calls)
        on_disk = load_config(api_settings.config_dir)
        assert {r["id"] for r in rules} <= {a.id for a in on_disk.alerts}
        assert {b["id"] for b in brands} <= {b.id for b in on_disk.brands}
        assert {s["id"] for s in sources} <= {s.id for s in on_disk.sources}
        # The team owns every brand it created (the ownership write is not lost either), and the API sees them all.
        listed = {b["id"] for b in north.get("/v1/brands").json()["data"]}
        assert {b["id"] for b in brands} <= listed
        assert len(north.get("/v1/alerts").json()["data"]) == N_PARALLEL + 1
        # Parallel deletes and changes lose nothing either.
        calls = [lambda r=r: north.delete(f"/v1/alerts/{r['id']}") for r in rules[: N_PARALLEL // 2]]
        calls += [
            lambda r=r: north.put(f"/v1/alerts/{r['id']}", json={**r, "min_count": 9}) for r in rules[N_PARALLEL // 2 :]
        ]
        assert set(_parallel(calls)) == {200, 204}
        left = {a.id: a.min_count for a in load_config(api_settings.config_dir).alerts if a.id.startswith("rule-")}
        assert left == {r["id"]: 9 for r in rules[N_PARALLEL // 2 :]}


def test_bodies_over_the_size_limit_are_413_and_write_nothing(app: FastAPI, keys: dict, api_settings: Settings) -> None:
    """Issue 18.4: a 20 MB brand was accepted. The body's size is checked before it is read whole."""
    before = snapshot(api_settings.config_dir)
    huge = {**MERITUULI, "aliases": [f"alias number {i}" for i in range(200_000)]}
    with TestClient(app, headers=bearer(keys["north"])) as north:
        declared = north.post("/v1/brands", json=huge)
        assert declared.status_code == 413, declared.text[:200]
        assert declared.headers["content-type"].startswith("application/problem+json")
        assert str(api_settings.max_request_bytes) in declared.json()["detail"]
        # Sent in chunks without a Content-Length: counted as it arrives.
        chunks = (b"x" * 65_536 for _ in range(40))
        streamed = north.post("/v1/brands", content=chunks, headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413, streamed.text[:200]
        assert (
            'kaiku_http_requests_total{method="POST",route="/v1/brands",status="413"} 2.0'
            in north.get("/metrics", headers=bearer(ADMIN_KEY)).text
        )
    assert snapshot(api_settings.config_dir) == before


@pytest.mark.parametrize(
    ("path", "body", "parameter"),
    [
        ("/v1/brands", {**MERITUULI, "aliases": ["a"] * 101}, "aliases"),
        ("/v1/brands", {**MERITUULI, "aliases": ["a" * 201]}, "aliases.0"),
        ("/v1/brands", {**MERITUULI, "terms": ["ok", "t" * 201]}, "terms.1"),
        ("/v1/brands", {**MERITUULI, "exclude": ["e"] * 101}, "exclude"),
        ("/v1/brands", {**MERITUULI, "competitors": ["revontuli"] * 101}, "competitors"),
        ("/v1/brands", {**MERITUULI, "name": "n" * 201}, "name"),
        ("/v1/brands", {**MERITUULI, "id": "i" * 65}, "id"),
        ("/v1/brands", {**MERITUULI, "industry": "i" * 201}, "industry"),
        ("/v1/brands", {**MERITUULI, "queries": {f"q{i}": "hotel" for i in range(101)}}, "queries"),
        ("/v1/brands", {**MERITUULI, "queries": {"long": "hotel OR " * 200}}, "queries"),
        ("/v1/alerts", {"id": "r", "brand": "revontuli", "recipients": [f"a{i}@b.example" for i in range(101)]},
         "recipients"),
        ("/v1/alerts", {"id": "r", "brand": "revontuli", "recipients": ["a" * 250 + "@b.example"]}, "recipients.0"),
        ("/v1/sources", {**SOURCE, "start_urls": ["https://reviews.example/" + "p" * 2100]}, "start_urls.0"),
        ("/v1/sources", {**SOURCE, "start_urls": [f"https://r.example/{i}" for i in range(101)]}, "start_urls"),
        ("/v1/sources", {**SOURCE, "follow": ["x" * 501]}, "follow.0"),
        ("/v1/sources", {"id": "m", "spider": "mastodon", "hashtags": ["h" * 201]}, "hashtags.0"),
    ],
)  # fmt: skip
def test_lists_and_strings_over_their_limits_are_422_naming_the_field(
    app: FastAPI, keys: dict, api_settings: Settings, path: str, body: dict, parameter: str
) -> None:
    before = snapshot(api_settings.config_dir)
    key = ADMIN_KEY if path == "/v1/sources" else keys["north"]
    with TestClient(app, headers=bearer(key)) as client:
        response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]
    assert snapshot(api_settings.config_dir) == before


def test_two_api_processes_on_one_folder_lose_nothing_and_see_each_others_changes(
    app: FastAPI, keys: dict, api_settings: Settings
) -> None:
    """Two apps on one configuration folder (two API processes; their locks are as separate as two processes')."""
    other = create_app(api_settings)
    with TestClient(app, headers=bearer(keys["north"])) as one, TestClient(other, headers=bearer(keys["north"])) as two:
        rules = [{"id": f"rule-{i}", "brand": "revontuli", "recipients": ["m@r.example"]} for i in range(N_PARALLEL)]
        calls = [lambda r=r, c=(one, two)[i % 2]: c.post("/v1/alerts", json=r) for i, r in enumerate(rules)]
        assert _parallel(calls) == [201] * N_PARALLEL
        for client in (one, two):  # each sees what the other wrote, without a restart
            assert len(client.get("/v1/alerts").json()["data"]) == N_PARALLEL + 1
        assert two.get("/v1/alerts/rule-0").status_code == 200
        assert one.delete("/v1/alerts/rule-0").status_code == 204
        assert two.get("/v1/alerts/rule-0").status_code == 404
        assert two.put("/v1/alerts/rule-0", json=rules[0]).status_code == 404


def test_a_configuration_error_a_team_did_not_cause_is_not_shown_to_it(
    app: FastAPI, keys: dict, api_settings: Settings
) -> None:
    """Issue 18.8: the whole configuration is checked on every change; a team is not told of other entries."""
    alerts = api_settings.config_dir / "alerts.yaml"
    alerts.write_text(
        alerts.read_text(encoding="utf-8")
        + "  - id: hand-edit\n    brand: secret-brand\n    recipients: [a@b.example]\n",
        encoding="utf-8",
    )
    rule = {"id": "mine", "brand": "revontuli", "recipients": ["m@r.example"]}
    with TestClient(app, headers=bearer(keys["north"])) as north:
        refused = north.post("/v1/alerts", json=rule)
        assert refused.status_code == 422
        assert "secret-brand" not in refused.text and "alerts.yaml" not in refused.text
        assert [a["id"] for a in north.get("/v1/alerts").json()["data"]] == ["revontuli-anger"]  # last valid one
        as_admin = north.post("/v1/alerts", json=rule, headers=bearer(ADMIN_KEY))
        assert as_admin.status_code == 422 and "alerts.2.brand: unknown brand 'secret-brand'" in as_admin.text
