"""Bulk writer: idempotent bulk requests checked item by item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from core.mention import Mention
from indexer.errors import EngineUnavailable, IndexerError
from indexer.schema import write_index_for

# Item statuses that mean "the engine is busy or briefly unavailable, try again", not "this document is wrong".
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclass
class BulkReport:
    indexed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (mention id, reason)
    # Mentions the engine refused for now (RETRYABLE_STATUSES); SpoolingWriter spools them, other callers count
    # them as failed.
    retryable: list[Mention] = field(default_factory=list)
    spooled: int = 0  # written to the on-disk spool instead of the engine (SpoolingWriter)
    replayed: int = 0  # taken from the spool and accepted by the engine (SpoolingWriter)

    def merge(self, other: BulkReport) -> None:
        self.indexed += other.indexed
        self.failed.extend(other.failed)
        self.retryable.extend(other.retryable)
        self.spooled += other.spooled
        self.replayed += other.replayed


class BulkWriter:
    """Writes mentions with their stable ids, so a re-crawl overwrites instead of duplicating.

    Writes go to the concrete monthly index of each mention (by `published_at`,
    else `crawled_at`), never through the alias: an alias over several indices
    cannot take writes, and a mention must always land in the same index.
    """

    def __init__(self, client: Elasticsearch, alias: str, refresh: bool = False) -> None:
        self._client = client
        self._alias = alias
        self._refresh = refresh

    @property
    def client(self) -> Elasticsearch:
        return self._client

    @property
    def alias(self) -> str:
        return self._alias

    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        report = BulkReport()
        if not mentions:
            return report
        operations: list[dict] = []
        for mention in mentions:
            index = write_index_for(self._alias, mention.published_at or mention.crawled_at)
            operations.append({"index": {"_index": index, "_id": mention.id}})
            operations.append(mention.to_document())
        try:
            response = self._client.bulk(operations=operations, refresh=self._refresh)
        except TransportError as exc:
            raise EngineUnavailable(f"bulk write of {len(mentions)} mentions failed: {exc}") from exc
        except ApiError as exc:
            if exc.meta.status in RETRYABLE_STATUSES:
                raise EngineUnavailable(f"bulk write of {len(mentions)} mentions refused for now: {exc}") from exc
            raise
        items = response.get("items", [])
        if len(items) != len(mentions):
            raise IndexerError(f"bulk response has {len(items)} items for {len(mentions)} mentions")
        for mention, item in zip(mentions, items, strict=True):
            result = item.get("index", {})
            status = int(result.get("status", 500))
            if 200 <= status < 300:
                report.indexed += 1
            elif status in RETRYABLE_STATUSES:
                report.retryable.append(mention)
            else:
                error = result.get("error") or {}
                reason = error.get("reason") if isinstance(error, dict) else str(error)
                report.failed.append((mention.id, f"{error.get('type', 'error')}: {reason}"))
        return report
