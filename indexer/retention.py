"""Retention: delete mentions older than a cutoff.

Whole monthly indices that lie entirely before the cutoff are dropped (cheap, and what docs/design.md §7 asks for);
the month the cutoff falls in is trimmed with a delete-by-query. A mention is filed by `published_at`, else
`crawled_at` (indexer/writer.py), and it is aged by the same field here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from indexer.admin import managed_indices
from indexer.errors import EngineUnavailable, IndexerError
from indexer.schema import index_prefix


@dataclass
class RetentionReport:
    indices_dropped: list[str] = field(default_factory=list)
    documents_deleted: int = 0


def _month_end(index: str, prefix: str) -> datetime | None:
    try:
        start = datetime.strptime(index.removeprefix(prefix), "%Y.%m").replace(tzinfo=UTC)
    except ValueError:
        return None  # not one of ours: leave it alone
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def older_than_query(cutoff: datetime) -> dict:
    stamp = cutoff.isoformat()
    return {
        "bool": {
            "should": [
                {"range": {"published_at": {"lt": stamp}}},
                {
                    "bool": {
                        "must_not": [{"exists": {"field": "published_at"}}],
                        "filter": [{"range": {"crawled_at": {"lt": stamp}}}],
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def delete_older_than(client: Elasticsearch, alias: str, cutoff: datetime) -> RetentionReport:
    report = RetentionReport()
    prefix = index_prefix(alias)
    try:
        for index in managed_indices(client, alias):
            end = _month_end(index, prefix)
            if end is not None and end <= cutoff:
                client.indices.delete(index=index)
                report.indices_dropped.append(index)
        remaining = [index for index in managed_indices(client, alias) if index not in report.indices_dropped]
        if remaining:
            # Named one by one, not through the alias: the local engine deletes nothing by query through an alias.
            response = client.delete_by_query(index=",".join(remaining), query=older_than_query(cutoff), refresh=True)
            report.documents_deleted = int(response.get("deleted", 0))
    except TransportError as exc:
        raise EngineUnavailable(f"retention: engine unreachable: {exc}") from exc
    except ApiError as exc:
        raise IndexerError(f"retention failed: {exc}") from exc
    return report
