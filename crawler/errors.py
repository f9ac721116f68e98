"""Errors of the crawler package."""


class CrawlerError(Exception):
    """Base error of the crawler package (a crawl cannot start or its runtime is unusable)."""
