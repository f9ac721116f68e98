"""The whole path, for real: Scrapy crawls the demo site over loopback, the default model scores,
the local engine indexes, and the HTTP API returns what a marketing user asks for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from api.app import create_app
from cli.demo.server import serve_site
from core.config import KaikuConfig, load_config
from core.settings import REPO_CONFIGS, Settings
from crawler.context import CrawlContext
from crawler.runner import CrawlSummary, run_crawl
from indexer.admin import ensure_index
from indexer.es_store import ElasticsearchMentionStore
from indexer.writer import BulkWriter
from kaiku.local_engine import LocalEngine
from kaiku.wiring import team_store

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def config() -> KaikuConfig:
    return load_config(REPO_CONFIGS)


@pytest.fixture(scope="module")
def crawled(engine: LocalEngine, default_classifier: Any, config: KaikuConfig) -> Iterator[tuple[str, CrawlSummary]]:
    from indexer.client import make_client

    alias = "e2e-mentions"
    client = make_client(engine.url)
    ensure_index(client, alias)
    with serve_site(port=0) as site:
        source = config.source("demo-reviews").model_copy(update={"start_urls": [site.url + "/"]})
        summary = run_crawl(
            source,
            CrawlContext(
                config.brands, default_classifier, BulkWriter(client, alias), ElasticsearchMentionStore(client, alias)
            ),
            allow_private_urls=True,
        )
    client.indices.refresh(index=alias)
    yield alias, summary
    client.close()


@pytest.fixture(scope="module")
def api(engine: LocalEngine, crawled: tuple[str, CrawlSummary], tmp_path_factory: Any) -> Iterator[TestClient]:
    alias, _ = crawled
    settings = Settings(elasticsearch_url=engine.url, index_alias=alias, data_dir=tmp_path_factory.mktemp("api"))
    store = team_store(settings)
    key = store.create_key(store.create_team("marketing", brands=["revontuli", "tunturi"]).id).secret
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {key}"}) as client:
        yield client


def all_mentions(api: TestClient, **params: str) -> list[dict]:
    mentions: list[dict] = []
    cursor = None
    while True:
        body = api.get("/v1/mentions", params={**params, "limit": 10, **({"cursor": cursor} if cursor else {})})
        assert body.status_code == 200, body.text
        page = body.json()
        mentions.extend(page["data"])
        cursor = page["next"]
        if cursor is None:
            assert len(mentions) == page["count"]
            return mentions


def find(mentions: list[dict], snippet: str) -> dict:
    matches = [m for m in mentions if snippet in m["text"]]
    assert len(matches) == 1, f"{snippet!r}: {len(matches)} matches"
    return matches[0]


def test_crawl_summary_counts_what_happened(crawled: tuple[str, CrawlSummary], es: Elasticsearch) -> None:
    alias, summary = crawled
    assert summary.finish_reason == "finished"
    assert summary.indexed == summary.items > 20
    assert summary.stats.get("kaiku/skipped/malformed_jsonld", 0) >= 1  # the broken page is counted, not fatal
    assert summary.stats.get("kaiku/dropped/no_brand", 0) >= 1  # the unrelated spa
    assert es.count(index=alias)["count"] == summary.indexed


def test_api_returns_scored_mentions_of_both_brands(api: TestClient) -> None:
    mentions = all_mentions(api)
    assert {m["brand"] for m in mentions} == {"revontuli", "tunturi"}
    assert {m["lang"] for m in mentions} >= {"fi", "en"}
    for mention in mentions:
        assert mention["experience"] in {"anger", "comfort", "delight"}
        assert mention["experience_reason"]
        assert abs(sum(mention["polarity"].values()) - 1) < 1e-3
        assert mention["model"]["id"] == "kaiku/e5-small-polarity"


def test_finnish_angry_review_is_anger(api: TestClient) -> None:
    angry = find(all_mentions(api, brand="revontuli", experience="anger", lang="fi"), "Kamala kokemus")
    assert angry["rating"] == 1 and angry["rating_max"] == 5
    assert angry["polarity"]["negative"] > angry["polarity"]["positive"]


def test_english_delighted_review_is_delight(api: TestClient) -> None:
    delighted = find(all_mentions(api, brand="tunturi", experience="delight", lang="en"), "Absolutely magical stay")
    assert delighted["rating"] == delighted["rating_max"]  # top of its own scale (10/10 on that site)


def test_comfort_zone_review_is_comfort(api: TestClient) -> None:
    find(all_mentions(api, experience="comfort", lang="fi"), "Ihan ok, sitä mitä hinnalta odottaa")


def test_unrelated_brand_is_not_indexed(api: TestClient) -> None:
    texts = " ".join(m["text"] for m in all_mentions(api))
    assert "Merituuli" not in texts
    assert "Hieronta oli taivaallinen" not in texts
    assert all_mentions(api, q="hieronta") == []


def test_full_text_search_in_finnish(api: TestClient) -> None:
    # Finnish stemming: "aamiainen" finds "Aamiaisella" / "aamiaisen".
    found = all_mentions(api, q="aamiainen", lang="fi")
    assert found
    assert all(m["lang"] == "fi" for m in found)
