"""The engine goes away in the middle of a real crawl and comes back: every mention arrives exactly once.

Real Scrapy crawling the demo site on loopback, a real local engine that is stopped after the first batch,
and the spool in between. (noida-db keeps its data on a clean stop; a SIGKILL loses its last few seconds of
acknowledged writes, which a real Elasticsearch with its translog does not: so the stop here is SIGTERM.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from bench.stand_ins import KeywordClassifier
from cli.demo.server import DemoSite
from core.config import KaikuConfig
from core.mention import Mention
from crawler.context import CrawlContext
from crawler.runner import run_crawl
from indexer.admin import ensure_index
from indexer.client import make_client
from indexer.es_store import ElasticsearchMentionStore
from indexer.spool import Spool, SpoolingWriter
from indexer.writer import BulkReport, BulkWriter
from kaiku.local_engine import LocalEngine

pytestmark = pytest.mark.integration


class StopsTheEngineAfterFirstBatch:
    """Passes writes on, and stops the engine right after the first batch reached it."""

    def __init__(self, writer: BulkWriter, engine: LocalEngine) -> None:
        self.writer, self.engine, self.batches = writer, engine, 0

    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        report = self.writer.write(mentions)
        self.batches += 1
        if self.batches == 1:
            self.engine.stop()
        return report


def test_mentions_crawled_during_an_outage_are_indexed_once_when_the_engine_returns(
    own_engine: LocalEngine, demo_site: DemoSite, kaiku_config: KaikuConfig, tmp_path: Path
) -> None:
    client, alias = make_client(own_engine.url, timeout=2), "outage"
    ensure_index(client, alias)
    writer = SpoolingWriter(StopsTheEngineAfterFirstBatch(BulkWriter(client, alias), own_engine), Spool(tmp_path))
    source = kaiku_config.source("demo-reviews").model_copy(update={"start_urls": [demo_site.url + "/"]})

    small_batches = {"KAIKU_BATCH_SIZE": 4}
    summary = run_crawl(
        source,
        CrawlContext(kaiku_config.brands, KeywordClassifier(), writer),
        extra_settings=small_batches,
        allow_private_urls=True,
    )

    assert summary.finish_reason == "finished"
    assert summary.indexed == 4, "the first batch went in before the outage"
    assert summary.spooled == summary.items - 4 > 0
    assert "spooled" in summary.format()
    assert writer.spool.pending() == summary.spooled

    own_engine.start()
    writer.spool = Spool(tmp_path)  # as a new process after a restart would see it
    writer.writer = BulkWriter(client, alias)
    report = writer.replay()
    assert report.replayed == summary.spooled and not report.failed
    client.indices.refresh(index=alias)
    assert client.count(index=alias)["count"] == summary.items

    # A second crawl with the engine up overwrites the same ids: still the same count.
    store = ElasticsearchMentionStore(client, alias)
    again = run_crawl(
        source, CrawlContext(kaiku_config.brands, KeywordClassifier(), writer, store), allow_private_urls=True
    )
    client.indices.refresh(index=alias)
    assert again.indexed == summary.items and client.count(index=alias)["count"] == summary.items
