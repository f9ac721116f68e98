"""The API under load: many clients, a concurrent crawl, and a query-cost attack beside ordinary searches.

    python bench/api_load.py [--store embedded|local|url] [--n 3000] [--clients 16] [--duration 60]
                              [--attack-seconds 20] [--api-workers N]

Indexes N synthetic mentions spread over a year into the store (`--store embedded`, the default: the embedded
SQLite store in a temporary data dir; `local`: a fresh local noida-db engine; `url` or KAIKU_BENCH_STORE=url: the
Elasticsearch at KAIKU_ELASTICSEARCH_URL under a new alias), serves the real app as a user starts it (`kaiku serve`
on loopback, in processes of its own: `--api-workers`, default one per core), and then:

1. load: `--clients` threads, each with its own team's key, send a mix of searches, brand metrics, breakdowns
   and brand lists for `--duration` seconds while the demo site is crawled again and again into the same store;
   prints requests/s, p50/p95/p99, 429s and 5xx.
2. attack: one client's ordinary search p95 alone, then beside 4 clients of one other team (4 keys) sending
   the costliest search text the bounds allow (3 prefix terms) and the original attack (500 characters of
   wildcard alternatives, refused with 422).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

# The repository first: run as `python bench/api_load.py`, bench/ would be first and `bench.api_latency` not found.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.mention import Mention, mention_id
from core.settings import REPO_CONFIGS, Settings
from kaiku.local_engine import LocalEngine, free_port
from kaiku.wiring import ready_store, team_store

END = datetime(2026, 11, 23, tzinfo=UTC)
WORDS = {
    "fi": ["huone", "aamiainen", "henkilökunta", "sauna", "sänky", "kylmä", "ihana", "likainen", "hinta"],
    "en": ["room", "breakfast", "staff", "sauna", "bed", "cold", "lovely", "dirty", "price", "location"],
}
ORDINARY_SEARCH = {"brand": "revontuli", "q": "huone kylmä", "lang": "fi"}
HEAVY_ALLOWED = {"q": "kyl* huo* lik*"}  # the costliest text the bounds let through
ATTACK = {"q": "|".join(f"{a}{b}*" for a in "abcdefghijklmnopqrstuvwxyz" for b in "aeiouy")[:500]}  # refused


def synthetic(n: int, seed: int = 7) -> list[Mention]:
    rng = random.Random(seed)
    mentions = []
    for i in range(n):
        lang = rng.choices(["fi", "en"], weights=[6, 4])[0]
        experience = rng.choices(["anger", "comfort", "delight"], weights=[1, 8, 1])[0]
        neg = rng.random() * (1 if experience == "anger" else 0.3)
        pos = rng.random() * (1 if experience == "delight" else 0.3)
        mentions.append(
            Mention(
                id=mention_id("bench", str(i)),
                brand=rng.choice(["revontuli", "revontuli", "tunturi"]),
                source=rng.choice(["reviews", "rss", "mastodon"]),
                url=f"https://bench.example/{i}",
                text=" ".join(rng.choices(WORDS[lang], k=8)),
                lang=lang,
                published_at=END - timedelta(seconds=rng.randint(0, 365 * 86400)),
                crawled_at=END,
                polarity={"negative": neg, "neutral": max(0.0, 1 - neg - pos), "positive": pos},
                experience=experience,
            )
        )
    return mentions


@contextmanager
def open_store(store: str, work: Path) -> Iterator[str | None]:
    """The Elasticsearch URL of the store to load, or None for the embedded store (the default)."""
    if store == "embedded":
        yield None
    elif store == "local":
        engine = LocalEngine(work / "engine", port=free_port())
        engine.start()
        try:
            yield engine.url
        finally:
            engine.stop()
    elif store == "url":
        yield os.environ["KAIKU_ELASTICSEARCH_URL"]
    else:
        raise SystemExit(f"unknown --store {store!r}: embedded, local or url")


def serve_api(settings: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """The API process, started as a user starts it: `kaiku serve` with KAIKU_API_WORKERS=workers, and these
    environment variables over this process's."""
    command = [sys.executable, "-c", "from cli import main; main()", "serve", "--host", "127.0.0.1", "--port",
               str(port), "--workers", str(workers), "--log-level", "WARNING"]  # fmt: skip
    return subprocess.Popen(command, env={**os.environ, **settings}, stdout=subprocess.DEVNULL)


def wait_for_api(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180  # a worker imports Kaiku first: slow on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the API process exited ({process.returncode})")
        try:
            if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the API did not start within 180 s")


@contextmanager
def serve(settings: Settings, workers: int) -> Iterator[str]:
    """The API as a user starts it (`kaiku serve` with `workers` processes), in processes of its own. Served from a
    thread of this process, it shared one GIL with every client thread here and the crawl: the attack then
    measured this process's own contention as much as the API's."""
    port = free_port()
    environment = {
        "KAIKU_DATA_DIR": str(settings.data_dir),
        "KAIKU_CONFIG_DIR": str(settings.config_dir),
        "KAIKU_INDEX_ALIAS": settings.index_alias,
        "KAIKU_ALLOW_PRIVATE_URLS": "true",
        "KAIKU_ELASTICSEARCH_URL": settings.elasticsearch_url or "",  # empty: the embedded store
    }
    process = serve_api(environment, port, workers)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_api(base, process)
        yield base
    finally:
        process.terminate()  # uvicorn's supervisor stops its workers
        process.wait(30)


def crawl_forever(settings: Settings, stop: threading.Event, crawls: list[int]) -> None:
    from bench.crawl import ConstantClassifier  # the model's cost is not what this measures
    from cli.demo.server import serve_site
    from core.config import load_config
    from crawler.runner import run_crawl
    from kaiku.wiring import crawl_context, mention_store

    config = load_config(settings.config_dir)
    store = mention_store(settings)
    with serve_site(port=0) as site:
        source = config.source("demo-reviews").model_copy(update={"start_urls": [site.url + "/"]})
        while not stop.is_set():
            run_crawl(
                source,
                crawl_context(settings, config.brands, ConstantClassifier(), store),
                allow_private_urls=True,
            )
            crawls[0] += 1


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # sent back from another process: the figures, not the lock
        return {"latencies": self.latencies, "statuses": self.statuses}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.latencies, self.statuses, self.lock = state["latencies"], state["statuses"], threading.Lock()

    def record(self, seconds: float, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status == 200:
                self.latencies.append(seconds)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def hammer(
    base: str,
    key: str,
    until: float,
    pick: Callable[[random.Random], tuple[str, dict]],
    out: Recorder,
    seed: int,
    interval: float = 0.0,
) -> None:
    """Requests one after another until `until`, each at least `interval` seconds after the previous one started."""
    rng = random.Random(seed)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        while time.monotonic() < until:
            path, params = pick(rng)
            started = time.perf_counter()
            status = client.get(path, params=params).status_code
            out.record(time.perf_counter() - started, status)
            time.sleep(max(0.0, interval - (time.perf_counter() - started)))


def mixed(rng: random.Random) -> tuple[str, dict]:
    brand = rng.choice(["revontuli", "tunturi"])
    return rng.choice(
        [
            ("/v1/mentions", {"brand": brand, "q": rng.choice(WORDS["fi"]), "lang": "fi"}),
            ("/v1/mentions", {"brand": brand, "experience": "anger", "sort": "angriest"}),
            (
                f"/v1/brands/{brand}/metrics",
                {"interval": "week", "tz": "Europe/Helsinki", "from": "2026-08-01T00:00:00Z"},
            ),
            (f"/v1/brands/{brand}/breakdown", {"by": "source"}),
            ("/v1/brands", {}),
        ]
    )


def attacker(rng: random.Random) -> tuple[str, dict]:
    return "/v1/mentions", rng.choice([HEAVY_ALLOWED, ATTACK])


def attack_from_elsewhere(base: str, keys: list[str], seconds: float) -> Recorder:
    """The attackers' clients, in a process of their own at the lowest priority: another customer's clients run on
    their own machines, not in the measured client's interpreter (their hundreds of requests a second would hold
    the GIL it waits on) nor on the server's cores (on 2 cores their client work alone takes most of one)."""
    os.nice(19)
    out = Recorder()
    run_clients(base, keys, seconds, attacker, out)
    return out


def run_clients(
    base: str, keys: list[str], seconds: float, pick: Callable, out: Recorder, interval: float = 0.0
) -> None:
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=hammer, args=(base, key, until, pick, out, n, interval)) for n, key in enumerate(keys)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def summary(name: str, out: Recorder, seconds: float) -> str:
    total = sum(out.statuses.values())
    errors = sum(count for status, count in out.statuses.items() if status >= 500)
    lat = [v * 1000 for v in out.latencies]
    return (
        f"{name:<28} {total / seconds:7.1f} req/s  p50 {percentile(lat, 0.5):7.1f} ms  p95 {percentile(lat, 0.95):7.1f}"
        f" ms  p99 {percentile(lat, 0.99):7.1f} ms  429s {out.statuses[429]:5d}  5xx {errors}  "
        f"statuses {dict(sorted(out.statuses.items()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=os.environ.get("KAIKU_BENCH_STORE", "embedded"))
    parser.add_argument("--n", type=int, default=3000, help="mentions over a year")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--attack-seconds", type=float, default=20.0)
    parser.add_argument("--api-workers", type=int, default=os.cpu_count() or 1,
                        help="KAIKU_API_WORKERS of the API (default: one per core)")  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kaiku-bench-load-"))
    try:
        with open_store(args.store, work) as url:
            alias = f"bench-{uuid.uuid4().hex[:8]}"
            config_dir = work / "configs"
            shutil.copytree(REPO_CONFIGS, config_dir)
            settings = Settings(
                elasticsearch_url=url,
                index_alias=alias,
                data_dir=work,
                config_dir=config_dir,
                allow_private_urls=True,
            )
            store = ready_store(settings)
            started = time.perf_counter()
            mentions = synthetic(args.n)
            for start in range(0, len(mentions), 500):
                store.write(mentions[start : start + 500])
            store.refresh()
            print(
                f"store {args.store}: {args.n} mentions over 365 days indexed in {time.perf_counter() - started:.1f}s"
            )
            teams = team_store(settings)
            keys = [
                teams.create_key(teams.create_team(f"team{n}", brands=["revontuli", "tunturi"]).id).secret
                for n in range(args.clients + 1)
            ]
            # The attack comes from one customer: one team, four keys.
            attacker_team = teams.create_team("attacker", brands=["revontuli", "tunturi"]).id
            attacker_keys = [teams.create_key(attacker_team).secret for _ in range(4)]
            with serve(settings, args.api_workers) as base:
                stop, crawls = threading.Event(), [0]
                crawler = threading.Thread(target=crawl_forever, args=(settings, stop, crawls), daemon=True)
                crawler.start()
                load = Recorder()
                run_clients(base, keys[: args.clients], args.duration, mixed, load)
                stop.set()
                crawled = f"  crawls finished {crawls[0]} (one runs throughout)"
                print(summary(f"load, {args.clients} clients", load, args.duration) + crawled)
                crawler.join(120)

                def ordinary(rng: random.Random) -> tuple[str, dict]:
                    return "/v1/mentions", ORDINARY_SEARCH

                # The ordinary client keeps to its key's sustained rate (a little under): unpaced, it spent its
                # burst in the first second and met 429 for the rest, leaving no latency to compare.
                paced = 1.1 * 60 / settings.rate_limit_per_minute
                alone = Recorder()
                run_clients(base, keys[-1:], args.attack_seconds, ordinary, alone, paced)
                print(summary("ordinary search alone", alone, args.attack_seconds))
                beside = Recorder()
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    pool.submit(int).result()  # started before the clock: a new interpreter takes a second
                    attacked = pool.submit(attack_from_elsewhere, base, attacker_keys, args.attack_seconds)
                    run_clients(base, keys[-1:], args.attack_seconds, ordinary, beside, paced)
                    attack = attacked.result()
                print(summary("ordinary search, attacked", beside, args.attack_seconds))
                print(summary("attackers (4 clients)", attack, args.attack_seconds))
                ratio = percentile(beside.latencies, 0.95) / percentile(alone.latencies, 0.95)
                print(f"ordinary search p95 attacked / alone: {ratio:.2f}x (goal: at most 2x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
