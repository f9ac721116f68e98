"""Errors of the indexer package."""

from core.store import StoreError


class IndexerError(StoreError):
    """Base error of the indexer package."""


class EngineUnavailable(IndexerError):
    """The search engine cannot be reached."""
