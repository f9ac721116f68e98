"""What the near-duplicate lookup in the index costs per mention, on the local engine.

    python bench/dedup_index_lookup.py [--docs 20000] [--lookups 200]

Starts a local noida-db engine in a temporary folder, writes `--docs` synthetic mentions with their LSH bands
through BulkWriter, then times `IndexedTexts.find` (one `terms` query on `dedup_bands` plus recomputing the
candidates' signatures) for `--lookups` new texts: half edited copies of indexed ones (must be found), half
unrelated (must not). Prints latency percentiles, hit rates and the core count. The local engine is a
correctness stand-in (docs/design.md §7); a real Elasticsearch answers a keyword `terms` query far faster.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from core.mention import Mention, mention_id
from crawler.dedup import IndexedTexts, signature
from indexer.admin import ensure_index
from indexer.client import make_client
from indexer.es_store import ElasticsearchMentionStore
from indexer.writer import BulkWriter
from kaiku.local_engine import LocalEngine, free_port

LETTERS = "aaaaaiiiiitttttnnnneeeessssllllkkkkuuuuääoooommrrvvjjhhyyppddö"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(3)
    vocab = ["".join(rng.choice(LETTERS) for _ in range(rng.randint(2, 10))) for _ in range(3000)]
    weights = [1 / (rank + 1) for rank in range(len(vocab))]

    def text(n: int = 40) -> list[str]:
        return rng.choices(vocab, weights=weights, k=n)

    with tempfile.TemporaryDirectory() as data:
        engine = LocalEngine(data_dir=Path(data), port=free_port())
        engine.start()
        try:
            client = make_client(engine.url)
            alias = "bench-dedup"
            ensure_index(client, alias)
            writer = BulkWriter(client, alias)
            now = datetime.now(UTC)
            originals = [text() for _ in range(args.docs)]
            started = time.perf_counter()
            batch: list[Mention] = []
            for i, words in enumerate(originals):
                body = " ".join(words)
                sig = signature(body)
                batch.append(
                    Mention(
                        id=mention_id("bench", str(i)),
                        brand="b",
                        source="reviews",
                        url=f"http://b/{i}",
                        text=body,
                        crawled_at=now,
                        dedup_bands=sig.bands() if sig else [],
                    )
                )
                if len(batch) == 1000:
                    writer.write(batch)
                    batch = []
            writer.write(batch)
            client.indices.refresh(index=alias)
            load_s = time.perf_counter() - started
            print(f"wrote {args.docs} docs in {load_s:.1f}s", flush=True)
            lookup = IndexedTexts(ElasticsearchMentionStore(client, alias))
            latencies, found_copies, found_unrelated = [], 0, 0
            for k in range(args.lookups):
                if k % 2 == 0:
                    words = list(rng.choice(originals))
                    words[rng.randrange(len(words))] = rng.choice(vocab)
                else:
                    words = text()
                sig = signature(" ".join(words))
                assert sig is not None
                t0 = time.perf_counter()
                root = lookup.find(f"new-{k}", sig, sig.bands())
                latencies.append(1000 * (time.perf_counter() - t0))
                if root is not None:
                    found_copies += k % 2 == 0
                    found_unrelated += k % 2 == 1
            latencies.sort()
            half = args.lookups // 2
            print(f"cores: {os.cpu_count()}; docs {args.docs} (signed and written in {load_s:.1f}s)")
            print(
                f"lookup ms: p50 {statistics.median(latencies):.1f}, p90 {latencies[int(0.9 * len(latencies))]:.1f},"
                f" max {latencies[-1]:.1f}"
            )
            print(f"edited copies found: {found_copies}/{half}; unrelated texts marked: {found_unrelated}/{half}")
            client.close()
        finally:
            engine.stop()


if __name__ == "__main__":
    main()
