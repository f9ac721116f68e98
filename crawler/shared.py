"""Passing live objects (brands, classifier, writer) to pipelines through Scrapy settings."""

from __future__ import annotations

from typing import Any


class Shared:
    """Holds an object by reference inside Scrapy settings.

    Scrapy deep-copies the settings for every crawler; a deep copy of a loaded torch model or an open
    engine client would double its memory or fail outright, and would not be the object the caller
    holds. Copies of a `Shared` are the `Shared` itself.
    """

    def __init__(self, value: Any) -> None:
        self.value = value

    def __deepcopy__(self, memo: dict) -> Shared:
        return self

    def __copy__(self) -> Shared:
        return self

    def __repr__(self) -> str:  # Scrapy logs overridden settings; keep that line short
        return f"<shared {type(self.value).__name__}>"


def unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Shared) else value
