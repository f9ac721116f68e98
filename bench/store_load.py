"""The embedded store under load: API clients reading while a crawl writes into the same SQLite file.

    python bench/store_load.py [--base 200000] [--mentions 10000] [--clients 16] [--seconds 60] [--api-workers N]

Three kinds of process, as a single-machine installation runs them:

1. the API: the real app served by uvicorn on an ephemeral loopback port, in its own process (`kaiku serve`
   without the model: a constant stand-in, which the read routes never call) with `--api-workers` worker
   processes (KAIKU_API_WORKERS; default one per core), its rate limits raised out of the way (a client of a
   small store asks more than the 10 a second a key may);
2. a crawl, in its own process: the real `reviews` spider through Scrapy and every Kaiku pipeline (brand match,
   language detection, duplicates, near-duplicates looked up in the store, scoring by a constant stand-in instead
   of the model, the spooling writer) crawling the scaled demo site (bench/scaled_site.py) on loopback, which
   holds `--mentions` new reviews;
3. this process: `--clients` threads, each with its own team's key, asking in turn for weekly metrics (a
   quarter in Europe/Helsinki with the competitor), a text search (one brand, one word, newest first) and the
   next export page (200 mentions of a brand, following the cursor) for `--seconds` seconds, and longer if the
   crawl has not finished by then: every write happens under load.

Before that, `--base` synthetic mentions spread over the year are written into the store (a year of a few
brands). The clients start with the crawl. Afterwards it checks, and exits non-zero when one fails:
no response other than 200; the store holds exactly base + crawled mentions, with the ids of the base and of
every review on the site, each once (an export of everything); the metrics of each brand over the year count
each of its mentions once; p95 of every question at most `--p95-goal` ms.

Prints, per question: requests, p50/p95/p99; the crawl's own time; the load average and the CPU seconds of
each process (the API's with its workers, and per request; this machine may be shared: the latencies are as
good as the CPU the processes got).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

# The repository first: run as `python bench/store_load.py`, bench/ would be first, where sentiment.py is a script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_load import END, WORDS, percentile, serve_api, synthetic, wait_for_api
from bench.scaled_site import write_site
from core.mention import mention_id
from core.priority import lower_priority
from core.settings import REPO_CONFIGS, Settings
from crawler.extract.schema_org import extract_reviews
from indexer.queries import MentionFilters
from kaiku.local_engine import free_port

BRANDS = ("revontuli", "tunturi")
EXPORT_PAGES = 25  # an export client starts over after this many pages
QUESTIONS = ("weekly_metrics", "search", "export_page")


def bench_environment(work: Path) -> dict[str, str]:
    """The settings of every process here, as environment variables: the API's workers read them from there."""
    return {
        "KAIKU_DATA_DIR": str(work),
        "KAIKU_CONFIG_DIR": str(work / "configs"),
        "KAIKU_API_DB": str(work / "api.sqlite3"),
        "KAIKU_STORE_PATH": str(work / "mentions.sqlite3"),
        "KAIKU_ALLOW_PRIVATE_URLS": "true",
        # The store is measured, not the rate limiter: a client on a small store asks more than 10 times a second.
        "KAIKU_RATE_LIMIT_PER_MINUTE": "1000000",
        "KAIKU_RATE_LIMIT_BURST": "10000",
        "KAIKU_TEAM_RATE_LIMIT_PER_MINUTE": "1000000",
        "KAIKU_TEAM_RATE_LIMIT_BURST": "10000",
    }


def bench_settings(work: Path) -> Settings:
    return Settings.model_validate(
        {name.removeprefix("KAIKU_").lower(): value for name, value in bench_environment(work).items()}
    )


def crawl(work: str, site_dir: str, pages: int, niceness: int, report: Any) -> None:
    """The crawl process, at `niceness` as `kaiku crawl` and the scheduler run one: the scaled site served here,
    crawled into the store; sends back what it did."""
    lower_priority(niceness)
    from bench.crawl import ConstantClassifier, bench_source
    from cli.demo.server import serve_site
    from core.config import load_config
    from crawler.runner import run_crawl
    from kaiku.wiring import crawl_context, mention_store

    settings = bench_settings(Path(work))
    store = mention_store(settings)
    with serve_site(port=0, directory=Path(site_dir)) as site:
        report.put({"site": site.url})
        started = time.perf_counter()
        summary = run_crawl(
            bench_source(site.url, pages),
            crawl_context(settings, load_config(settings.config_dir).brands, ConstantClassifier(), store),
            allow_private_urls=True,
        )
        elapsed = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    report.put({
        "seconds": elapsed, "items": summary.items, "indexed": summary.indexed, "spooled": summary.spooled,
        "index_failed": summary.index_failed, "errors": summary.errors, "cpu_s": cpu.ru_utime + cpu.ru_stime,
        "near_duplicates": {k: v for k, v in summary.stats.items() if k.startswith("kaiku/near_duplicates/")},
    })  # fmt: skip


def site_ids(site_dir: Path, site_url: str) -> set[str]:
    """The mention id of every review on the site, read from its pages as the spider reads them."""
    ids = set()
    for page in sorted(site_dir.glob("hotel-*.html")):
        for record in extract_reviews(page.read_bytes(), f"{site_url}/{page.name}", "text/html").reviews:
            ids.add(mention_id("reviews", record.key))
    return ids


class Results:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter[str]] = defaultdict(Counter)
        self.lock = threading.Lock()

    def record(self, question: str, seconds: float, status: str) -> None:
        with self.lock:
            self.statuses[question][status] += 1
            if status == "200":
                self.latencies[question].append(seconds * 1000)


def client(base: str, key: str, until: float, crawl_done: threading.Event, seed: int, results: Results) -> None:
    """One API client: weekly metrics, a search and an export page in turn, as fast as answers come, until
    `until` (monotonic) and the crawl has finished."""
    rng = random.Random(seed)
    cursor: str | None = None
    pages = 0
    quarter = (END - timedelta(days=91)).isoformat()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as http:
        turn = seed
        while time.monotonic() < until or not crawl_done.is_set():
            question = QUESTIONS[turn % len(QUESTIONS)]
            turn += 1
            brand = rng.choice(BRANDS)
            if question == "weekly_metrics":
                path = f"/v1/brands/{brand}/metrics"
                params: dict[str, Any] = {"interval": "week", "tz": "Europe/Helsinki", "from": quarter}
            elif question == "search":
                lang = rng.choice(["fi", "en"])
                path, params = "/v1/mentions", {"brand": brand, "q": rng.choice(WORDS[lang]), "lang": lang}
            else:
                path, params = "/v1/mentions", {"brand": "revontuli", "limit": 200}
                if cursor is not None:
                    params["cursor"] = cursor
            started = time.perf_counter()
            try:
                response = http.get(path, params=params)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            results.record(question, time.perf_counter() - started, status)
            if question == "export_page" and status == "200":
                pages += 1
                cursor = response.json()["next"] if pages < EXPORT_PAGES else None
                pages = pages if cursor is not None else 0


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process and its running children (Linux /proc): the API's workers."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load_average() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=int, default=200_000, help="mentions in the store before the crawl")
    parser.add_argument("--mentions", type=int, default=10_000, help="reviews the crawl writes")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--p95-goal", type=float, default=300.0, help="ms")
    parser.add_argument("--crawl-nice", type=int, default=Settings.model_fields["crawl_nice"].default,
                        help="the crawl's niceness (KAIKU_CRAWL_NICE; 0: as high a priority as the API's)")  # fmt: skip
    parser.add_argument(
        "--api-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="KAIKU_API_WORKERS of the API (default: one per core)",
    )
    args = parser.parse_args()

    from kaiku.wiring import mention_store, team_store

    work = Path(tempfile.mkdtemp(prefix="kaiku-bench-store-load-"))
    spawn = multiprocessing.get_context("spawn")
    processes: list[multiprocessing.process.BaseProcess] = []
    api: subprocess.Popen[bytes] | None = None
    try:
        shutil.copytree(REPO_CONFIGS, work / "configs")
        settings = bench_settings(work)
        store = mention_store(settings)
        store.ensure_ready()
        started = time.perf_counter()
        base = synthetic(args.base)
        for start in range(0, len(base), 1000):
            store.write(base[start : start + 1000])
        print(f"store: {args.base:,} mentions over a year written in {time.perf_counter() - started:.0f} s; "
              f"{os.cpu_count()} cores, load average {load_average()} (1/5/15 min)")  # fmt: skip
        base_ids = {mention.id for mention in base}
        del base
        site_dir = work / "site"
        site_dir.mkdir()
        pages = write_site(args.mentions, site_dir)
        teams = team_store(settings)
        keys = [
            teams.create_key(teams.create_team(f"team{n}", brands=list(BRANDS)).id).secret for n in range(args.clients)
        ]

        port = free_port()
        api = serve_api(bench_environment(work), port, args.api_workers)
        base_url = f"http://127.0.0.1:{port}"
        wait_for_api(base_url, api)
        api_cpu_before = process_cpu_s(api.pid)

        report = spawn.Queue()
        crawl_args = (str(work), str(site_dir), pages, args.crawl_nice, report)
        crawler = spawn.Process(target=crawl, args=crawl_args, daemon=True)
        results = Results()
        own_cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        crawler.start()
        processes.append(crawler)
        site_url = report.get(timeout=120)["site"]
        load_start = load_average()
        asking_since = time.monotonic()
        until, crawl_done = asking_since + args.seconds, threading.Event()
        threads = [
            threading.Thread(target=client, args=(base_url, key, until, crawl_done, n, results))
            for n, key in enumerate(keys)
        ]
        for thread in threads:
            thread.start()
        crawled = report.get(timeout=3600)
        crawl_done.set()
        for thread in threads:
            thread.join()
        asked = time.monotonic() - asking_since
        load_end = load_average()
        api_cpu = process_cpu_s(api.pid) - api_cpu_before
        own_cpu = resource.getrusage(resource.RUSAGE_SELF)
        clients_cpu = own_cpu.ru_utime + own_cpu.ru_stime - own_cpu_before.ru_utime - own_cpu_before.ru_stime
        crawler.join(60)

        failures = []
        print(f"\n{args.clients} clients for {asked:.0f} s against the API ({args.api_workers} worker processes) while "
              f"a crawl at niceness {args.crawl_nice} wrote {args.mentions:,} mentions (load average {load_start} at "
              f"the start, {load_end} at the end):")  # fmt: skip
        total = 0
        for question in QUESTIONS:
            latencies, statuses = results.latencies[question], results.statuses[question]
            done = sum(statuses.values())
            total += done
            p95 = percentile(latencies, 0.95)
            print(f"  {question:<15} {done:6,} requests  p50 {percentile(latencies, 0.5):7.1f} ms  p95 {p95:7.1f} ms"
                  f"  p99 {percentile(latencies, 0.99):7.1f} ms  statuses {dict(statuses)}")  # fmt: skip
            if set(statuses) - {"200"}:
                failures.append(f"{question}: answers other than 200: {dict(statuses)}")
            if not p95 <= args.p95_goal:
                failures.append(f"{question}: p95 {p95:.0f} ms above {args.p95_goal:.0f} ms")
        print(f"  all             {total:6,} requests, {total / asked:.1f}/s; the API's CPU "
              f"{api_cpu * 1000 / total:.1f} ms per request")  # fmt: skip
        print(f"crawl: {crawled['items']:,} mentions ({crawled['indexed']:,} written, {crawled['spooled']} spooled) "
              f"in {crawled['seconds']:.0f} s, {crawled['items'] / crawled['seconds']:.0f}/s; near-duplicates "
              f"{crawled['near_duplicates']}; index failures {crawled['index_failed'] or 'none'}, errors "
              f"{crawled['errors'] or 'none'}")  # fmt: skip
        used = api_cpu + crawled["cpu_s"] + clients_cpu
        print(f"CPU seconds meanwhile: API process {api_cpu:.0f}, crawl process {crawled['cpu_s']:.0f}, clients "
              f"{clients_cpu:.0f}: {used / asked:.2f} of the {os.cpu_count()} cores on average")  # fmt: skip

        expected = base_ids | site_ids(site_dir, site_url)
        stored = [mention["id"] for mention in store.export(MentionFilters())]
        doubled = len(stored) - len(set(stored))
        lost, unknown = expected - set(stored), set(stored) - expected
        print(f"store after: {len(stored):,} mentions (expected {len(expected):,}: {len(base_ids):,} + "
              f"{len(expected) - len(base_ids):,} crawled); lost {len(lost)}, doubled {doubled}, unexpected "
              f"{len(unknown)}")  # fmt: skip
        if lost or doubled or unknown or len(expected) != args.base + args.mentions:
            failures.append(f"mentions: lost {len(lost)}, doubled {doubled}, unexpected {len(unknown)}")
        first_key = {"Authorization": f"Bearer {keys[0]}"}
        for brand in BRANDS:
            year = {"from": (END - timedelta(days=400)).isoformat(), "to": END.isoformat()}
            monthly = {**year, "interval": "month", "competitors": "false"}
            listed: dict[str, Any] = {**year, "brand": brand, "limit": 1}
            with httpx.Client(base_url=base_url, headers=first_key, timeout=120) as http:
                volume = http.get(f"/v1/brands/{brand}/metrics", params=monthly).json()["totals"]["volume"]
                counted = http.get("/v1/mentions", params=listed).json()["count"]
            print(f"  {brand}: metrics volume over the year {volume:,}, mentions counted {counted:,}")
            if volume != counted:
                failures.append(f"{brand}: the metrics count {volume}, the mentions are {counted}")
        print("\nFAILED:\n  " + "\n  ".join(failures) if failures else "\nall checks passed")
        return 1 if failures else 0
    finally:
        if api is not None and api.poll() is None:
            api.terminate()  # uvicorn's supervisor stops its workers
            api.wait(30)
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
