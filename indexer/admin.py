"""Creating the index template and the current monthly index behind the alias (safe to repeat)."""

from __future__ import annotations

from datetime import UTC, datetime

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from indexer.errors import EngineUnavailable, IndexerError
from indexer.schema import MAPPINGS, index_prefix, index_template, write_index_for


def template_name(alias: str) -> str:
    return f"{alias}-template"


def ensure_index(client: Elasticsearch, alias: str, now: datetime | None = None) -> str:
    """Put the template and make sure this month's index exists and belongs to the alias.

    Fields added to the mapping since an index was created are added to it too (new fields only; the
    template covers indices created from now on). Returns the current write index. Running it again
    changes nothing.
    """
    current = write_index_for(alias, now or datetime.now(UTC))
    try:
        client.indices.put_index_template(name=template_name(alias), **index_template(alias))
        for existing in managed_indices(client, alias):
            # With "dynamic": "strict", an index lacking a field the writer now sends rejects every document.
            client.indices.put_mapping(index=existing, properties=MAPPINGS["properties"])
        if not client.indices.exists(index=current):
            try:
                client.indices.create(index=current)
            except ApiError as exc:
                # Another writer created it between our check and create: that is fine.
                if "resource_already_exists" not in str(exc):
                    raise
        if not client.indices.exists_alias(name=alias, index=current):
            client.indices.put_alias(index=current, name=alias)
    except TransportError as exc:
        raise EngineUnavailable(f"cannot reach the search engine to create indices: {exc}") from exc
    except ApiError as exc:
        raise IndexerError(f"creating index {current} behind alias {alias} failed: {exc}") from exc
    return current


def managed_indices(client: Elasticsearch, alias: str) -> list[str]:
    """Concrete indices of this schema version, oldest first."""
    try:
        found = client.indices.get(index=f"{index_prefix(alias)}*")
    except TransportError as exc:
        raise EngineUnavailable(f"cannot list indices: {exc}") from exc
    return sorted(found.keys())


def refresh(client: Elasticsearch, alias: str) -> None:
    client.indices.refresh(index=alias)
