"""End to end: the scaled demo site crawled, scored by the default model and indexed into a local engine.

    python bench/end_to_end.py [--mentions 10000]      # and --mentions 100000

The real path of `kaiku crawl`: the `reviews` spider on loopback, Kaiku's pipelines, the offline default
sentiment model (converted once into the model cache) and the spooling bulk writer into a fresh local noida-db
(or the engine KAIKU_ELASTICSEARCH_URL names). Prints mentions per second over the whole crawl, the share of
it spent scoring, peak memory and the count the engine holds afterwards.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.crawl import bench_source, peak_rss_mib
from bench.scaled_site import serve_scaled_site
from core.config import load_config
from core.settings import REPO_CONFIGS, Settings
from crawler.context import CrawlContext
from crawler.runner import run_crawl
from indexer.admin import ensure_index
from indexer.client import make_client
from indexer.es_store import ElasticsearchMentionStore
from indexer.spool import Spool, SpoolingWriter
from indexer.writer import BulkWriter
from kaiku.local_engine import LocalEngine, free_port
from sentiment.loader import load_classifier


class TimedClassifier:
    """The real classifier, with the time spent in it added up."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds = inner, 0.0
        self.model_id, self.model_version = inner.model_id, inner.model_version

    def predict(self, texts):
        started = time.perf_counter()
        try:
            return self.inner.predict(texts)
        finally:
            self.seconds += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    args = parser.parse_args()

    settings = Settings()
    classifier = TimedClassifier(load_classifier("default", cache_dir=settings.resolved_model_cache_dir))
    engine = None
    url = os.environ.get("KAIKU_ELASTICSEARCH_URL")
    if not url:
        engine = LocalEngine(Path(tempfile.mkdtemp(prefix="kaiku-bench-engine-")), port=free_port())
        engine.start()
        url = engine.url
    client = make_client(url, os.environ.get("KAIKU_ELASTICSEARCH_API_KEY"), timeout=300)
    alias = f"bench-e2e-{int(time.time())}"
    ensure_index(client, alias)
    writer = SpoolingWriter(BulkWriter(client, alias), Spool(Path(tempfile.mkdtemp(prefix="kaiku-bench-spool-"))))
    site, pages = serve_scaled_site(args.mentions)
    try:
        started = time.perf_counter()
        brands = load_config(REPO_CONFIGS).brands
        batch = {"KAIKU_BATCH_SIZE": settings.batch_size}
        summary = run_crawl(
            bench_source(site.url, pages),
            CrawlContext(brands, classifier, writer, ElasticsearchMentionStore(client, alias)),
            batch,
            allow_private_urls=True,
        )
        elapsed = time.perf_counter() - started
        client.indices.refresh(index=alias)
        stored = client.count(index=alias)["count"]
    finally:
        site.stop()
        if engine is not None:
            engine.stop()
    print(f"end-to-end benchmark: {summary.pages:,} pages, {summary.items:,} mentions, {os.cpu_count()} cores, "
          f"engine {url if engine is None else 'local noida-db'}, batch {settings.batch_size}")  # fmt: skip
    print(f"  {summary.items / elapsed:7.1f} mentions/s crawl -> score -> index ({elapsed:.0f} s; "
          f"scoring {classifier.seconds / elapsed:.0%} of it)")  # fmt: skip
    print(f"  indexed {summary.indexed:,}, spooled {summary.spooled}, engine holds {stored:,}; "
          f"experience {summary.experience}")  # fmt: skip
    print(f"  peak memory {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
