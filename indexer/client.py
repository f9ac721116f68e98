"""Building the official Elasticsearch client and checking that the engine answers."""

from __future__ import annotations

from elastic_transport import TransportError
from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exceptions

from indexer.errors import EngineUnavailable


def make_client(url: str, api_key: str | None = None, timeout: float = 30.0) -> Elasticsearch:
    return Elasticsearch(url, api_key=api_key, request_timeout=timeout, retry_on_timeout=True, max_retries=2)


def engine_info(client: Elasticsearch) -> dict:
    """The engine's banner (name, version); raises EngineUnavailable with the URL when it cannot be reached."""
    try:
        return dict(client.info())
    except (TransportError, es_exceptions.ApiError) as exc:
        hosts = ", ".join(str(node.base_url) for node in client.transport.node_pool.all())
        raise EngineUnavailable(f"search engine at {hosts} is not reachable: {exc}") from exc
