"""All seven platform sources into the real local engine: a second crawl of unchanged sources adds no documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from bench.platform_fakes import serve
from bench.stand_ins import KeywordClassifier
from core.config import KaikuConfig, source_of
from crawler.context import CrawlContext
from crawler.runner import run_crawl
from indexer.admin import ensure_index
from indexer.es_store import ElasticsearchMentionStore
from indexer.writer import BulkWriter
from tests.crawler.test_platforms_e2e import CASES

pytestmark = pytest.mark.integration


def test_a_second_crawl_of_every_unchanged_platform_adds_no_documents(
    es: Elasticsearch, alias: str, tmp_path: Path, kaiku_config: KaikuConfig
) -> None:
    ensure_index(es, alias)
    writer = BulkWriter(es, alias)
    stops, sources, platforms = [], [], {}
    for name, case in sorted(CASES.items()):
        platform = case.make()
        server, stop = serve(platform.handle)
        stops.append(stop)
        platforms[name] = platform
        sources.append((source_of(id=f"engine-{name}", spider=name, **case.source(server.url)), case.settings))
    settings = {"KAIKU_STATE_PATH": str(tmp_path / "state.json")}

    def crawl_all() -> dict[str, int]:
        indexed = {}
        for source, credentials in sources:
            summary = run_crawl(
                source,
                CrawlContext(kaiku_config.brands, KeywordClassifier(), writer, ElasticsearchMentionStore(es, alias)),
                {**settings, **credentials},
                allow_private_urls=True,
            )
            assert summary.ok and summary.errors == {}, summary.format()
            indexed[source.spider] = summary.indexed
        es.indices.refresh(index=alias)
        return indexed

    try:
        first = crawl_all()
        count = es.count(index=alias)["count"]
        assert first == {name: case.items for name, case in CASES.items()}
        assert count == sum(case.items for case in CASES.values())
        assert crawl_all() == dict.fromkeys(CASES, 0)
        assert es.count(index=alias)["count"] == count
        for platform in platforms.values():
            platform.add_newer()
        assert crawl_all() == dict.fromkeys(CASES, 1)
        assert es.count(index=alias)["count"] == count + len(CASES)
        stored = es.search(index=alias, query={"term": {"source": "appstore"}}, size=10)["hits"]["hits"]
        assert {hit["_source"]["rating_max"] for hit in stored} == {5.0}
        toots = es.search(index=alias, query={"term": {"source": "mastodon"}}, size=10)["hits"]["hits"]
        assert {"likes": 7, "replies": 2, "shares": 1} in [hit["_source"]["engagement"] for hit in toots]
        assert 312 in [hit["_source"]["author_followers"] for hit in toots]
    finally:
        for stop in stops:
            stop()
