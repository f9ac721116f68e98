"""`SQLiteMentionStore.write_all`: a bulk load committed by a second process, as `write` would one batch at a time."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.mention import Mention
from indexer import sqlite_bulk
from indexer.errors import IndexerError
from indexer.queries import MentionFilters
from indexer.sqlite_bulk import BULK_WRITER_NAME
from indexer.sqlite_store import PreparedBatch, SQLiteMentionStore
from indexer.store import Selection
from tests.indexer.test_sqlite_store import mention, rollup_is_exact

pytestmark = pytest.mark.integration


@pytest.fixture(params=["the second process", "this process"])
def committed_by(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every load of these tests is smaller than a transaction: the second process is made to take it as well."""
    if request.param == "the second process":
        monkeypatch.setattr(sqlite_bulk, "SECOND_PROCESS_FROM", 0)


def writers() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name == BULK_WRITER_NAME]


def batches_with_rewrites() -> list[list[Mention]]:
    """40 batches of 25; every fourth batch rewrites the mentions of the batch before it with another class, and
    one mention has malformed bands."""
    batches = []
    for b in range(40):
        if b % 4 == 3:
            batches.append([m.model_copy(update={"experience": "anger"}) for m in batches[-1]])
        else:
            batches.append([mention(n, experience="delight") for n in range(b * 25, b * 25 + 25)])
    batches[5][3] = batches[5][3].model_copy(update={"dedup_bands": ["not a band"]})
    return batches


def stored(path: Path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, brand, experience, published_ms, bands, doc FROM mentions ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.mark.usefixtures("committed_by")
def test_write_all_stores_what_writes_one_batch_at_a_time_store(tmp_path: Path) -> None:
    one_by_one, bulk = SQLiteMentionStore(tmp_path / "one.sqlite3"), SQLiteMentionStore(tmp_path / "bulk.sqlite3")
    reports = [one_by_one.write(batch) for batch in batches_with_rewrites()]

    report = bulk.write_all(iter(batches_with_rewrites()))

    assert report.indexed == sum(r.indexed for r in reports) == 999
    assert report.failed == [f for r in reports for f in r.failed] and len(report.failed) == 1
    assert stored(tmp_path / "bulk.sqlite3") == stored(tmp_path / "one.sqlite3")
    assert bulk.count(Selection()) == 30 * 25 - 1
    assert bulk.search(MentionFilters(experience="anger"), size=1).count == 10 * 25
    for filters in (MentionFilters(q="palvelu", brand="a"), MentionFilters(q="palvelu", experience="delight")):
        assert bulk.search(filters, size=1).count == one_by_one.search(filters, size=1).count > 0
    assert rollup_is_exact(tmp_path / "bulk.sqlite3")


def test_batches_joined_into_one_transaction_keep_the_last_of_each_id(tmp_path: Path) -> None:
    store = SQLiteMentionStore(tmp_path / "m.sqlite3")
    first = store.prepare([mention(1, experience="anger"), mention(2)])
    second = store.prepare([mention(3), mention(1, experience="delight")])

    joined = PreparedBatch.joined([first, second])

    assert [row[0] for row in joined.rows] == [mention(1).id, mention(2).id, mention(3).id]
    assert [row[4] for row in joined.rows] == ["delight", "comfort", "comfort"]
    assert joined.texts == [second.texts[1], first.texts[1], second.texts[0]]


@pytest.mark.usefixtures("committed_by")
def test_a_refused_transaction_fails_the_bulk_load_and_keeps_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    SQLiteMentionStore(path).ensure_ready()
    db = sqlite3.connect(path)
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON mentions WHEN new.brand = 'refused' "
               "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")  # fmt: skip
    db.close()
    batches = [[mention(n) for n in range(b * 10, b * 10 + 10)] for b in range(5)]
    batches.append([mention(100).model_copy(update={"brand": "refused"})])

    with pytest.raises(IndexerError, match="refused by the test"):
        SQLiteMentionStore(path).write_all(batches)

    assert SQLiteMentionStore(path).count(Selection()) == 50  # the five batches before: committed
    assert rollup_is_exact(path)


def killing_the_writer_after(batches: list[list[Mention]], handed_over: int) -> Iterator[list[Mention]]:
    for n, batch in enumerate(batches):
        if n == handed_over:
            (writer,) = [p for p in multiprocessing.active_children() if p.name == BULK_WRITER_NAME]
            os.kill(writer.pid, signal.SIGKILL)  # most likely mid-transaction: it has batches waiting
        yield batch


def test_kill_9_of_the_bulk_writer_commits_nothing_half_and_a_second_load_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_bulk, "SECOND_PROCESS_FROM", 0)
    path = tmp_path / "m.sqlite3"
    batches = [[mention(n) for n in range(b * 500, b * 500 + 500)] for b in range(16)]

    with pytest.raises(IndexerError, match="ended"):
        SQLiteMentionStore(path).write_all(killing_the_writer_after(batches, handed_over=12))

    store = SQLiteMentionStore(path)
    assert store.count(Selection()) % 500 == 0  # whole batches only
    assert rollup_is_exact(path)
    assert store.write_all(batches).indexed == 8000
    assert store.count(Selection()) == 8000
    assert rollup_is_exact(path)


def test_only_a_load_of_a_transaction_or_more_starts_the_second_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_bulk, "SECOND_PROCESS_FROM", 250)
    store = SQLiteMentionStore(tmp_path / "m.sqlite3")
    writers_seen: list[list[str]] = []

    def watched(batches: list[list[Mention]]) -> Iterator[list[Mention]]:
        for batch in batches:
            writers_seen.append(writers())  # before each batch is prepared
            yield batch

    small = [[mention(n) for n in range(b * 100, b * 100 + 100)] for b in range(2)]
    assert store.write_all(watched(small)).indexed == 200
    assert writers_seen == [[], []]

    writers_seen.clear()
    large = [[mention(n) for n in range(b * 100, b * 100 + 100)] for b in range(2, 6)]
    assert store.write_all(watched(large)).indexed == 400
    assert writers_seen == [[], [], [], [BULK_WRITER_NAME]]  # started once 300 >= 250 were prepared
    assert store.count(Selection()) == 600
    assert rollup_is_exact(tmp_path / "m.sqlite3")
