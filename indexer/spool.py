"""On-disk spool: mentions that cannot reach the engine wait here, in order, until it is back.

Each batch that the engine could not take becomes one segment file, `<sequence>.ndjson`, written to a
temporary name, flushed to disk and renamed into place: a segment is either complete or absent, whatever
the moment of a crash. Segments are replayed oldest first and removed only after the engine has accepted
the whole batch. A crash between the engine's acknowledgement and the removal replays the batch once more,
which overwrites the same stable ids: nothing is lost and nothing is duplicated.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from indexer.document import Mention
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
        for leftover in self.directory.glob("*.tmp"):  # a crash while appending: the batch was never acknowledged
            leftover.unlink()

    def segments(self) -> list[Path]:
        return sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}"))

    def pending(self) -> int:
        """Mentions waiting in the spool."""
        total = 0
        for segment in self.segments():
            with segment.open("rb") as lines:
                total += sum(1 for line in lines if line.strip())
        return total

    def append(self, mentions: Sequence[Mention]) -> Path:
        segments = self.segments()
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
    ) -> None:
        self.writer = writer
        self.spool = spool
        self.max_backoff = max_backoff
        self._clock = clock
        self._backoff = 0.0
        self._next_attempt = 0.0

    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        report = self.replay() if self._clock() >= self._next_attempt else BulkReport()
        if not mentions:
            return report
        if self.spool.segments():
            self._spool(mentions, report)
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
            try:
                written = self.writer.write(mentions)
            except EngineUnavailable as exc:
                self._engine_down(exc)
                break
            self._engine_up()
            self.spool.remove(segment)
            report.replayed += len(mentions)
            # Items the engine was too busy to take go back to the end of the spool.
            self._spool_retryable(written, report)
        return report

    def _spool(self, mentions: Sequence[Mention], report: BulkReport) -> None:
        self.spool.append(mentions)
        report.spooled += len(mentions)

    def _spool_retryable(self, written: BulkReport, report: BulkReport) -> None:
        retryable, written.retryable = written.retryable, []
        report.merge(written)
        if retryable:
            self._spool(retryable, report)

    def _engine_down(self, exc: IndexerError) -> None:
        self._backoff = min(self.max_backoff, max(1.0, self._backoff * 2))
        self._next_attempt = self._clock() + self._backoff
        logger.warning("engine unavailable (%s); spooling to %s, next try in %.0fs", exc, self.spool.directory,
                       self._backoff)  # fmt: skip

    def _engine_up(self) -> None:
        self._backoff = 0.0
        self._next_attempt = 0.0
