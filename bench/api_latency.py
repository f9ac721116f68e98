"""Kaiku's own cost per API request, in milliseconds: the store answering instantly, then the embedded store.

    python bench/api_latency.py [--n 20000] [--repeat 30] [--only ROUTE]

Writes N synthetic mentions (two brands of configs/brands.yaml, 13 weeks, Finnish and English texts) into a fresh
embedded SQLite store, then times each route in process (`TestClient`, no socket), `--repeat` times after one
warm-up, with the app's `MentionStore` swapped between:
  instant   a store that replays the embedded store's answer to the same call, recorded on the warm-up: what is
            left is Kaiku's own work (key check, rate limits, parameters, query model, calendar, ratios, JSON)
            and the in-process transport;
  embedded  the SQLite store itself; the time spent inside its methods is measured too, so that "Kaiku" =
            request − store is Kaiku's share of a real request.
Routes: GET /livez (no key, no store: the floor of middleware and transport), the mentions list, a text search,
weekly metrics for a quarter (with competitors), outliers, and the export of one week as NDJSON and as CSV
(about a thousand rows at the default N). Prints p50 and p95 of wall time and the p50 of CPU time (the process's CPU,
every thread: the app runs in TestClient's worker thread), per request.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from core.mention import Mention, mention_id
from core.settings import REPO_CONFIGS, Settings
from indexer.store import MentionStore
from kaiku.wiring import ready_store, team_store

END = datetime(2026, 11, 23, tzinfo=UTC)
FI = ["huone", "aamiainen", "henkilökunta", "sauna", "sänky", "kylmä", "ihana", "likainen", "hinta", "sijainti"]
EN = ["room", "breakfast", "staff", "sauna", "bed", "cold", "lovely", "dirty", "price", "location"]
ITERATORS = {"export", "pages"}  # methods whose answer is consumed lazily


def synthetic(n: int, seed: int = 7) -> list[Mention]:
    rng = random.Random(seed)
    mentions = []
    for i in range(n):
        lang = "fi" if rng.random() < 0.6 else "en"
        words = rng.choices(FI if lang == "fi" else EN, k=8)
        experience = rng.choices(["anger", "comfort", "delight"], weights=[1, 8, 1])[0]
        neg = rng.random() * (1 if experience == "anger" else 0.3)
        pos = rng.random() * (1 if experience == "delight" else 0.3)
        mentions.append(
            Mention(
                id=mention_id("bench", str(i)),
                brand=rng.choice(["revontuli", "revontuli", "tunturi"]),
                source=rng.choice(["reviews", "rss", "mastodon"]),
                url=f"https://bench.example/{i}",
                text=" ".join(words),
                lang=lang,
                author_followers=rng.choice([None, rng.randint(0, 5000)]),
                published_at=END - timedelta(seconds=rng.randint(0, 13 * 7 * 86400)),
                crawled_at=END,
                polarity={"negative": neg, "neutral": max(0.0, 1 - neg - pos), "positive": pos},
                experience=experience,
                engagement={"likes": rng.randint(0, 50)},
            )
        )
    return mentions


class TimedStore:
    """The real store, with the seconds spent inside its methods (lazy answers included) added up in `spent`."""

    def __init__(self, store: MentionStore) -> None:
        self.store = store
        self.spent = 0.0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.store, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                answer = method(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - started
            return self._timed_iterator(answer) if name in ITERATORS else answer

        return timed

    def _timed_iterator(self, answer: Iterator[Any]) -> Iterator[Any]:
        while True:
            started = time.perf_counter()
            try:
                item = next(answer)
            except StopIteration:
                return
            finally:
                self.spent += time.perf_counter() - started
            yield item


class InstantStore:
    """Answers every call at once with what the real store answered to the same arguments the first time."""

    def __init__(self, store: MentionStore) -> None:
        self.store = store
        self.answers: dict[str, Any] = {}
        self.misses = 0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def instant(*args: Any, **kwargs: Any) -> Any:
            key = repr((name, args, sorted(kwargs.items())))
            if key not in self.answers:
                self.misses += 1
                answer = getattr(self.store, name)(*args, **kwargs)
                self.answers[key] = list(answer) if name in ITERATORS else answer
            answer = self.answers[key]
            return iter(answer) if name in ITERATORS else answer

        return instant


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_requests(client: TestClient, path: str, params: dict[str, str], repeat: int) -> tuple[list, list, int]:
    """Wall and CPU seconds of `repeat` requests, and the size of the last answer in bytes."""
    walls, cpus, size = [], [], 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(path, params=params)
        size = len(response.content)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert response.status_code == 200, response.text
    return walls, cpus, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="mentions in the embedded store")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per route and store (after a warm-up)")
    parser.add_argument("--only", default="", help="time only the routes whose name contains this, e.g. export")
    args = parser.parse_args()
    print(
        f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, mentions: {args.n}, repeats: {args.repeat}"
    )

    workdir = Path(tempfile.mkdtemp(prefix="kaiku-bench-api-"))
    try:
        settings = Settings(
            data_dir=workdir, config_dir=REPO_CONFIGS, api_db=workdir / "api.sqlite3",
            rate_limit_burst=1_000_000, rate_limit_per_minute=1_000_000,
            team_rate_limit_burst=1_000_000, team_rate_limit_per_minute=1_000_000,
        )  # fmt: skip
        store = ready_store(settings)
        started = time.perf_counter()
        mentions = synthetic(args.n)
        for at in range(0, len(mentions), 5000):
            store.write(mentions[at : at + 5000])
        print(f"wrote {args.n} mentions in {time.perf_counter() - started:.1f} s")

        teams = team_store(settings)
        key = teams.create_key(teams.create_team("bench", brands=["revontuli", "tunturi"]).id).secret
        week = {"from": (END - timedelta(days=7)).isoformat(), "to": END.isoformat()}
        routes: dict[str, tuple[str, dict[str, str]]] = {
            "livez (floor)": ("/livez", {}),
            "mentions list": ("/v1/mentions", {"brand": "revontuli"}),
            "search": ("/v1/mentions", {"brand": "revontuli", "q": "kylmä huone", "lang": "fi", "sort": "angriest"}),
            "weekly metrics": ("/v1/brands/revontuli/metrics",
                               {"interval": "week", "tz": "Europe/Helsinki", "to": END.isoformat()}),
            "outliers": ("/v1/brands/revontuli/outliers", {"to": END.isoformat()}),
            "export ndjson": ("/v1/mentions/export", {"brand": "revontuli", "format": "ndjson", **week}),
            "export csv": ("/v1/mentions/export", {"brand": "revontuli", "format": "csv", **week}),
        }  # fmt: skip
        app = create_app(settings)
        state = app.state.kaiku
        state.store.close()
        timed_store, instant_store = TimedStore(store), InstantStore(store)
        print(
            f"{'route':<15} {'bytes':>8} | {'instant p50':>11} {'p95':>7} {'CPU p50':>7} | "
            f"{'embedded p50':>12} {'p95':>7} {'CPU p50':>7} | {'store p50':>9} {'Kaiku p50':>9} {'Kaiku p95':>9}"
        )
        with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
            for name, (path, params) in routes.items():
                if args.only not in name:
                    continue
                state.store = instant_store
                assert client.get(path, params=params).status_code == 200  # warm-up: records the answers
                misses = instant_store.misses
                instant, instant_cpu, size = timed_requests(client, path, params, args.repeat)
                assert instant_store.misses == misses, f"{name}: a call the warm-up did not make"

                state.store = timed_store
                client.get(path, params=params)  # warm-up: the store's caches
                embedded, embedded_cpu, store_share, own = [], [], [], []
                for _ in range(args.repeat):
                    timed_store.spent = 0.0
                    (wall,), (cpu,), _ = timed_requests(client, path, params, 1)
                    embedded.append(wall)
                    embedded_cpu.append(cpu)
                    store_share.append(timed_store.spent)
                    own.append(wall - timed_store.spent)

                def ms(values: list[float], q: float = 0.5) -> str:
                    return f"{percentile(values, q) * 1000:.1f}"

                print(
                    f"{name:<15} {size:>8} | {ms(instant):>11} {ms(instant, 0.95):>7} {ms(instant_cpu):>7} | "
                    f"{ms(embedded):>12} {ms(embedded, 0.95):>7} {ms(embedded_cpu):>7} | "
                    f"{ms(store_share):>9} {ms(own):>9} {ms(own, 0.95):>9}"
                )
        print("milliseconds per request; Kaiku = embedded request − time inside the store's methods")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
