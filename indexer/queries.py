"""Query building for mentions: the one place that turns filters into engine requests."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from indexer.errors import EngineUnavailable, IndexerError

TEXT_FIELDS = ["text", "text.fi", "text.en", "title", "title.fi", "title.en"]
# Newest first; the id breaks ties so search_after pages are stable.
MENTION_SORT = [{"published_at": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}]


class InvalidCursor(IndexerError):
    """A pagination cursor that this service did not issue."""


@dataclass(frozen=True)
class MentionFilters:
    brand: str | None = None
    q: str | None = None
    experience: str | None = None
    source: str | None = None
    lang: str | None = None
    start: datetime | None = None  # inclusive, on published_at
    end: datetime | None = None  # exclusive


@dataclass(frozen=True)
class MentionPage:
    data: list[dict[str, Any]]
    count: int
    next: str | None


def build_query(filters: MentionFilters) -> dict[str, Any]:
    must: list[dict] = []
    filter_clauses: list[dict] = []
    for field in ("brand", "experience", "source", "lang"):
        value = getattr(filters, field)
        if value is not None:
            filter_clauses.append({"term": {field: value}})
    if filters.start or filters.end:
        bounds: dict[str, str] = {}
        if filters.start:
            bounds["gte"] = filters.start.isoformat()
        if filters.end:
            bounds["lt"] = filters.end.isoformat()
        filter_clauses.append({"range": {"published_at": bounds}})
    if filters.q:
        # simple_query_string never raises on user syntax: malformed input degrades to terms.
        must.append({"simple_query_string": {"query": filters.q, "fields": TEXT_FIELDS, "default_operator": "and"}})
    if not must and not filter_clauses:
        return {"match_all": {}}
    return {"bool": {"must": must, "filter": filter_clauses}}


def encode_cursor(sort_values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this service issued") from exc
    if not isinstance(values, list) or len(values) != len(MENTION_SORT):
        raise InvalidCursor("cursor is not one this service issued")
    return values


def search_mentions(
    client: Elasticsearch, alias: str, filters: MentionFilters, size: int = 20, cursor: str | None = None
) -> MentionPage:
    """One page of mentions, newest first, with the total count of matches."""
    body: dict[str, Any] = {
        "query": build_query(filters),
        "sort": MENTION_SORT,
        "size": size,
        "track_total_hits": True,
    }
    if cursor:
        body["search_after"] = decode_cursor(cursor)
    try:
        response = client.search(index=alias, **body)
    except TransportError as exc:
        raise EngineUnavailable(f"search failed, engine unreachable: {exc}") from exc
    except ApiError as exc:
        raise IndexerError(f"search failed: {exc}") from exc
    hits = response["hits"]["hits"]
    total = response["hits"]["total"]["value"]
    next_cursor = encode_cursor(hits[-1]["sort"]) if len(hits) == size else None
    return MentionPage(data=[public(hit["_source"]) for hit in hits], count=int(total), next=next_cursor)


# Stored for the crawler's own lookups, meaningless to API clients: 32 hash strings per mention (crawler/dedup.py).
INTERNAL_FIELDS = frozenset({"dedup_bands"})


def public(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in INTERNAL_FIELDS}


def get_mention(client: Elasticsearch, alias: str, mention_id: str) -> dict[str, Any] | None:
    try:
        response = client.search(index=alias, query={"term": {"id": mention_id}}, size=1)
    except TransportError as exc:
        raise EngineUnavailable(f"lookup failed, engine unreachable: {exc}") from exc
    hits = response["hits"]["hits"]
    return public(hits[0]["_source"]) if hits else None
