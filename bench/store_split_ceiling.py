"""How fast a write split over both cores could be: a design the embedded store does not have, measured as a ceiling.

    python bench/store_split_ceiling.py [--n 200000] [--batch 1000] [--in-flight 0 | --bulk]

SQLite lets one process write a file at a time, and the SQL of a write alone holds one core for longer than
10,000 mentions/s allow (`bench/store_write_profile.py --sql-only`). The most parallel split of that work onto two
cores is measured here with bench/store.py's synthetic mentions:

- this process does the Python half of each batch (`SQLiteMentionStore.prepare`) and writes the near-duplicate
  band index, the largest single part, into a second file of its own;
- a second process writes the rest (`SQLiteMentionStore.apply`: rows, rollups, text index) into the first file,
  where the band index is replaced by a plain table (its rows cost one append);
- `--in-flight 0`: a write returns once both files committed its batch, as the store's writes do today; `--in-flight
  K`: once its batch is handed over, with at most K earlier batches not yet committed (a write then returns before
  its mentions are durable);
- `--bulk`: as `write_all` does (indexer/sqlite_bulk.py), the second process is the bulk writer itself, which commits
  every batch waiting for it in one transaction of up to 10,000 mentions, with 20 batches in flight at most; the
  load ends once all is committed. Its CPU time then includes its start (a second or two).

It leaves out what such a store would also need (mapping the band file's rows to the mentions', catching the band
file up after a crash, reads across both files), so it is an upper bound of the design, not a figure of Kaiku. The
last line is JSON: {"n", "batch", "in_flight", "per_s", "wall_s", "cpu_s": {"main", "second"}}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store import BATCH, synthetic  # bench/store.py

from indexer.sqlite_bulk import IN_FLIGHT, _commit_batches
from indexer.sqlite_store import _BANDS_AT, PreparedBatch, SQLiteMentionStore


def without_band_index(path: Path) -> SQLiteMentionStore:
    """The first file, its band index replaced by a plain table."""
    store = SQLiteMentionStore(path)
    store.db.execute("DROP TABLE mention_bands")
    # Columns for every insert into the FTS5 table, its settings included; "rowid" a plain column, so no row collides.
    store.db.execute("CREATE TABLE mention_bands (rowid, mention_bands, rank, bands)")
    return store


def second_process(path: Path, channel: Connection) -> None:
    """Applies each batch it receives to the first file and answers once it committed; None ends it, answered with
    the CPU seconds it spent."""
    store = without_band_index(path)
    channel.send("ready")
    started_cpu = time.process_time()  # its start (imports, the schema) is not timed
    while (batch := channel.recv()) is not None:
        store.apply(batch)
        channel.send("committed")
    channel.send(time.process_time() - started_cpu)


def write_bands(bands: SQLiteMentionStore, batch: PreparedBatch, first_rowid: int) -> None:
    db = bands.db
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO mention_bands (rowid, bands) VALUES (?, ?)",
        [(rowid, row[_BANDS_AT]) for rowid, row in enumerate(batch.rows, first_rowid) if row[_BANDS_AT]],
    )
    db.execute("COMMIT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=BATCH, help="mentions per write")
    parser.add_argument("--in-flight", type=int, default=0, help="batches handed over but not yet committed, at most")
    parser.add_argument("--bulk", action="store_true", help="the second process is write_all's bulk writer")
    args = parser.parse_args()
    if args.bulk:
        bulk(args.n, args.batch)
        return
    with tempfile.TemporaryDirectory() as folder:
        here, there = multiprocessing.Pipe()
        second = multiprocessing.get_context("spawn").Process(
            target=second_process, args=(Path(folder) / "mentions.sqlite3", there)
        )
        second.start()
        assert here.recv() == "ready"
        bands = SQLiteMentionStore(Path(folder) / "bands.sqlite3")
        # Made before the clock: made between the timed writes, they would give the second process time to catch up.
        mentions = iter(list(synthetic(args.n)))
        wall = cpu = 0.0
        written = waiting = 0
        while batch := list(itertools.islice(mentions, args.batch)):
            started, started_cpu = time.perf_counter(), time.process_time()
            prepared = bands.prepare(batch)  # no connection is used: any store prepares the same
            here.send(prepared)
            waiting += 1
            write_bands(bands, prepared, written + 1)
            written += len(prepared.rows)
            while waiting > args.in_flight:
                here.recv()
                waiting -= 1
            wall += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
        started = time.perf_counter()
        for _ in range(waiting):
            here.recv()
        wall += time.perf_counter() - started
        here.send(None)
        second_cpu = here.recv()
        second.join()
    print(
        f"{args.n} mentions, batches of {args.batch:,}, {args.in_flight} in flight: {wall:.1f} s wall, "
        f"{args.n / wall:,.0f} per second; CPU {cpu:.1f} s here, {second_cpu:.1f} s in the second process",
        file=sys.stderr,
    )
    figures = {"n": args.n, "batch": args.batch, "in_flight": args.in_flight, "per_s": round(args.n / wall),
               "wall_s": round(wall, 1), "cpu_s": {"main": round(cpu, 1), "second": round(second_cpu, 1)}}  # fmt: skip
    print(json.dumps(figures))


def bulk(n: int, batch_size: int) -> None:
    """`write_all` split: this process prepares and writes the band file, its bulk writer commits the rest."""
    with tempfile.TemporaryDirectory() as folder:
        without_band_index(Path(folder) / "mentions.sqlite3").close()
        bands = SQLiteMentionStore(Path(folder) / "bands.sqlite3")
        mentions = iter(list(synthetic(n)))
        context = multiprocessing.get_context("spawn")
        to_child, for_child = context.Pipe(duplex=False)
        from_child, to_parent = context.Pipe(duplex=False)
        started, started_cpu = time.perf_counter(), time.process_time()
        second = context.Process(
            target=_commit_batches, args=(str(Path(folder) / "mentions.sqlite3"), to_child, to_parent)
        )
        second.start()
        to_child.close()  # so that the second process's end is seen here
        to_parent.close()
        in_flight, written = 0, 0
        while batch := list(itertools.islice(mentions, batch_size)):
            prepared = bands.prepare(batch)
            while in_flight >= IN_FLIGHT:
                in_flight -= from_child.recv()
            for_child.send(prepared)
            in_flight += 1
            write_bands(bands, prepared, written + 1)
            written += len(prepared.rows)
        for_child.send(None)
        while in_flight:
            in_flight -= from_child.recv()
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        second.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    second_cpu = children.ru_utime + children.ru_stime
    print(
        f"{n} mentions, batches of {batch_size:,}, write_all's bulk writer: {wall:.1f} s wall, {n / wall:,.0f} per "
        f"second; CPU {cpu:.1f} s here, {second_cpu:.1f} s in the second process (its start included)",
        file=sys.stderr,
    )
    figures = {"n": n, "batch": batch_size, "bulk": True, "per_s": round(n / wall), "wall_s": round(wall, 1),
               "cpu_s": {"main": round(cpu, 1), "second": round(second_cpu, 1)}}  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
