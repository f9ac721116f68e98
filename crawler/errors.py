"""Errors of the crawler package."""

from core.errors import KaikuError


class CrawlerError(KaikuError):
    """Base error of the crawler package (a crawl cannot start or its runtime is unusable)."""
