"""Errors of the sentiment package."""

from core.errors import KaikuError


class SentimentError(KaikuError):
    """Base error of the sentiment package (model cannot be loaded, bad spec, ...)."""
