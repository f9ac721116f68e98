"""The spool against a real local engine that is stopped and started again, and its crash guarantees."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.mention import Mention
from indexer.admin import ensure_index
from indexer.client import make_client
from indexer.errors import EngineUnavailable
from indexer.spool import LocalEngineDurability, Spool, SpoolingWriter
from indexer.writer import BulkReport, BulkWriter
from kaiku.local_engine import LocalEngine
from tests.indexer.test_indexer import NOW, make_mention

pytestmark = pytest.mark.integration


def count(client: Elasticsearch, alias: str) -> int:
    client.indices.refresh(index=alias)
    return int(client.count(index=alias)["count"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_segments_keep_order_and_a_torn_append_leaves_nothing(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    first = spool.append([make_mention(1), make_mention(2)])
    second = spool.append([make_mention(3)])
    assert spool.segments() == [first, second] and spool.pending() == 3
    assert [m.id for m in spool.read(first)] == [make_mention(1).id, make_mention(2).id]
    (tmp_path / "000000000003.tmp").write_text('{"id": "half a mention')  # a crash in the middle of append
    reopened = Spool(tmp_path)
    assert reopened.segments() == [first, second] and not list(tmp_path.glob("*.tmp"))
    spool.remove(first)
    assert spool.append([make_mention(4)]).name == "000000000003.ndjson"


def test_outage_spools_and_the_return_replays_in_order(own_engine: LocalEngine, tmp_path: Path) -> None:
    client, alias, clock = make_client(own_engine.url, timeout=2), "spooltest", Clock()
    ensure_index(client, alias, now=NOW)
    writer = SpoolingWriter(BulkWriter(client, alias), Spool(tmp_path / "spool"), clock=clock)
    assert writer.write([make_mention(n) for n in range(3)]).indexed == 3

    own_engine.stop()
    old_version = make_mention(7, text="first version, written during the outage")
    report = writer.write([old_version, make_mention(8)])
    assert (report.indexed, report.spooled) == (0, 2)
    clock.now += 0.5  # inside the back-off: the engine is not even tried, the batch joins the spool
    assert writer.write([make_mention(9)]).spooled == 1
    assert writer.spool.pending() == 3

    own_engine.start()
    # Still inside the one-second back-off: spooled behind the others, even though the engine is back.
    new_version = make_mention(7, text="second version, crawled after the outage")
    assert writer.write([new_version]).spooled == 1
    clock.now += 60
    report = writer.write([make_mention(10)])
    assert (report.replayed, report.indexed, report.spooled) == (4, 5, 0)
    assert writer.spool.segments() == []
    assert count(client, alias) == 3 + 4  # 0-2, 7-10: mention 7 once
    stored = client.search(index=alias, query={"ids": {"values": [new_version.id]}})["hits"]["hits"]
    assert [hit["_source"]["text"] for hit in stored] == [new_version.text], "replay must keep the write order"


def test_a_crash_after_the_engine_took_a_segment_duplicates_nothing(es: Elasticsearch, alias: str, tmp_path: Path):
    ensure_index(es, alias, now=NOW)
    spool = Spool(tmp_path / "spool")
    segment = spool.append([make_mention(n) for n in range(5)])
    saved = tmp_path / "saved-segment"
    shutil.copy(segment, saved)
    writer = SpoolingWriter(BulkWriter(es, alias), spool)
    assert writer.replay().replayed == 5
    shutil.copy(saved, segment)  # the process died before it could remove the segment it had written
    assert SpoolingWriter(BulkWriter(es, alias), Spool(tmp_path / "spool")).replay().replayed == 5
    assert count(es, alias) == 5


def test_an_unreadable_segment_is_set_aside_and_reported_not_deleted(es: Elasticsearch, alias: str, tmp_path: Path):
    ensure_index(es, alias, now=NOW)
    spool = Spool(tmp_path / "spool")
    bad = spool.append([make_mention(1)])
    bad.write_text("this is not a mention\n")
    spool.append([make_mention(2)])
    report = SpoolingWriter(BulkWriter(es, alias), spool).replay()
    assert report.replayed == 1
    assert [reason.split(":")[0] for _, reason in report.failed] == ["unreadable_spool_segment"]
    assert (tmp_path / "spool" / "unreadable" / bad.name).read_text() == "this is not a mention\n"
    assert count(es, alias) == 1


class BusyEngine:
    """A bulk writer whose engine answers some items with 429 (unit test of the spool's handling)."""

    def __init__(self, busy_ids: set[str]) -> None:
        self.busy_ids = busy_ids
        self.written: list[str] = []

    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        report = BulkReport()
        for mention in mentions:
            if mention.id in self.busy_ids:
                report.retryable.append(mention)
            else:
                self.written.append(mention.id)
                report.indexed += 1
        self.busy_ids = set()  # not busy any more next time
        return report


@pytest.mark.unit
def test_items_the_engine_is_too_busy_for_are_spooled_and_retried(tmp_path: Path) -> None:
    mentions = [make_mention(n) for n in range(3)]
    engine = BusyEngine({mentions[1].id})
    writer = SpoolingWriter(engine, Spool(tmp_path))  # type: ignore[arg-type]
    report = writer.write(mentions)
    assert (report.indexed, report.spooled, report.retryable, report.failed) == (2, 1, [], [])
    assert writer.replay().replayed == 1
    assert sorted(engine.written) == sorted(m.id for m in mentions)


@pytest.mark.unit
def test_an_engine_that_never_answers_loses_nothing(tmp_path: Path) -> None:
    class DeadEngine:
        def write(self, mentions: Sequence[Mention]) -> BulkReport:
            raise EngineUnavailable("connection refused")

    clock = Clock()
    writer = SpoolingWriter(DeadEngine(), Spool(tmp_path), max_backoff=8, clock=clock)  # type: ignore[arg-type]
    for n in range(6):
        writer.write([make_mention(n)])
        clock.now += 100
    assert writer.spool.pending() == 6 and writer._backoff == 8


def _wait_until_state_written(engine: LocalEngine, since_ns: int, timeout: float = 5.0) -> None:
    """The local engine writes its state within about a second of a change (indexer/spool.py)."""
    state = engine.data_dir / LocalEngineDurability.STATE_FILE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state.exists() and state.stat().st_mtime_ns > since_ns:
            return
        time.sleep(0.05)
    raise AssertionError("the engine never wrote its state")


def _kill_and_restart(engine: LocalEngine) -> None:
    pid = engine.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    engine.start()


def test_an_acknowledged_batch_survives_a_kill_9_of_the_local_engine(own_engine: LocalEngine, tmp_path: Path) -> None:
    """Issue 18.2: the engine acknowledged a bulk (200, errors: false) and lost it when killed within ~0.5 s.

    The index is made durable first (the test is about the batch); then a batch is acknowledged and the
    engine killed at once, before it wrote its state. The spool held the batch until the store confirmed it,
    so after the restart it is replayed and nothing is lost.
    """
    client = make_client(own_engine.url)
    alias = "durable"
    before = time.time_ns()
    ensure_index(client, alias, now=NOW)
    _wait_until_state_written(own_engine, before)
    spool = Spool(tmp_path / "spool")
    writer = SpoolingWriter(BulkWriter(client, alias), spool, durability=LocalEngineDurability(own_engine.data_dir))
    mentions = [make_mention(n) for n in range(40)]
    report = writer.write(mentions)
    assert (report.indexed, report.failed) == (40, [])
    assert len(spool.unconfirmed()) == 1  # acknowledged, not yet known durable
    _kill_and_restart(own_engine)
    lost = count(client, alias)
    assert writer.settle(timeout=15) is True
    assert count(client, alias) == 40, f"{lost} survived the kill on their own"
    assert spool.segments() == [] and spool.unconfirmed() == []


def test_batches_not_confirmed_by_a_previous_process_are_replayed(own_engine: LocalEngine, tmp_path: Path) -> None:
    client = make_client(own_engine.url)
    ensure_index(client, "left", now=NOW)
    spool = Spool(tmp_path / "spool")
    held = spool.hold_unconfirmed(spool.append([make_mention(1), make_mention(2)]))
    newer = spool.append([make_mention(3)])
    # The writing process ended before confirmation: the next one replays the held batch first.
    reopened = Spool(tmp_path / "spool")
    assert reopened.unconfirmed() == [] and [s.name for s in reopened.segments()] == [held.name, newer.name]
    writer = SpoolingWriter(BulkWriter(client, "left"), reopened, durability=LocalEngineDurability(own_engine.data_dir))
    assert writer.replay().replayed == 3
    assert writer.settle(timeout=15) is True
    assert count(client, "left") == 3
