"""The `MentionStore` interface: every question Kaiku asks of stored mentions (docs/storage.md).

Two implementations pass one contract-test suite (tests/indexer/contract_*.py):
`indexer.sqlite_store.SQLiteMentionStore` (embedded, the default) and `indexer.es_store.ElasticsearchMentionStore`
(a cluster, or the local engine as its stand-in). Nothing outside them builds a query body; callers speak in
`MentionFilters`, calendar `Bucket`s and the brand-query language of `core.query_language`.

Mentions come back as plain dicts (the public document: `Mention.to_document()` without internal fields), as
they are served by the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from core.mention import Mention
from core.store import DuplicateCandidate
from indexer.analytics import Breakdown, BreakdownField, Counts
from indexer.buckets import Bucket
from indexer.queries import MentionFilters, MentionPage, SortName
from indexer.retention import RetentionReport
from indexer.writer import BulkReport


@dataclass(frozen=True)
class Selection:
    """The mentions a rescore or a reclassification walks through."""

    filters: MentionFilters = field(default_factory=MentionFilters)
    not_model: tuple[str, str] | None = None  # leave out mentions already scored by this (model id, version)
    scored_only: bool = False  # only mentions that carry a polarity


@runtime_checkable
class MentionStore(Protocol):
    """Stored mentions. Every method raises `indexer.IndexerError` (or its `EngineUnavailable`) on failure."""

    # --- life cycle ---------------------------------------------------------------------------------------------
    def ensure_ready(self) -> None:
        """Create what the store needs (schema, template, current index); safe to repeat; checks it is reachable."""

    def describe(self) -> dict[str, Any]:
        """What serves the mentions (kind, version, location), for /healthz and `kaiku store info`."""

    def refresh(self) -> None:
        """Make every write so far visible to searches (a no-op where writes are visible at once)."""

    def close(self) -> None: ...

    # --- writes -------------------------------------------------------------------------------------------------
    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        """Insert or overwrite by id: a re-crawl, rescore or reclassification replaces, never adds.
        Aggregates (rollups) move with the mention: a changed class moves a count, never adds one twice."""

    def write_all(self, batches: Iterable[Sequence[Mention]]) -> BulkReport:
        """A bulk load: `write` of every batch, in order, as fast as the store takes them; returns once all are
        written. The reports of the batches are added up."""

    def delete_older_than(self, cutoff: datetime) -> RetentionReport:
        """Delete mentions published (else crawled) before `cutoff`."""

    # --- reads --------------------------------------------------------------------------------------------------
    def get(self, mention_id: str) -> dict[str, Any] | None: ...

    def search(
        self,
        filters: MentionFilters,
        size: int = 20,
        cursor: str | None = None,
        sort: SortName = "newest",
        highlight: bool = False,
        as_json: bool = False,
    ) -> MentionPage:
        """One page in the given order, the total count of matches, and the cursor of the next page.
        `filters.q` is a brand query (AND/OR/NOT, phrases, NEAR/n, prefix*); invalid ones raise QueryError.
        `as_json`: the caller sends the documents on as JSON; a store that holds them as JSON text may then give
        them in `data_json` only, leaving `data` empty."""

    def export(self, filters: MentionFilters, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Every match, newest first, fetched lazily."""

    def count(self, selection: Selection) -> int: ...

    def pages(self, selection: Selection, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """Whole stored documents (internal fields included), newest first, by keyset: mentions rewritten between
        pages so that they leave the selection make no later page skip any."""

    # --- aggregates ---------------------------------------------------------------------------------------------
    def brand_counts_per_bucket(self, brands: Sequence[str], buckets: Sequence[Bucket]) -> list[dict[str, Counts]]:
        """For each calendar bucket (any time zone, DST and half-hour offsets included), each brand's counts."""

    def breakdown(self, filters: MentionFilters, by: BreakdownField, size: int) -> Breakdown: ...

    def most_intense(self, filters: MentionFilters, classes: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Top outliers by the polarity of their own class; ties to the smaller id."""

    def most_engaged(
        self, filters: MentionFilters, classes: Sequence[str], limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Top outliers by likes + replies + shares, and the number of outliers ranked."""

    def counts_per_slot(
        self, brand: str, experience: str, start: datetime, end: datetime, step: timedelta
    ) -> dict[datetime, int]:
        """Mentions of a brand with this class published in [start, end), per slot of `step` aligned on the
        UTC epoch (keys are slot starts; empty slots are left out). The alerts' count series."""

    def first_published(self, brand: str) -> datetime | None:
        """When the brand's earliest stored mention was published (None: no dated mention): where its history begins."""

    def polarity_nets(self, brands: Sequence[str], start: datetime, end: datetime, limit: int) -> list[float]:
        """positive - negative of the newest `limit` scored, non-near-duplicate mentions of these brands published
        in [start, end): the sample of a brand's norm (crawler/baselines.py)."""

    def near_duplicate_candidates(
        self, bands_by_mention: Mapping[str, Sequence[str]], limit: int
    ) -> dict[str, list[DuplicateCandidate]]:
        """For each new mention id, stored mentions (not itself) sharing one of its bands; at most `limit` each."""
