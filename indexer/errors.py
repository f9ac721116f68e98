"""Errors of the indexer package."""


class IndexerError(Exception):
    """Base error of the indexer package."""


class EngineUnavailable(IndexerError):
    """The search engine cannot be reached."""
