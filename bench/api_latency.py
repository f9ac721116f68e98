"""Kaiku's own overhead on the analytics API: each request next to the same engine queries issued directly.

    python bench/api_latency.py [--n 200000] [--repeat 10] [--engine-url URL]

Indexes N synthetic mentions (two brands of configs/brands.yaml, 13 weeks, Finnish and English texts) into a
fresh local noida-db engine (or the engine at --engine-url, default KAIKU_ELASTICSEARCH_URL, with
KAIKU_ELASTICSEARCH_API_KEY, under a new alias), then times, in process:
  weekly metrics  GET /v1/brands/revontuli/metrics?interval=week&tz=Europe/Helsinki (a quarter, with competitors)
  search          GET /v1/mentions?brand=revontuli&q=...&lang=fi&sort=angriest
Every engine query the API sends is recorded (and counted per request); the "direct" figures replay exactly
those request bodies with the Elasticsearch client. The ratio is API p50 / direct p50. The local engine is a
correctness stand-in, not a speed one (docs/design.md §7): absolute latency is a real Elasticsearch's business.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from indexer import Mention, mention_id
from indexer.admin import ensure_index
from indexer.client import make_client
from indexer.es_store import ElasticsearchMentionStore
from indexer.writer import BulkWriter
from kaiku.engine import LocalEngine, free_port
from kaiku.settings import Settings
from kaiku.teams import TeamStore
from sentiment import Polarity

END = datetime(2026, 11, 23, tzinfo=UTC)
FI = ["huone", "aamiainen", "henkilökunta", "sauna", "sänky", "kylmä", "ihana", "likainen", "hinta", "sijainti"]
EN = ["room", "breakfast", "staff", "sauna", "bed", "cold", "lovely", "dirty", "price", "location"]


class StandIn:
    model_id, model_version = "bench/stand-in", "0"

    def predict(self, texts: Any) -> list[Polarity]:
        return [Polarity(0.3, 0.4, 0.3) for _ in texts]


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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="mentions to index")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs of each request (after one warm-up)")
    parser.add_argument(
        "--engine-url",
        default=os.environ.get("KAIKU_ELASTICSEARCH_URL"),
        help="an engine already running, e.g. a real Elasticsearch (default: KAIKU_ELASTICSEARCH_URL, else start one)",
    )
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, mentions: {args.n}, repeats: {args.repeat}")

    workdir = Path(tempfile.mkdtemp(prefix="kaiku-bench-api-"))
    engine = None
    if args.engine_url is None:
        engine = LocalEngine(data_dir=workdir / "engine", port=free_port())
        engine.start()
    url = args.engine_url or engine.url  # type: ignore[union-attr]
    alias = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        api_key = os.environ.get("KAIKU_ELASTICSEARCH_API_KEY")
        es = make_client(url, api_key, timeout=600)
        ensure_index(es, alias, now=END)
        started = time.perf_counter()
        mentions = synthetic(args.n)
        writer = BulkWriter(es, alias)
        for at in range(0, len(mentions), 5000):
            report = writer.write(mentions[at : at + 5000])
            assert not report.failed, report.failed[:3]
        es.indices.refresh(index=alias)
        elapsed = time.perf_counter() - started
        print(f"indexed {es.count(index=alias)['count']} mentions in {elapsed:.1f} s ({args.n / elapsed:.0f}/s)")

        store = TeamStore(workdir / "api.sqlite3")
        key = store.create_key(store.create_team("bench", brands=["revontuli", "tunturi"]).id).secret
        settings = Settings(elasticsearch_url=url, index_alias=alias, api_db=workdir / "api.sqlite3",
                            rate_limit_burst=1_000_000)  # fmt: skip
        app = create_app(settings, classifier=StandIn())
        state = app.state.kaiku
        engine_store = ElasticsearchMentionStore(make_client(url, api_key, timeout=600), alias)
        state.store = engine_store
        sent: list[dict[str, Any]] = []
        original = engine_store.client.search

        def recording_search(**body: Any) -> Any:
            sent.append(body)
            return original(**body)

        engine_store.client.search = recording_search  # type: ignore[method-assign]
        requests = {
            "weekly metrics": ("/v1/brands/revontuli/metrics",
                               {"interval": "week", "tz": "Europe/Helsinki", "to": END.isoformat()}),
            "search": ("/v1/mentions", {"brand": "revontuli", "q": "kylmä huone", "lang": "fi", "sort": "angriest"}),
        }  # fmt: skip
        with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
            print(f"{'request':<16} {'API p50':>9} {'API p95':>9} {'direct p50':>11} {'direct p95':>11} "
                  f"{'ratio':>6} {'queries/req':>11}")  # fmt: skip
            for name, (path, params) in requests.items():
                sent.clear()
                assert client.get(path, params=params).status_code == 200  # warm-up
                queries = list(sent)
                api_times, direct_times = [], []
                for _ in range(args.repeat):
                    sent.clear()
                    t0 = time.perf_counter()
                    response = client.get(path, params=params)
                    api_times.append(time.perf_counter() - t0)
                    assert response.status_code == 200 and len(sent) == len(queries)
                    t0 = time.perf_counter()
                    for body in queries:
                        original(**body)
                    direct_times.append(time.perf_counter() - t0)
                api50, direct50 = statistics.median(api_times), statistics.median(direct_times)
                print(
                    f"{name:<16} {api50 * 1000:>7.0f}ms {percentile(api_times, 0.95) * 1000:>7.0f}ms "
                    f"{direct50 * 1000:>9.0f}ms {percentile(direct_times, 0.95) * 1000:>9.0f}ms "
                    f"{api50 / direct50:>6.2f} {len(queries):>11}"
                )
    finally:
        if engine is not None:
            engine.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the engine's data: ~150 MB at 200,000 mentions


if __name__ == "__main__":
    main()
