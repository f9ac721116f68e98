"""End to end: the scaled demo site crawled, scored by the default model and written into the store.

    python -m bench.end_to_end [--mentions 10000] [--prefill 0] [--scorer default|constant] [--store embedded|local]
                               [--scorer-sample 2000] [--paired]

The real path of `kaiku crawl`: the `reviews` spider on loopback, Kaiku's pipelines, the offline default
sentiment model (converted once into the model cache) and the spooling writer into a fresh store: the embedded
SQLite store (the default), a fresh local noida-db (`--store local`), or the Elasticsearch KAIKU_ELASTICSEARCH_URL
names. `--prefill N` first writes N mentions like the site's (the demo's reviews, numbered past the site's) into
the store, so that the crawl's mentions are the last of N + `--mentions`: what the cost per mention becomes in a
larger store, without crawling all of it. `--scorer constant` leaves the model out (Kaiku's own cost alone). The
sentiment model and lingua's language models are loaded, and the model's first batch scored, before the clock
starts: once per process, not per mention.

Prints mentions per second over the whole crawl, the share of it spent scoring, the process's CPU time per mention
(what a shared machine's load does not blur), then the scorer alone on
`--scorer-sample` of the same texts (same batch size), and end to end as a share of that; with `--paired`, also the
scorer alone on every batch at the same moments as the crawl (see TimedClassifier: on a shared machine the load
moves between two runs that follow each other); peak memory and the count the store holds afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.crawl import ConstantClassifier, bench_source, peak_rss_mib
from bench.scaled_site import demo_reviews, write_site
from cli.demo.server import serve_site
from core.config import load_config
from core.language import decide_language
from core.mention import Mention, Polarity, mention_id
from core.settings import REPO_CONFIGS, Settings
from crawler.context import CrawlContext
from crawler.dedup import signature
from crawler.runner import run_crawl
from indexer.es_store import ElasticsearchMentionStore
from indexer.queries import MentionFilters
from indexer.spool import Spool, SpoolingWriter
from indexer.sqlite_store import SQLiteMentionStore
from indexer.store import MentionStore, Selection
from kaiku.local_engine import LocalEngine, free_port
from sentiment.loader import load_classifier

PREFILL_URL = "https://prefill.example/"


class TimedClassifier:
    """The real classifier, with the time spent in it added up.

    `paired`: every batch is also scored a second time on its own, right before or right after the crawl's own call
    (alternately, so that neither order is always the warm one): the scorer alone on the same texts, timed at the same
    moments as the crawl, under the same load. The reactor thread waits meanwhile, so the crawl is longer by exactly
    that time, which is taken off again.
    """

    def __init__(self, inner, paired: bool = False) -> None:
        self.inner, self.seconds, self.paired = inner, 0.0, paired
        self.alone_seconds, self.alone_cpu, self.alone_texts, self.calls = 0.0, 0.0, 0, 0
        self.model_id, self.model_version = inner.model_id, inner.model_version

    def predict(self, texts):
        self.calls += 1
        alone_first = self.paired and self.calls % 2 == 0
        if alone_first:
            self._alone(texts)
        started = time.perf_counter()
        try:
            return self.inner.predict(texts)
        finally:
            self.seconds += time.perf_counter() - started
            if self.paired and not alone_first:
                self._alone(texts)

    def _alone(self, texts) -> None:
        started, cpu_started = time.perf_counter(), time.process_time()
        self.inner.predict(texts)
        self.alone_seconds += time.perf_counter() - started
        self.alone_cpu += time.process_time() - cpu_started
        self.alone_texts += len(texts)


def prefill(store: MentionStore, n: int, first: int) -> float:
    """Write n mentions like the scaled site's (numbered from `first` on, so none is one of the crawl's ids)."""
    reviews = demo_reviews()
    started = time.perf_counter()
    for start in range(0, n, 1000):
        batch = []
        for number in range(first + start, first + min(n, start + 1000)):
            text = f"{reviews[number % len(reviews)][0]} Arvio numero {number}."
            sig = signature(text)
            batch.append(Mention(
                id=mention_id("bench-prefill", str(number)), brand=("revontuli", "tunturi")[number % 2],
                source="reviews", url=f"{PREFILL_URL}{number}", text=text, lang="fi",
                published_at=datetime(2026, 11, 20, tzinfo=UTC) - timedelta(minutes=number),
                crawled_at=datetime(2026, 11, 21, tzinfo=UTC), dedup_bands=sig.bands() if sig else [],
                polarity=Polarity(negative=0.2, neutral=0.5, positive=0.3), experience="comfort",
            ))  # fmt: skip
        store.write(batch)
    store.refresh()
    return time.perf_counter() - started


def first_batch(classifier, batch_size: int) -> float:
    """Seconds of the model's first batch of site-like texts, before the clock: torch sets up its kernels for a shape
    on its first batch (the scorer alone, timed after the crawl, would otherwise run warm and the crawl cold)."""
    reviews = demo_reviews()
    started = time.perf_counter()
    classifier.predict([f"{reviews[n % len(reviews)][0]} Arvio numero {n}." for n in range(batch_size)])
    return time.perf_counter() - started


def load_language_models() -> float:
    """CPU seconds lingua takes to load the models the site's texts need, before the clock (like the sentiment model).

    lingua loads a language's models on the first text that needs them: about 4 s of CPU once per process, which
    would otherwise be charged to the first mentions of the crawl (2 ms each over 2,000) rather than to the process.
    """
    started = time.process_time()
    for text, _ in demo_reviews():
        decide_language(text, "fi")
    return time.process_time() - started


def scorer_alone(classifier, texts: Sequence[str], batch_size: int) -> tuple[float, float]:
    """Mentions per second of the classifier alone on these texts, in the crawl's batches, and its CPU seconds."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch_size):
        classifier.predict(list(texts[start : start + batch_size]))
    return len(texts) / (time.perf_counter() - started), time.process_time() - cpu_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--prefill", type=int, default=0, help="mentions written into the store before the crawl")
    parser.add_argument("--scorer", choices=["default", "constant"], default="default")
    parser.add_argument("--scorer-sample", type=int, default=2000, help="texts the scorer alone is timed on")
    parser.add_argument("--store", choices=["embedded", "local"], default="embedded")
    parser.add_argument("--paired", action="store_true", help="also score every batch alone at the same moment")
    args = parser.parse_args()

    settings = Settings()
    if args.scorer == "default":
        inner = load_classifier("default", cache_dir=settings.resolved_model_cache_dir)
    else:
        inner = ConstantClassifier()
    classifier = TimedClassifier(inner, paired=args.paired and args.scorer == "default")
    work = Path(tempfile.mkdtemp(prefix="kaiku-bench-e2e-"))  # the store (or engine) and the spool; removed after
    try:
        run(args, settings, inner, classifier, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, settings: Settings, inner, classifier: TimedClassifier, work: Path) -> None:
    engine = None
    url = os.environ.get("KAIKU_ELASTICSEARCH_URL")
    store: MentionStore
    if url or args.store == "local":
        from indexer.admin import ensure_index
        from indexer.client import make_client

        if not url:
            engine = LocalEngine(work / "engine", port=free_port())
            engine.start()
            url = engine.url
        client = make_client(url, os.environ.get("KAIKU_ELASTICSEARCH_API_KEY"), timeout=300)
        alias = f"bench-e2e-{int(time.time())}"
        ensure_index(client, alias)
        store, where = ElasticsearchMentionStore(client, alias), "local noida-db" if engine else url
    else:
        store = SQLiteMentionStore(work / "mentions.sqlite3")
        store.ensure_ready()
        where = "embedded SQLite store"
    filled = prefill(store, args.prefill, first=args.mentions) if args.prefill else 0.0
    writer = SpoolingWriter(store, Spool(work / "spool"))
    (work / "site").mkdir()
    pages = write_site(args.mentions, work / "site")
    site = serve_site(port=0, directory=work / "site")
    try:
        languages_s = load_language_models()
        first_batch_s = first_batch(inner, settings.batch_size)
        load_before = os.getloadavg()
        started, cpu_started = time.perf_counter(), time.process_time()
        brands = load_config(REPO_CONFIGS).brands
        batch = {"KAIKU_BATCH_SIZE": settings.batch_size}
        context = CrawlContext(brands, classifier, writer, store)
        summary = run_crawl(bench_source(site.url, pages), context, batch, allow_private_urls=True)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        elapsed, cpu = elapsed - classifier.alone_seconds, cpu - classifier.alone_cpu  # the paired scoring's
        load_after = os.getloadavg()
        store.refresh()
        stored = store.count(Selection())
        crawled = MentionFilters(source="reviews")
        texts = [m["text"] for m in store.export(crawled) if not m["url"].startswith(PREFILL_URL)]
    finally:
        site.stop()
        if engine is not None:
            engine.stop()
    print(f"end-to-end benchmark: {summary.pages:,} pages, {summary.items:,} mentions into the {where} "
          f"holding {args.prefill:,} before ({filled:.0f} s to write them), scorer {args.scorer}, "
          f"{os.cpu_count()} cores, batch {settings.batch_size}")  # fmt: skip
    print(f"  load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end of the crawl; "
          f"before the clock: language models loaded ({languages_s:.1f} s CPU), the scorer's first batch "
          f"({first_batch_s:.1f} s)")  # fmt: skip
    per_s = summary.items / elapsed
    print(f"  {per_s:7.1f} mentions/s crawl -> score -> store ({elapsed:.0f} s, {elapsed / summary.items * 1000:.2f} "
          f"ms per mention; scoring {classifier.seconds / elapsed:.0%} of it, "
          f"{(elapsed - classifier.seconds) / summary.items * 1000:.2f} ms per mention besides)")  # fmt: skip
    # CPU time, unlike wall time, does not count the waits for other processes of a shared machine.
    print(f"  CPU time of this process (crawl, site, pipelines, store): {cpu / summary.items * 1000:.2f} ms per "
          f"mention; scoring {classifier.seconds / summary.items * 1000:.2f} ms of wall time per mention")  # fmt: skip
    sample = texts[: args.scorer_sample]
    if args.scorer == "default" and sample:
        alone, alone_cpu = scorer_alone(inner, sample, settings.batch_size)
        print(f"  scorer alone on {len(sample):,} of the same texts: {alone:7.1f} mentions/s; end to end is "
              f"{per_s / alone:.0%} of it")  # fmt: skip
        # The two runs follow each other, and a shared machine's load moves between them; CPU time moves less.
        alone_ms, end_to_end_ms = alone_cpu / len(sample) * 1000, cpu / summary.items * 1000
        print(f"  in CPU time: the scorer alone {alone_ms:.2f} ms per mention, end to end {end_to_end_ms:.2f}: "
              f"{alone_ms / end_to_end_ms:.0%}")  # fmt: skip
    if classifier.alone_texts:
        alone = classifier.alone_texts / classifier.alone_seconds
        print(f"  paired: the scorer alone on each batch at the same moments: {alone:7.1f} mentions/s; end to end is "
              f"{per_s / alone:.0%} of it; in CPU time "
              f"{classifier.alone_cpu / classifier.alone_texts * 1000:.2f} ms per mention alone, "
              f"{cpu / summary.items * 1000:.2f} end to end")  # fmt: skip
    print(f"  written {summary.indexed:,}, spooled {summary.spooled}, the store holds {stored:,}; "
          f"near-duplicates {({k.rsplit('/', 1)[1]: v for k, v in summary.stats.items() if 'near_dup' in k})}; "
          f"experience {summary.experience}")  # fmt: skip
    print(f"  peak memory {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
