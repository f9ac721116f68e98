"""Kaiku's CPU per mention in each stage of the crawl pipeline, no model: where bench/end_to_end.py's time goes.

    python -m bench.crawl_stages [--mentions 2000] [--prefill 0]

The crawl of bench/end_to_end.py (the scaled demo site, every pipeline, the spooling writer into a fresh embedded
store holding `--prefill` mentions like the site's), with each stage wrapped in a timer of the CPU time of the thread
that runs it (the crawl's reactor thread): what the load of a shared machine blurs least. Stages nest: the
near-duplicate stage includes its store lookup and its signatures, score + index the store's write.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.crawl import ConstantClassifier, bench_source
from bench.end_to_end import load_language_models, prefill
from bench.scaled_site import write_site
from cli.demo.server import serve_site
from core.config import load_config
from core.settings import REPO_CONFIGS, Settings
from crawler import dedup, pipelines
from crawler.context import CrawlContext
from crawler.reactor import call_in_reactor
from crawler.runner import run_crawl
from crawler.spiders import reviews
from indexer.spool import Spool, SpoolingWriter
from indexer.sqlite_store import SQLiteMentionStore

STAGES: list[tuple[Any, str, str]] = [  # (owner, attribute, stage)
    (reviews, "extract_reviews", "extraction (schema.org)"),
    (pipelines.BrandMatchPipeline, "process_item", "brand match"),
    (pipelines.LanguagePipeline, "process_item", "language (lingua)"),
    (pipelines.NearDuplicatePipeline, "process_item", "near-duplicates"),
    (dedup, "signature", "  signatures"),
    (dedup.IndexedTexts, "find_many", "  store lookups"),
    (pipelines.ScoreAndIndexPipeline, "flush", "score + index"),
    (SQLiteMentionStore, "write", "  store write"),
]


def timed(function: Callable[..., Any], stage: str, seconds: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[stage] += time.thread_time() - started

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=2000)
    parser.add_argument("--prefill", type=int, default=0)
    args = parser.parse_args()

    seconds: defaultdict[str, float] = defaultdict(float)
    for owner, attribute, stage in STAGES:
        setattr(owner, attribute, timed(getattr(owner, attribute), stage, seconds))
    work = Path(tempfile.mkdtemp(prefix="kaiku-bench-stages-"))
    try:
        store = SQLiteMentionStore(work / "mentions.sqlite3")
        store.ensure_ready()
        if args.prefill:
            prefill(store, args.prefill, first=args.mentions)
        writer = SpoolingWriter(store, Spool(work / "spool"))
        (work / "site").mkdir()
        pages = write_site(args.mentions, work / "site")
        site = serve_site(port=0, directory=work / "site")
        try:
            load_language_models()
            context = CrawlContext(load_config(REPO_CONFIGS).brands, ConstantClassifier(), writer, store)
            reactor_cpu: list[float] = []
            call_in_reactor(lambda: reactor_cpu.append(time.thread_time()))
            seconds.clear()  # the prefill's signatures and writes are not the crawl's
            summary = run_crawl(bench_source(site.url, pages), context,
                                {"KAIKU_BATCH_SIZE": Settings().batch_size}, allow_private_urls=True)  # fmt: skip
            call_in_reactor(lambda: reactor_cpu.append(time.thread_time()))
        finally:
            site.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = summary.items
    print(f"crawl stages: {n:,} mentions into an embedded store holding {args.prefill:,}; CPU ms per mention")
    print(f"  {'the crawl thread in all':26s} {(reactor_cpu[1] - reactor_cpu[0]) / n * 1000:6.2f}")
    for _, _, stage in STAGES:
        print(f"  {stage:26s} {seconds[stage] / n * 1000:6.2f}")
    print(
        f"  near-duplicates found { ({k.rsplit('/', 1)[1]: v for k, v in summary.stats.items() if 'near_dup' in k}) }"
    )


if __name__ == "__main__":
    main()
