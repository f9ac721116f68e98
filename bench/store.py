"""The two mention stores side by side: the same synthetic mentions, the same questions, through `MentionStore`.

    python bench/store.py [--n 200000] [--es-n N] [--repeat 20] [--es-repeat N] [--json] [--skip-es]

Each store runs in a child process of its own (so its peak RSS is its own): the embedded SQLite store in a fresh
file, the Elasticsearch store on a fresh local noida-db engine (or KAIKU_ELASTICSEARCH_URL, under a new alias).
The local engine takes minutes and GBs at 200,000 mentions; `--es-n` gives it fewer (say 20000) and the output
says so, and `--es-repeat` fewer timed runs per question (each takes seconds there; the embedded store always
runs `--repeat`). Per store:

  bulk_per_s            mentions written per second, in batches of 1,000 (texts, stems, rollups, MinHash bands);
                        bulk_per_cpu_s: the same per second of the bench process's CPU time
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
  peak_rss_mib          embedded: the bench process's peak RSS above its RSS after imports (the data is generated
                        lazily); Elasticsearch: the engine process's peak RSS (VmHWM) when it is the local engine

The last line is one JSON object: {"n": ..., "stores": {"embedded": {...}, "elasticsearch": {...}}}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
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


def measure(store: MentionStore, n: int, repeat: int, cpu_figures: bool) -> dict[str, float]:
    """The figures of one store; `cpu_figures`: also this process's CPU time per question (the embedded store
    works in this process; Elasticsearch in its own, so its CPU time here would say nothing)."""
    wall = cpu = 0.0  # the writes only: generating the mentions is not timed
    mentions = synthetic(n)
    while batch := list(itertools.islice(mentions, BATCH)):
        started, started_cpu = time.perf_counter(), time.process_time()
        store.write(batch)
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
    started = time.perf_counter()
    store.refresh()
    wall += time.perf_counter() - started
    print(f"  wrote {n} mentions in {wall:.1f} s ({cpu:.1f} s of this process's CPU)", file=sys.stderr)

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
        # Writes per second of this process's CPU time: what one free core gives on a busy machine (for the
        # embedded store, where all the work is in this process; Elasticsearch works in its own).
        "bulk_per_cpu_s": round(n / cpu),
    }
    started = time.perf_counter()
    rows = sum(1 for _ in store.export(MentionFilters(brand="kide")))
    result["export_rows_per_s"] = round(rows / (time.perf_counter() - started))
    return result


def child(kind: str, n: int, repeat: int) -> dict[str, Any]:
    """Runs in its own process: one store, measured; prints its figures as JSON."""
    baseline = rss_mib()
    if kind == "embedded":
        from indexer.sqlite_store import SQLiteMentionStore

        with tempfile.TemporaryDirectory() as folder:
            store = SQLiteMentionStore(Path(folder) / "mentions.sqlite3")
            figures = measure(store, n, repeat, cpu_figures=True)
            figures["store_file_mib"] = round((Path(folder) / "mentions.sqlite3").stat().st_size / 2**20, 1)
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
            figures: dict[str, Any] = measure(store, n, repeat, cpu_figures=False)
            if engine is not None:
                figures["peak_rss_mib"] = _engine_peak_rss(engine.running_pid())
        finally:
            if engine is not None:
                engine.stop()
    return figures


def _engine_peak_rss(pid: int | None) -> float | None:
    if pid is None:
        return None
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


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
