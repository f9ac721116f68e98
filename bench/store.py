"""The two mention stores side by side: the same synthetic mentions, the same questions, through `MentionStore`.

    python bench/store.py [--n 200000] [--es-n N] [--repeat 20] [--es-repeat N] [--json] [--skip-es]

Each store runs in a child process of its own (so its peak RSS is its own): the embedded SQLite store in a fresh
file, the Elasticsearch store on a fresh local noida-db engine (or KAIKU_ELASTICSEARCH_URL, under a new alias).
The local engine takes minutes and GBs at 200,000 mentions; `--es-n` gives it fewer (say 20000) and the output
says so, and `--es-repeat` fewer timed runs per question (each takes seconds there; the embedded store always
runs `--repeat`). Per store:

  bulk_per_s            mentions written per second by `write_all`, in batches of 1,000 (texts, stems, rollups,
                        MinHash bands; the embedded store commits them in a second process, many batches at
                        once); bulk_per_cpu_s: the same per CPU second of the bench process and that second one.
                        The mentions are made before the clock starts.
  batch_write_per_s     embedded only: the same mentions into a fresh file by one `write` call per batch, as a
                        crawl writes (one process); batch_write_per_cpu_s: per CPU second
  bulk_writer_peak_rss_mib  embedded only: the peak RSS (VmHWM) of the process that commits a bulk load
  weekly_metrics_p50_ms a quarter of weekly buckets in Europe/Helsinki for a brand and its 4 competitors
  search_p50_ms         one brand, a one-word text query (Finnish or English), newest first, 20 per page, with count
  team_search_p50_ms    the same without a brand, as a team's key asks it: the team's three brands (one brand and
                        two competitors)
  angriest_p50_ms       one brand's angriest mentions first (no text, no dates: the brand's whole year), 20 per page
  outliers_p50_ms       the 10 most intense anger and delight outliers of one brand over 30 days
  get_p50_ms            one mention by id
  *_p50_cpu_ms          embedded only: the median CPU time of this process per question (on a shared machine
                        the wall time includes waiting for a core; the CPU time does not)
  export_rows_per_s     every mention of one brand, streamed
  peak_rss_mib          embedded: the bench process's peak RSS above its RSS once the mentions are made (about 4 KiB
                        each); Elasticsearch: the engine process's peak RSS (VmHWM) when it is the local engine

The last line is one JSON object: {"n": ..., "stores": {"embedded": {...}, "elasticsearch": {...}}}.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.mention import Mention, mention_id
from crawler.dedup import BANDS
from indexer.buckets import buckets, zone
from indexer.queries import MentionFilters
from indexer.sqlite_bulk import BULK_WRITER_NAME
from indexer.store import MentionStore

END = datetime(2026, 11, 23, tzinfo=UTC)
BRANDS = ["revontuli", "tunturi", "kide", "merituuli", "aurora"]
FI = ["huone", "aamiainen", "aamiaisella", "henkilökunta", "sauna", "sänky", "kylmä", "ihana", "likainen",
      "hinta", "sijainti", "palvelu", "hotelli", "kahvi", "ravintola", "vastaanotto", "siisti"]  # fmt: skip
EN = ["room", "breakfast", "staff", "sauna", "bed", "cold", "lovely", "dirty", "price", "location", "service",
      "hotel", "coffee", "restaurant", "reception", "clean", "noisy", "friendly", "rooms", "breakfasts"]  # fmt: skip
QUERIES = [("aamiainen", None), ("sauna", None), ("breakfast", None), ("likainen", None), ("staff", None)]
TEAM = ("revontuli", "tunturi", "kide")  # what a team's key sees: its brand and two competitors
BATCH = 1000
ENGINE_TIMEOUT_S = 1800


def synthetic(n: int, seed: int = 7) -> Iterator[Mention]:
    """A year of mentions of five brands (the first twice as talked about), generated lazily."""
    rng = random.Random(seed)
    for i in range(n):
        lang = "fi" if rng.random() < 0.6 else "en"
        words = rng.choices(FI if lang == "fi" else EN, k=rng.randint(12, 40))
        experience = rng.choices(["anger", "comfort", "delight", None], weights=[1, 8, 1, 0.2])[0]
        neg = rng.random() * (1 if experience == "anger" else 0.3)
        pos = rng.random() * (1 if experience == "delight" else 0.3)
        yield Mention(
            id=mention_id("bench", str(i)),
            brand=rng.choice(BRANDS[:1] + BRANDS),
            source=rng.choice(["reviews", "rss", "mastodon", "bluesky", "reddit"]),
            url=f"https://bench.example/{i}",
            text=" ".join(words).capitalize() + ".",
            lang=lang,
            author_followers=rng.choice([None, rng.randint(0, 5000)]),
            published_at=END - timedelta(seconds=rng.randint(0, 365 * 86400)),
            crawled_at=END,
            polarity={"negative": neg, "neutral": max(0.0, 1 - neg - pos), "positive": pos} if experience else None,
            experience=experience,
            engagement={"likes": rng.randint(0, 50), "replies": rng.randint(0, 5)},
            dedup_bands=[f"{b:02d}:{rng.getrandbits(48):012x}" for b in range(BANDS)],
        )


def p50_ms(action: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process, in ms, over `repeat` runs after a warm-up."""
    action()  # warm-up
    times, cpu_times = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - started_cpu) * 1000)
    return round(statistics.median(times), 2), round(statistics.median(cpu_times), 2)


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def generated(n: int) -> list[list[Mention]]:
    """The mentions in batches of `BATCH`, made before any clock starts. Frozen out of the garbage collector's
    reach: its passes over a heap this large would otherwise be timed as part of every store call."""
    mentions = synthetic(n)
    batches = []
    while batch := list(itertools.islice(mentions, BATCH)):
        batches.append(batch)
    gc.freeze()
    return batches


def measure(store: MentionStore, batches: list[list[Mention]], repeat: int, cpu_figures: bool) -> dict[str, float]:
    """The figures of one store; `cpu_figures`: also this process's CPU time per question (the embedded store
    works in this process, and its bulk writer in a second one; Elasticsearch in its own, so its CPU time here
    would say nothing)."""
    n = sum(len(batch) for batch in batches)
    writer_peak = PeakRss(BULK_WRITER_NAME)
    started, started_cpu = time.perf_counter(), cpu_seconds()
    store.write_all(batches)
    store.refresh()
    wall, cpu = time.perf_counter() - started, cpu_seconds() - started_cpu
    writer_peak.stop()
    print(f"  wrote {n} mentions in {wall:.1f} s ({cpu:.1f} s of CPU)", file=sys.stderr)

    rng = random.Random(1)
    calendar = buckets(END - timedelta(weeks=13), END, "week", zone("Europe/Helsinki"))
    ids = [mention_id("bench", str(rng.randrange(n))) for _ in range(repeat + 1)]
    queries = iter(QUERIES * (repeat + 1))
    month = MentionFilters(brand="revontuli", start=END - timedelta(days=30), end=END)

    def search(**scope: Any) -> None:
        q, lang = next(queries)
        store.search(MentionFilters(q=q, lang=lang, **scope), size=20)

    questions: dict[str, Callable[[], Any]] = {
        "weekly_metrics": lambda: store.brand_counts_per_bucket(BRANDS, calendar),
        "search": lambda: search(brand="tunturi"),
        "team_search": lambda: search(brands=TEAM),
        "angriest": lambda: store.search(MentionFilters(brand="tunturi"), size=20, sort="angriest"),
        "outliers": lambda: store.most_intense(month, ["anger", "delight"], 10),
        "get": lambda: store.get(ids.pop()),
    }
    result: dict[str, float] = {}
    for name, action in questions.items():
        result[f"{name}_p50_ms"], cpu_ms = p50_ms(action, repeat)
        if cpu_figures:
            result[f"{name}_p50_cpu_ms"] = cpu_ms
    result |= {
        "bulk_per_s": round(n / wall),
        # Writes per second of CPU time of this process and its bulk writer: what one free core would give (for
        # the embedded store, whose work is all in these two; Elasticsearch works in its own).
        "bulk_per_cpu_s": round(n / cpu),
    }
    if writer_peak.mib is not None:
        result["bulk_writer_peak_rss_mib"] = writer_peak.mib
    started = time.perf_counter()
    rows = sum(1 for _ in store.export(MentionFilters(brand="kide")))
    result["export_rows_per_s"] = round(rows / (time.perf_counter() - started))
    return result


def batch_writes_per_s(batches: list[list[Mention]]) -> tuple[int, int]:
    """Mentions per second, and per CPU second, written into a fresh embedded store one `write` call per batch, as
    a crawl writes (without the bulk writer's second process)."""
    from indexer.sqlite_store import SQLiteMentionStore

    n = sum(len(batch) for batch in batches)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteMentionStore(Path(folder) / "mentions.sqlite3")
        started, started_cpu = time.perf_counter(), cpu_seconds()
        for batch in batches:
            store.write(batch)
        wall, cpu = time.perf_counter() - started, cpu_seconds() - started_cpu
        store.close()
    return round(n / wall), round(n / cpu)


def child(kind: str, n: int, repeat: int) -> dict[str, Any]:
    """Runs in its own process: one store, measured; prints its figures as JSON."""
    batches = generated(n)
    baseline = rss_mib()
    if kind == "embedded":
        from indexer.sqlite_store import SQLiteMentionStore

        with tempfile.TemporaryDirectory() as folder:
            store = SQLiteMentionStore(Path(folder) / "mentions.sqlite3")
            figures = measure(store, batches, repeat, cpu_figures=True)
            figures["store_file_mib"] = round((Path(folder) / "mentions.sqlite3").stat().st_size / 2**20, 1)
            store.close()
        figures["batch_write_per_s"], figures["batch_write_per_cpu_s"] = batch_writes_per_s(batches)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures["peak_rss_mib"] = round(peak - baseline, 1)
        return figures
    from indexer.client import make_client
    from indexer.es_store import ElasticsearchMentionStore
    from kaiku.local_engine import LocalEngine, free_port

    url = os.environ.get("KAIKU_ELASTICSEARCH_URL")
    with tempfile.TemporaryDirectory() as folder:
        engine = None if url else LocalEngine(data_dir=Path(folder), port=free_port())
        if engine is not None:
            engine.start()
            url = engine.url
        try:
            # A request may take minutes on the local engine at 200,000 mentions on a busy machine: wait for it
            # rather than fail the run (the default client gives up after 30 s).
            client = make_client(url, os.environ.get("KAIKU_ELASTICSEARCH_API_KEY"), timeout=ENGINE_TIMEOUT_S)
            store = ElasticsearchMentionStore(client, f"bench-{uuid.uuid4().hex[:8]}")
            store.ensure_ready()
            figures: dict[str, Any] = measure(store, batches, repeat, cpu_figures=False)
            if engine is not None:
                figures["peak_rss_mib"] = _peak_rss(engine.running_pid())
        finally:
            if engine is not None:
                engine.stop()
    return figures


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the embedded store's bulk writer)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _peak_rss(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except FileNotFoundError:  # it has ended
        pass
    return None


class PeakRss:
    """The peak RSS (VmHWM) of this process's child process of the given name, read every 0.2 s while it runs.
    (The kernel's figure for ended children counts the parent's pages it shared before it started Python.)"""

    def __init__(self, name: str) -> None:
        self.name, self.mib = name, None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.2):
            for process in multiprocessing.active_children():
                if process.name == self.name and (mib := _peak_rss(process.pid)) is not None:
                    self.mib = max(self.mib or 0.0, mib)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="mentions in the embedded store")
    parser.add_argument("--es-n", type=int, default=None, help="mentions in the Elasticsearch store [--n]")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each question (after one warm-up)")
    parser.add_argument("--es-repeat", type=int, default=None, help="timed runs per question, Elasticsearch [--repeat]")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of every figure")
    parser.add_argument("--skip-es", action="store_true", help="measure the embedded store only")
    parser.add_argument("--child", choices=["embedded", "elasticsearch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.repeat)))
        return
    es_n, es_repeat = args.es_n or args.n, args.es_repeat or args.repeat
    print(
        f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, embedded: {args.n} mentions, "
        f"{args.repeat} repeats" + ("" if args.skip_es else f", elasticsearch: {es_n} mentions, {es_repeat} repeats")
    )
    stores: dict[str, dict[str, Any]] = {}
    plan = [("embedded", args.n, args.repeat)] + ([] if args.skip_es else [("elasticsearch", es_n, es_repeat)])
    for kind, n, repeat in plan:
        print(f"{kind}: {n} mentions ...", file=sys.stderr)
        command = [sys.executable, __file__, "--child", kind, "--n", str(n), "--repeat", str(repeat)]
        output = subprocess.run(command, capture_output=True, text=True)
        sys.stderr.write(output.stderr)
        if output.returncode != 0:
            sys.exit(f"{kind} failed (exit status {output.returncode}); its output is above")
        stores[kind] = {"n": n, "repeat": repeat, **json.loads(output.stdout.strip().splitlines()[-1])}
    keys = [k for k in stores["embedded"] if k not in ("n", "repeat")]
    print(f"{'':24}" + "".join(f"{kind:>16}" for kind in stores))
    for key in ["n", "repeat", *keys]:
        print(f"{key:24}" + "".join(f"{stores[kind].get(key)!s:>16}" for kind in stores))
    if "elasticsearch" in stores:
        print("times faster (elasticsearch p50 / embedded p50, each at its own n):")
        for key in keys:
            if key.endswith("_p50_ms") and stores["embedded"][key]:
                print(f"  {key:24}{stores['elasticsearch'][key] / stores['embedded'][key]:8.1f}x")
    if args.json:
        print(json.dumps({"n": args.n, "stores": stores}))


if __name__ == "__main__":
    main()
