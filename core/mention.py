"""The mention document (docs/design.md §4): what every source produces and the engine stores."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def mention_id(source: str, key: str) -> str:
    """Stable id from (source, platform id or canonical URL): a re-crawl overwrites, never duplicates."""
    return hashlib.sha256(f"{source}\x1f{key}".encode()).hexdigest()[:32]


class Engagement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    likes: int | None = None
    replies: int | None = None
    shares: int | None = None


class ItemRating(BaseModel):
    """The reviewed item's schema.org AggregateRating as the page stated it beside the review."""

    model_config = ConfigDict(extra="forbid")

    value: float
    max: float
    count: int | None = None  # reviewCount, else ratingCount


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str


class Mention(BaseModel):
    """One public post, comment or review that matched a brand's query."""

    model_config = ConfigDict(extra="forbid")

    id: str
    brand: str
    brands_matched: list[str] = Field(default_factory=list)
    query_id: str | None = None
    source: str
    url: str
    canonical_url: str | None = None
    author: str | None = None
    author_followers: int | None = None
    title: str | None = None
    text: str
    lang: str | None = None
    published_at: datetime | None = None
    crawled_at: datetime
    rating: float | None = None
    rating_max: float | None = None
    item_rating: ItemRating | None = None
    polarity: dict[str, float] | None = None
    experience: str | None = None
    experience_reason: str | None = None
    model: ModelInfo | None = None
    engagement: Engagement = Field(default_factory=Engagement)
    near_duplicate_of: str | None = None
    # MinHash LSH bands of the text (crawler/dedup.py): how later copies find this one in the index.
    dedup_bands: list[str] = Field(default_factory=list)
    # The language the source declared and the one detected, when they were checked (core/language.py).
    lang_declared: str | None = None
    lang_detected: str | None = None

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
