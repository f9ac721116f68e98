"""Kaiku's bulk writer against a bare `elasticsearch.helpers.bulk` of the same documents.

    python bench/indexing.py [--mentions 20000] [--batch 500] [--rounds 3]

Both write the same mention documents, in batches of the same size, with the same ids, into fresh indices of
the same template. Kaiku's writer also validates nothing more at write time (mentions are already `Mention`s),
but routes each mention to its monthly index and checks every item's result; `helpers.bulk` is given the
documents already serialised and routed, so the ratio is Kaiku's overhead. Rounds alternate the two to share
out the machine's noise; the median round counts. Goal: Kaiku ≤ 1.2× the bare helper's time.

The engine is a fresh local noida-db in a temporary folder, unless KAIKU_ELASTICSEARCH_URL names one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from elasticsearch import Elasticsearch, helpers

from core.mention import Mention, mention_id
from indexer.admin import ensure_index, managed_indices
from indexer.client import make_client
from indexer.schema import write_index_for
from indexer.writer import BulkWriter
from kaiku.local_engine import LocalEngine, free_port

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
TEXTS = (
    "Huone oli siisti ja aamiainen hyvä, mutta sänky natisi koko yön.",
    "Never again: the receptionist laughed at us and the room smelled of smoke.",
    "Paras hotelli jossa olen ikinä ollut, henkilökunta yllätti joka päivä!",
    "Decent stay, nothing special. Breakfast was fine and check-in quick.",
)


def make_mentions(count: int) -> list[Mention]:
    return [
        Mention(
            id=mention_id("bench", f"https://example.fi/r/{n}"),
            brand="revontuli" if n % 3 else "tunturi",
            source="reviews",
            url=f"https://example.fi/r/{n}",
            text=f"{TEXTS[n % len(TEXTS)]} ({n})",
            lang="fi" if n % 2 else "en",
            published_at=NOW - timedelta(minutes=37 * n),
            crawled_at=NOW,
            rating=float(1 + n % 5),
            rating_max=5.0,
            polarity={"negative": 0.2, "neutral": 0.5, "positive": 0.3},
            experience=("anger", "comfort", "delight")[n % 3],
            experience_reason="bench",
        )
        for n in range(count)
    ]


def kaiku_writer(client: Elasticsearch, alias: str, mentions: list[Mention], batch: int) -> None:
    writer = BulkWriter(client, alias)
    for start in range(0, len(mentions), batch):
        report = writer.write(mentions[start : start + batch])
        assert not report.failed and not report.retryable, report.failed[:3]


def bare_helper(client: Elasticsearch, alias: str, mentions: list[Mention], batch: int) -> None:
    actions = [
        {"_index": write_index_for(alias, m.published_at or m.crawled_at), "_id": m.id, "_source": m.to_document()}
        for m in mentions
    ]
    indexed, errors = helpers.bulk(client, actions, chunk_size=batch, max_chunk_bytes=1 << 30)
    assert indexed == len(mentions) and not errors


def timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    engine = None
    url = os.environ.get("KAIKU_ELASTICSEARCH_URL")
    if not url:
        engine = LocalEngine(Path(tempfile.mkdtemp(prefix="kaiku-bench-")), port=free_port())
        engine.start()
        url = engine.url
    client = make_client(url, os.environ.get("KAIKU_ELASTICSEARCH_API_KEY"), timeout=300)
    mentions = make_mentions(args.mentions)
    times: dict[str, list[float]] = {"kaiku": [], "bare": []}
    try:
        for round_number in range(args.rounds):
            for name, write in (("kaiku", kaiku_writer), ("bare", bare_helper)):
                alias = f"bench-{name}-{round_number}"
                ensure_index(client, alias, now=NOW)
                times[name].append(timed(partial(write, client, alias, mentions, args.batch)))
                client.indices.delete(index=",".join(managed_indices(client, alias)))
    finally:
        if engine is not None:
            engine.stop()

    kaiku, bare = statistics.median(times["kaiku"]), statistics.median(times["bare"])
    print(f"indexing benchmark: {args.mentions:,} mentions, batches of {args.batch}, {args.rounds} rounds, "
          f"{os.cpu_count()} cores, engine {url if engine is None else 'local noida-db'}")  # fmt: skip
    print(f"  kaiku BulkWriter : {kaiku:7.2f} s  {args.mentions / kaiku:8.0f} mentions/s")
    print(f"  helpers.bulk     : {bare:7.2f} s  {args.mentions / bare:8.0f} mentions/s")
    print(f"  ratio kaiku/bare : {kaiku / bare:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
