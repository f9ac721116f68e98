"""A bulk load into the embedded store in two processes: this one prepares batches, a second one commits them.

`SQLiteMentionStore.write` does the Python of a batch (rows, JSON, stems, band tokens) and then its transaction,
one after the other, on one core. A bulk load (`kaiku store copy`, thousands of mentions at once) can use both:
here the caller's process prepares batch after batch while a second process (`_commit_batches`) applies them to
the same file. That process takes every batch waiting for it into one transaction, up to `MOST_PER_TRANSACTION`
mentions: a transaction of 10,000 costs the SQL about a quarter less per mention than ten of 1,000 (fewer
commits, each page of the indexes written once). docs/storage.md § Writes has the figures.

Nothing changes for durability: `write_all` returns once every batch is committed. Only whole transactions are
ever committed; if either process dies, what was committed stays, whole, with its rollups exact, and the rest
is lost to this call, which raises `IndexerError`; writing the same mentions again overwrites by id. A batch the
store refuses (an SQL error) fails the call after the batches before it are committed, as with `write`.

A load of fewer than `SECOND_PROCESS_FROM` mentions is committed in the caller's process, in one transaction:
starting the second process (an interpreter, its imports) takes a second or two, longer than such a load's SQL.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from core.mention import Mention
from indexer.errors import IndexerError
from indexer.sqlite_store import PreparedBatch, SQLiteMentionStore
from indexer.writer import BulkReport

MOST_PER_TRANSACTION = 10_000  # mentions the second process commits at once, at most
IN_FLIGHT = 20  # batches handed over and not yet committed, at most: the caller waits beyond this
BULK_WRITER_NAME = "kaiku-bulk-writer"
SECOND_PROCESS_FROM = MOST_PER_TRANSACTION  # mentions: a smaller load is committed in the caller's process


def write_all(store: SQLiteMentionStore, batches: Iterable[Sequence[Mention]]) -> BulkReport:
    """Write every batch, as `store.write` would one by one, and return once all of them are committed."""
    report = BulkReport()
    prepared = _prepared(store, batches, report)
    first: list[PreparedBatch] = []  # prepared before it is known whether the load is worth a second process
    size = 0
    for batch in prepared:
        first.append(batch)
        size += len(batch.rows)
        if size >= SECOND_PROCESS_FROM:
            break
    else:  # the whole load, and a small one: committed here (all of it, else IndexerError)
        if first:
            _commit(store, first, lambda n: None)
        report.indexed = size
        return report
    handed_over: deque[int] = deque()  # mentions of each batch handed over and not yet committed, in order
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: forking a process with threads is unsafe
    to_child, for_child = context.Pipe(duplex=False)
    from_child, to_parent = context.Pipe(duplex=False)
    child = context.Process(
        target=_commit_batches, args=(str(store.path), to_child, to_parent), name=BULK_WRITER_NAME, daemon=True
    )
    child.start()
    to_child.close()
    to_parent.close()
    try:
        for batch in itertools.chain(first, prepared):
            while len(handed_over) >= IN_FLIGHT:
                report.indexed += _committed(from_child, handed_over, child)
            handed_over.append(len(batch.rows))
            _hand_over(for_child, batch)
        _hand_over(for_child, None)
        while handed_over:
            report.indexed += _committed(from_child, handed_over, child)
    finally:
        for_child.close()
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
            child.join()
        from_child.close()
    return report


def _prepared(
    store: SQLiteMentionStore, batches: Iterable[Sequence[Mention]], report: BulkReport
) -> Iterator[PreparedBatch]:
    """Each batch prepared, those with rows to write; the mentions that could not be go to the report."""
    for mentions in batches:
        batch = store.prepare(mentions)
        report.failed.extend(batch.failed)
        if batch.rows:
            yield batch


def _commit(store: SQLiteMentionStore, batches: list[PreparedBatch], committed: Callable[[int], object]) -> None:
    """Commit the batches in one transaction, then call `committed` with their number. Where the store refuses the
    joined one, they are committed one at a time: those before a refused one stay, as by `write`."""
    try:
        store.apply(PreparedBatch.joined(batches))
    except IndexerError:
        if len(batches) == 1:
            raise
        for batch in batches:
            store.apply(batch)
            committed(1)
    else:
        committed(len(batches))


def _hand_over(for_child: Connection, batch: PreparedBatch | None) -> None:
    with contextlib.suppress(BrokenPipeError):  # the second process stopped: the next wait for a commit says why
        for_child.send(batch)


def _committed(from_child: Connection, handed_over: deque[int], child: multiprocessing.process.BaseProcess) -> int:
    """Wait for the second process's next commit; the number of mentions it committed."""
    try:
        message = from_child.recv()
    except EOFError:
        child.join(timeout=5)
        raise IndexerError(f"the bulk writing process ended (exit code {child.exitcode}) before committing") from None
    if isinstance(message, str):
        raise IndexerError(f"bulk write failed: {message}")
    return sum(handed_over.popleft() for _ in range(message))


def _commit_batches(path: str, for_child: Connection, to_parent: Connection) -> None:
    """The second process: commit the batches it receives, as many as are waiting at once; tell the caller how
    many batches each transaction held, or why it failed. A thread receives, so that batches keep arriving (and
    pile up for the next transaction) while one commits."""
    waiting: queue.SimpleQueue[PreparedBatch | None] = queue.SimpleQueue()
    threading.Thread(target=_receive, args=(for_child, waiting), daemon=True).start()
    store = SQLiteMentionStore(Path(path))
    try:
        while (batch := waiting.get()) is not None:
            batches, size = [batch], len(batch.rows)
            while size < MOST_PER_TRANSACTION and not waiting.empty():
                batch = waiting.get()
                if batch is None:
                    waiting.put(None)  # the end: commit what is here first
                    break
                batches.append(batch)
                size += len(batch.rows)
            _commit(store, batches, to_parent.send)
    except Exception as exc:  # noqa: BLE001 - sent to the caller, which raises it as IndexerError
        to_parent.send(f"{type(exc).__name__}: {exc}")
    finally:
        store.close()


def _receive(for_child: Connection, waiting: queue.SimpleQueue[PreparedBatch | None]) -> None:
    try:
        while (batch := for_child.recv()) is not None:
            waiting.put(batch)
    except EOFError:  # the caller is gone: commit what arrived whole, then stop
        pass
    waiting.put(None)
