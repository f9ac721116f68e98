"""Crawl speed: pages per second parsing review pages served on loopback.

    python bench/crawl.py [--mentions 20000]

The scaled demo site (bench/scaled_site.py, 20 reviews a page) is crawled by the real `reviews` spider
through Scrapy and Kaiku's pipelines (extraction, brand match, language detection, duplicate check), with the
model and the engine left out: a constant classifier and a writer that only counts. `bench/end_to_end.py`
measures the whole path with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Sequence

from bench.scaled_site import serve_scaled_site
from core.config import Source, load_config, source_of
from core.mention import Mention
from core.polarity import Polarity
from core.settings import REPO_CONFIGS
from crawler.context import CrawlContext
from crawler.runner import run_crawl
from indexer.writer import BulkReport


class ConstantClassifier:
    model_id, model_version = "constant", "1"

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        return [Polarity(0.2, 0.6, 0.2) for _ in texts]


class CountingWriter:
    def __init__(self) -> None:
        self.count = 0

    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        self.count += len(mentions)
        return BulkReport(indexed=len(mentions))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_source(url: str, pages: int) -> Source:
    return source_of(id="bench", spider="reviews", start_urls=[url + "/"], max_pages=pages + 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=20_000)
    args = parser.parse_args()

    config = load_config(REPO_CONFIGS)
    site, pages = serve_scaled_site(args.mentions)
    writer = CountingWriter()
    try:
        started = time.perf_counter()
        summary = run_crawl(
            bench_source(site.url, pages),
            CrawlContext(config.brands, ConstantClassifier(), writer),
            allow_private_urls=True,
        )
        elapsed = time.perf_counter() - started
    finally:
        site.stop()
    print(f"crawl benchmark: {summary.pages:,} pages, {summary.reviews:,} reviews, {writer.count:,} mentions kept, "
          f"{os.cpu_count()} cores")  # fmt: skip
    print(f"  {summary.pages / elapsed:8.1f} pages/s   {summary.reviews / elapsed:8.0f} reviews/s   ({elapsed:.1f} s)")
    print(f"  peak memory {peak_rss_mib():.0f} MiB")
    print(f"  skipped {summary.skipped}, dropped {summary.dropped}, errors {summary.errors}")


if __name__ == "__main__":
    main()
