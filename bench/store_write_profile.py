"""Where the embedded store's write time goes: CPU seconds per SQL statement, and the Python before it.

    python bench/store_write_profile.py [--n 40000] [--order random|newest-first] [--batch 1000] [--sql-only]

Writes `--n` of bench/store.py's synthetic mentions in batches of `--batch` (bench/store.py's 1,000) into a fresh
SQLiteMentionStore whose connection is wrapped so that every execute/executemany is timed (CPU time of this
process: on a shared machine the wall time includes waiting for a core). Prints the total wall and CPU time,
mentions per CPU second, the CPU seconds per statement (first 50 characters of the SQL), and the rest ("python":
building rows, JSON, folding, stemming, band tokens), and the bytes the process wrote per mention (the WAL and its
checkpoints).

`--order newest-first` writes the same mentions sorted by publication time, newest first, as `kaiku store copy`
reads them from its source and as a crawl brings mostly recent mentions: batches then touch neighbouring pages of
the time-ordered indexes and rollups instead of pages all over the year.

`--sql-only` prepares every batch first (`SQLiteMentionStore.prepare`: the Python half of a write) and times only
the transactions (`apply`): the most one writing process can reach with no Python at all, since SQLite lets one
process write a file at a time. The last line gives that ceiling.
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store import BATCH, synthetic  # bench/store.py

from indexer.sqlite_store import SQLiteMentionStore


class TimedConnection:
    """A sqlite3 connection that adds the CPU time of each statement to `spent` (SELECTs fetched inside)."""

    def __init__(self, connection: sqlite3.Connection, spent: dict[str, float]) -> None:
        self.connection, self.spent = connection, spent

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.process_time()
        cursor = self.connection.execute(sql, *args)
        rows = cursor.fetchall() if cursor.description else []
        self.spent[" ".join(sql.split())[:50]] += time.process_time() - started
        return Rows(rows)

    def executemany(self, sql: str, *args: Any) -> Any:
        started = time.process_time()
        cursor = self.connection.executemany(sql, *args)
        self.spent[" ".join(sql.split())[:50]] += time.process_time() - started
        return cursor


class Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def fetchall(self) -> list[Any]:
        return self.rows

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None


def bytes_written() -> int:
    """Bytes this process has handed to write() so far (Linux)."""
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=40_000)
    parser.add_argument("--order", choices=["random", "newest-first"], default="random")
    parser.add_argument("--batch", type=int, default=BATCH, help="mentions per write")
    parser.add_argument("--sql-only", action="store_true", help="time the transactions, not the Python before them")
    args = parser.parse_args()
    spent: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteMentionStore(Path(folder) / "mentions.sqlite3")
        store._local.connection = TimedConnection(store.db, spent)
        wall = cpu = 0.0
        mentions = synthetic(args.n)
        if args.order == "newest-first":
            mentions = iter(sorted(mentions, key=lambda m: m.published_at or m.crawled_at, reverse=True))
        batches: Iterator[Any] = iter(lambda: list(itertools.islice(mentions, args.batch)), [])
        write: Callable[[Any], object] = store.write
        if args.sql_only:
            batches, write = iter([store.prepare(batch) for batch in batches]), store.apply
        written_before = bytes_written()
        for batch in batches:
            started, started_cpu = time.perf_counter(), time.process_time()
            write(batch)
            wall += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
        store.close()
        written = bytes_written() - written_before
    print(
        f"{args.n} mentions ({args.order}, batches of {args.batch:,}): {wall:.1f} s wall, {cpu:.1f} s CPU, "
        f"{args.n / cpu:,.0f} per CPU second, {written / args.n / 1024:.1f} KiB written per mention"
    )
    for sql, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        if seconds >= 0.005:
            print(f"{seconds:7.2f} s  {sql}")
    sql_cpu = sum(spent.values())
    rest = "between the statements" if args.sql_only else "(rows, JSON, folding, stemming, band tokens)"
    print(f"{cpu - sql_cpu:7.2f} s  python {rest}")
    print(
        f"SQL: {sql_cpu:.2f} s of CPU, {sql_cpu / args.n * 1e6:.1f} us per mention: one writing process could reach "
        f"at most {args.n / sql_cpu:,.0f} mentions/s with no Python at all"
    )


if __name__ == "__main__":
    main()
