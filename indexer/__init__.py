"""Indexing mentions into Elasticsearch (or the local development engine)."""

from indexer.errors import EngineUnavailable, IndexerError

__all__ = ["EngineUnavailable", "IndexerError"]
