"""Storing mentions: the embedded store, Elasticsearch (or the local development engine), and every query."""

from indexer.errors import EngineUnavailable, IndexerError

__all__ = ["EngineUnavailable", "IndexerError"]
