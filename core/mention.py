"""The mention (docs/design.md §2, §4), declared once and typed.

Three views of one concept, each derived from the one before instead of declaring its fields again:

- `Statement`: what a source states about one post, comment or review (nothing inferred). The extractors'
  records (crawler/extract/) are statements with the source's own key.
- `Judged`: a statement once crawled: its id, source and crawl time, and what the pipelines found (brands,
  language, near-duplicates, polarity, experience class). The crawler's Scrapy item (crawler/items.py) is one
  whose brand is not known yet.
- `Mention`: a judged statement with its brand: the stored document (`to_document()`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# The `source` of a mention is the name of the spider that read it (docs/design.md §5). Each spider's source
# configuration declares its name as its tag; a test checks that this list, those tags and the crawler's
# registry of spiders (crawler/spiders/registry.py) name the same spiders.
SourceName = Literal["reviews", "rss", "mastodon", "bluesky", "reddit", "hackernews", "appstore", "youtube"]
SOURCE_NAMES: tuple[SourceName, ...] = get_args(SourceName)

# The experience class (docs/design.md §2); an outlier is anger or delight.
Experience = Literal["anger", "comfort", "delight"]
ANGER: Experience = "anger"
COMFORT: Experience = "comfort"
DELIGHT: Experience = "delight"
EXPERIENCES: tuple[Experience, ...] = get_args(Experience)

POLARITY_LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Polarity:
    """The model's probabilities over negative / neutral / positive; they sum to 1."""

    negative: float
    neutral: float
    positive: float

    @property
    def label(self) -> str:
        values = (self.negative, self.neutral, self.positive)
        return POLARITY_LABELS[values.index(max(values))]

    def as_dict(self) -> dict[str, float]:
        return {"negative": self.negative, "neutral": self.neutral, "positive": self.positive}


def mention_id(source: str, key: str) -> str:
    """Stable id from (source, platform id or canonical URL): a re-crawl overwrites, never duplicates."""
    return hashlib.sha256(f"{source}\x1f{key}".encode()).hexdigest()[:32]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Engagement(_Strict):
    likes: int | None = None
    replies: int | None = None
    shares: int | None = None


class ItemRating(_Strict):
    """The reviewed item's schema.org AggregateRating as the page stated it beside the review."""

    value: float
    max: float
    count: int | None = None  # reviewCount, else ratingCount


class ModelInfo(_Strict):
    id: str
    version: str


class Statement(_Strict):
    """One post, comment or review as its source states it; nothing here is inferred."""

    url: str
    canonical_url: str | None = None
    author: str | None = None
    author_followers: int | None = None  # reach, where the platform states it
    title: str | None = None
    text: str
    lang: str | None = None  # as the source declares it
    published_at: datetime | None = None
    rating: float | None = None
    rating_max: float | None = None
    item_rating: ItemRating | None = None  # the norm a single review stands out from
    engagement: Engagement = Field(default_factory=Engagement)


class Judged(Statement):
    """A statement once crawled and judged: everything stored but the brand (see `Mention`)."""

    id: str
    source: SourceName
    crawled_at: datetime
    brands_matched: list[str] = Field(default_factory=list)
    query_id: str | None = None
    # The language the source declared and the one detected, when they were checked (core/language.py).
    lang_declared: str | None = None
    lang_detected: str | None = None
    near_duplicate_of: str | None = None
    # MinHash LSH bands of the text (crawler/dedup.py): how later copies find this one in the index.
    dedup_bands: list[str] = Field(default_factory=list)
    polarity: Polarity | None = None
    experience: Experience | None = None
    experience_reason: str | None = None
    model: ModelInfo | None = None


class Mention(Judged):
    """One public post, comment or review that matched a brand's query: the stored document."""

    brand: str

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
