"""What a crawl needs of a mention store, as Protocols: the crawler depends on these, never on indexer/.

indexer/ implements them (`indexer.store.MentionStore` has every method of `MentionLookup`; `BulkWriter`,
`SpoolingWriter` and the stores are `MentionWriter`s); the shell (kaiku/wiring.py) hands the implementations to
the crawl in its `crawler.context.CrawlContext`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.errors import KaikuError
from core.mention import Mention


class StoreError(KaikuError):
    """A mention store failed (unreachable, refused a request); `indexer.IndexerError` is this."""


@dataclass(frozen=True)
class DuplicateCandidate:
    """A stored mention sharing at least one MinHash band with a new text (crawler/dedup.py)."""

    id: str
    text: str
    near_duplicate_of: str | None
    filed_at: str  # published_at, else crawled_at, as an ISO string: the earliest copy is the root


class WriteReport(Protocol):
    """What a write did (`indexer.writer.BulkReport`)."""

    @property
    def indexed(self) -> int: ...

    @property
    def failed(self) -> Sequence[tuple[str, str]]:
        """(mention id, reason) of each mention refused for good."""

    @property
    def retryable(self) -> Sequence[Mention]:
        """Mentions refused for now (engine busy); a writer without a spool cannot keep them."""

    @property
    def spooled(self) -> int: ...

    @property
    def replayed(self) -> int: ...


class MentionWriter(Protocol):
    def write(self, mentions: Sequence[Mention]) -> WriteReport:
        """Insert or overwrite by id; raises StoreError when nothing could be written."""


class MentionLookup(Protocol):
    """The reads a crawl makes of the mentions already stored. Both raise StoreError on failure."""

    def polarity_nets(self, brands: Sequence[str], start: datetime, end: datetime, limit: int) -> list[float]:
        """positive - negative of the newest `limit` scored, non-near-duplicate mentions of these brands published
        in [start, end): the sample of a brand's norm (crawler/baselines.py)."""

    def near_duplicate_candidates(
        self, bands_by_mention: Mapping[str, Sequence[str]], limit: int
    ) -> dict[str, list[DuplicateCandidate]]:
        """For each new mention id, stored mentions (not itself) sharing one of its bands; at most `limit` each."""
