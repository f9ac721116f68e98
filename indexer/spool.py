"""On-disk spool: mentions that cannot reach the engine wait here, in order, until it is back.

Each batch that the engine could not take becomes one segment file, `<sequence>.ndjson`, written to a
temporary name, flushed to disk and renamed into place: a segment is either complete or absent, whatever
the moment of a crash. Segments are replayed oldest first and removed only after the engine has accepted
the whole batch. A crash between the engine's acknowledgement and the removal replays the batch once more,
which overwrites the same stable ids: nothing is lost and nothing is duplicated.

An acknowledgement is not always durability. Elasticsearch with `index.translog.durability: request` (its
default, and set by Kaiku's index template) has fsynced the translog of every acknowledged write. The local
development engine (noida-db) keeps everything in memory and writes its whole state to `elasticsearch.json` (by
rename) within about a second of a change: a batch acknowledged less than that before a kill -9 was lost. So a
store that needs it gets a `Durability` (kaiku/wiring.py): each batch is written to the spool before it is
sent, held in `unconfirmed/` after the acknowledgement, and removed only once the store confirms it durable;
a batch the store has lost (it restarted before confirming) or never confirmed goes back to the spool and is
replayed, oldest first.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.mention import Mention
from indexer.errors import EngineUnavailable, IndexerError
from indexer.writer import BulkReport

logger = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".ndjson"


class MentionWriter(Protocol):
    def write(self, mentions: Sequence[Mention]) -> BulkReport: ...


class Spool:
    """An ordered queue of mention batches in a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.unconfirmed_directory = directory / "unconfirmed"
        for leftover in self.directory.glob("*.tmp"):  # a crash while appending: the batch was never acknowledged
            leftover.unlink()
        self.requeue_unconfirmed()  # a previous process could not confirm them: the store may have lost them

    def segments(self) -> list[Path]:
        return sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}"))

    def unconfirmed(self) -> list[Path]:
        return sorted(self.unconfirmed_directory.glob(f"*{SEGMENT_SUFFIX}"))

    def hold_unconfirmed(self, segment: Path) -> Path:
        """Set aside a segment the store acknowledged but has not yet confirmed durable."""
        self.unconfirmed_directory.mkdir(exist_ok=True)
        target = self.unconfirmed_directory / segment.name
        os.replace(segment, target)
        return target

    def requeue_unconfirmed(self) -> int:
        """Put every unconfirmed segment back to be replayed; their sequence numbers keep them in order."""
        moved = self.unconfirmed()
        for segment in moved:
            os.replace(segment, self.directory / segment.name)
        if moved:
            _fsync_directory(self.directory)
        return len(moved)

    def pending(self) -> int:
        """Mentions waiting in the spool."""
        total = 0
        for segment in self.segments():
            with segment.open("rb") as lines:
                total += sum(1 for line in lines if line.strip())
        return total

    def append(self, mentions: Sequence[Mention]) -> Path:
        segments = sorted(self.segments() + self.unconfirmed(), key=lambda path: path.name)
        sequence = int(segments[-1].name.removesuffix(SEGMENT_SUFFIX)) + 1 if segments else 1
        target = self.directory / f"{sequence:012d}{SEGMENT_SUFFIX}"
        temporary = target.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for mention in mentions:
                out.write(mention.model_dump_json() + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        _fsync_directory(self.directory)
        return target

    def read(self, segment: Path) -> list[Mention]:
        lines = segment.read_text(encoding="utf-8").splitlines()
        return [Mention.model_validate_json(line) for line in lines if line.strip()]

    def remove(self, segment: Path) -> None:
        segment.unlink()
        _fsync_directory(self.directory)

    def quarantine(self, segment: Path) -> Path:
        """Set aside a segment that cannot be read, for a person to look at; never delete data silently."""
        target = self.directory / "unreadable" / segment.name
        target.parent.mkdir(exist_ok=True)
        os.replace(segment, target)
        return target


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Durability(Protocol):
    """Tells when a store has made acknowledged writes durable (survive a kill -9 of the store)."""

    def mark(self) -> object:
        """Taken right after an acknowledgement; `state` later compares against it."""
        ...

    def state(self, mark: object) -> str:
        """'durable', 'pending' (not yet known), or 'lost' (the store restarted since: the write may be gone)."""
        ...


class AcknowledgedIsDurable:
    """Elasticsearch with `index.translog.durability: request`: the translog is fsynced before the reply."""

    def mark(self) -> object:
        return None

    def state(self, mark: object) -> str:
        return "durable"


@dataclass(frozen=True)
class _SnapshotMark:
    pid: int | None
    acknowledged_ns: int


class LocalEngineDurability:
    """The local engine: durable once its state file has been rewritten after the acknowledgement, by the same
    engine process (a restarted engine rewrites the file too, but from a state that may lack the write)."""

    STATE_FILE = "elasticsearch.json"

    def __init__(self, data_dir: Path, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.data_dir = data_dir
        self._clock_ns = clock_ns

    def _pid(self) -> int | None:
        try:
            return int((self.data_dir / "kaiku-engine.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def mark(self) -> object:
        return _SnapshotMark(self._pid(), self._clock_ns())

    def state(self, mark: object) -> str:
        assert isinstance(mark, _SnapshotMark)
        if self._pid() != mark.pid:
            return "lost"
        try:
            written_ns = (self.data_dir / self.STATE_FILE).stat().st_mtime_ns
        except OSError:
            return "pending"
        return "durable" if written_ns > mark.acknowledged_ns else "pending"


class SpoolingWriter:
    """A writer (a `MentionStore`, or an Elasticsearch `BulkWriter`) that never loses a batch to an outage.

    While the spool holds anything, new batches join its end, so that mentions reach the engine in the order
    they were written (a re-crawled mention must not be overwritten by its older spooled version). After an
    outage the engine is tried again only after a back-off that doubles up to `max_backoff` seconds, so a
    crawl does not stall on a connection timeout for every batch.
    """

    def __init__(
        self,
        writer: MentionWriter,
        spool: Spool,
        max_backoff: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        durability: Durability | None = None,
    ) -> None:
        self.writer = writer
        self.spool = spool
        self.max_backoff = max_backoff
        self._clock = clock
        self._backoff = 0.0
        self._next_attempt = 0.0
        self.durability = durability  # None: an acknowledgement is durability (AcknowledgedIsDurable)
        self._marks: dict[str, object] = {}  # unconfirmed segment name -> the store's mark at acknowledgement

    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        self.confirm()
        report = self.replay() if self._clock() >= self._next_attempt else BulkReport()
        if not mentions:
            return report
        if self.spool.segments():
            self._spool(mentions, report)
            return report
        if self.durability is not None:
            # Written ahead, so that the batch outlives a store that acknowledges before it is durable.
            segment = self.spool.append(mentions)
            self._write_segment(segment, mentions, report)
            return report
        try:
            written = self.writer.write(mentions)
        except EngineUnavailable as exc:
            self._engine_down(exc)
            self._spool(mentions, report)
            return report
        self._engine_up()
        self._spool_retryable(written, report)
        return report

    def _write_segment(self, segment: Path, mentions: Sequence[Mention], report: BulkReport) -> bool:
        """Send a spooled segment; on acknowledgement remove it, or hold it until durable. False: store down."""
        try:
            written = self.writer.write(mentions)
        except EngineUnavailable as exc:
            self._engine_down(exc)
            if self.durability is not None:
                report.spooled += len(mentions)  # it stays where it is, for the next replay
            return False
        self._engine_up()
        if self.durability is None:
            self.spool.remove(segment)
        else:
            self._marks[self.spool.hold_unconfirmed(segment).name] = self.durability.mark()
        self._spool_retryable(written, report)
        return True

    def confirm(self) -> int:
        """Drop the held segments the store now has durably; requeue all when it lost some. Returns those left."""
        if self.durability is None:
            return 0
        for segment in self.spool.unconfirmed():
            mark = self._marks.get(segment.name)
            state = "lost" if mark is None else self.durability.state(mark)
            if state == "durable":
                segment.unlink()
                del self._marks[segment.name]
            elif state == "lost":
                logger.warning("the engine restarted before confirming writes: replaying them from %s",
                               self.spool.directory)  # fmt: skip
                self._requeue()
                return 0
        return len(self.spool.unconfirmed())

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait (at the end of a crawl) until every acknowledged batch is durable, replaying what was lost.

        False when some could not be confirmed in time: they stay in the spool and are replayed by the next run.
        """
        if self.durability is None:
            return True  # acknowledged is durable; spooled batches wait for the next write as before
        deadline = self._clock() + timeout
        while True:
            self.replay()
            if self.spool.segments():
                return False  # the store is down or busy: no use waiting here, the next run replays them
            if self.confirm() == 0 and not self.spool.segments():
                return True
            if self._clock() >= deadline:
                return False
            time.sleep(0.1)

    def _requeue(self) -> None:
        self.spool.requeue_unconfirmed()
        self._marks.clear()

    def replay(self) -> BulkReport:
        """Write what the spool holds, oldest first, as far as the engine takes it (now, whatever the back-off)."""
        report = BulkReport()
        for segment in self.spool.segments():
            try:
                mentions = self.spool.read(segment)
            except (ValueError, OSError) as exc:
                moved = self.spool.quarantine(segment)
                logger.error("spool segment %s cannot be read (%s); moved to %s", segment.name, exc, moved)
                report.failed.append((segment.name, f"unreadable_spool_segment: {exc}"))
                continue
            spooled = report.spooled
            if not self._write_segment(segment, mentions, report):
                report.spooled = spooled  # already counted when it was spooled
                break
            report.replayed += len(mentions)
        return report

    def _spool(self, mentions: Sequence[Mention], report: BulkReport) -> None:
        self.spool.append(mentions)
        report.spooled += len(mentions)

    def _spool_retryable(self, written: BulkReport, report: BulkReport) -> None:
        # Items the engine was too busy to take go back to the end of the spool.
        retryable, written.retryable = written.retryable, []
        report.merge(written)
        if retryable:
            self._spool(retryable, report)

    def _engine_down(self, exc: IndexerError) -> None:
        if self.durability is not None and self.spool.unconfirmed():
            self._requeue()  # the store went away: whatever it had not made durable may be gone
        self._backoff = min(self.max_backoff, max(1.0, self._backoff * 2))
        self._next_attempt = self._clock() + self._backoff
        logger.warning("engine unavailable (%s); spooling to %s, next try in %.0fs", exc, self.spool.directory,
                       self._backoff)  # fmt: skip

    def _engine_up(self) -> None:
        self._backoff = 0.0
        self._next_attempt = 0.0
