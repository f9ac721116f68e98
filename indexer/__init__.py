"""Indexing mentions into Elasticsearch (or the local development engine)."""

from indexer.document import Mention, mention_id
from indexer.errors import EngineUnavailable, IndexerError

__all__ = ["EngineUnavailable", "IndexerError", "Mention", "mention_id"]
