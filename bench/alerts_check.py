"""Cost of one alert check against the local engine, and Kaiku's overhead over the engine's own query.

    python bench/alerts_check.py [--days 28] [--per-hour 6] [--runs 5]

Indexes `days` of mentions for two brands (about `per-hour` per hour each, a third of them angry) into a
throw-away local engine, then times, per alert rule (1 h windows over 28 days of history: 673 slots):

* engine: the bare `date_histogram` request the check sends, and the example-mention search it sends when a
  spike is ongoing;
* check: `check_rule` end to end (count query, grid, detector, database reconcile, and -- on the burst rule --
  the example-mention query and the email rendering and outbox insert).

The local engine is a correctness stand-in, not a speed one (docs/storage.md): read the difference between the two
as Kaiku's overhead; absolute query times belong to a real Elasticsearch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from core.config import load_config
from core.mention import Mention, mention_id
from indexer.admin import ensure_index
from indexer.client import make_client
from indexer.es_store import ElasticsearchMentionStore
from indexer.queries import MentionFilters, search_mentions
from indexer.writer import BulkWriter
from kaiku.alerts.check import TOP_MENTIONS, CheckOptions, check_rule
from kaiku.alerts.counts import slot_start
from kaiku.db import incidents, open_database, outbox
from kaiku.local_engine import LocalEngine, free_port

NOW = datetime(2026, 11, 20, 12, 40, tzinfo=UTC)
CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def mentions(brand: str, days: int, per_hour: float, rng: np.random.Generator) -> list[Mention]:
    out = []
    start = NOW - timedelta(days=days)
    hours = days * 24
    for h in range(hours):
        for _ in range(rng.poisson(per_hour)):
            when = start + timedelta(hours=h, seconds=int(rng.integers(0, 3600)))
            experience = rng.choice(["anger", "comfort", "comfort", "delight"])
            url = f"https://bench.example/{brand}/{len(out)}"
            out.append(
                Mention(
                    id=mention_id("reviews", url),
                    brand=brand,
                    source="reviews",
                    url=url,
                    text="bench text",
                    experience=str(experience),
                    published_at=when,
                    crawled_at=when,
                )  # fmt: skip
            )
    # A burst for the first brand: 30 angry mentions in the current hour.
    if brand == "revontuli":
        for n in range(30):
            url = f"https://bench.example/{brand}/burst/{n}"
            when = slot_start(NOW, timedelta(hours=1)) + timedelta(seconds=n * 60)
            out.append(
                Mention(
                    id=mention_id("reviews", url),
                    brand=brand,
                    source="reviews",
                    url=url,
                    text="burst",
                    experience="anger",
                    published_at=when,
                    crawled_at=when,
                )  # fmt: skip
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--per-hour", type=float, default=6.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"cpu cores: {os.cpu_count()}")
    rng = np.random.default_rng(7)
    config = load_config(CONFIGS)
    with tempfile.TemporaryDirectory() as tmp:
        engine = LocalEngine(Path(tmp) / "engine", port=free_port())
        engine.start()
        try:
            client = make_client(engine.url)
            alias = "bench-alerts"
            docs = [m for brand in ("revontuli", "tunturi") for m in mentions(brand, args.days, args.per_hour, rng)]
            months = {m.published_at.replace(day=15) for m in docs if m.published_at}
            for month in months:
                ensure_index(client, alias, now=month)
            t0 = time.perf_counter()
            writer = BulkWriter(client, alias)
            for i in range(0, len(docs), 1000):
                writer.write(docs[i : i + 1000])
            client.indices.refresh(index=alias)
            print(f"indexed {len(docs)} mentions in {time.perf_counter() - t0:.1f} s")
            db = open_database(f"sqlite:///{Path(tmp) / 'kaiku.db'}")
            options = CheckOptions(history=timedelta(days=args.days))
            for rule in config.alerts:
                step = timedelta(hours=1)
                first = slot_start(NOW - options.history, step)
                query = {"bool": {"filter": [
                    {"term": {"brand": rule.brand}}, {"term": {"experience": rule.experience}},
                    {"range": {"published_at": {"gte": first.isoformat(), "lt": NOW.isoformat()}}}]}}  # fmt: skip
                aggs = {"per_slot": {"date_histogram": {"field": "published_at", "fixed_interval": "3600s"}}}
                engine_times, check_times, example_times = [], [], []
                burst = MentionFilters(brand=rule.brand, experience=rule.experience,
                                       start=slot_start(NOW, step), end=NOW)  # fmt: skip
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    client.search(index=alias, size=0, query=query, aggs=aggs)
                    engine_times.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    search_mentions(client, alias, burst, size=TOP_MENTIONS)
                    example_times.append(time.perf_counter() - t0)
                    with db.begin() as conn:  # each run sees a fresh spike, so the burst rule renders its email
                        conn.execute(outbox.delete())
                        conn.execute(incidents.delete())
                    t0 = time.perf_counter()
                    result = check_rule(ElasticsearchMentionStore(client, alias), db, config, rule, NOW, options)
                    check_times.append(time.perf_counter() - t0)
                engine_ms = statistics.median(engine_times) * 1000
                # The example-mention query runs only when there is an ongoing incident.
                example_ms = statistics.median(example_times) * 1000 if result.new else 0.0
                check_ms = statistics.median(check_times) * 1000
                print(
                    f"{rule.id}: new incidents {len(result.new)}, emails {result.emails}; median of {args.runs}: "
                    f"engine count query {engine_ms:.1f} ms, example query {example_ms:.1f} ms, "
                    f"whole check {check_ms:.1f} ms, Kaiku's part {check_ms - engine_ms - example_ms:.1f} ms"
                )
        finally:
            engine.stop()


if __name__ == "__main__":
    main()
