"""What the API answers: one response model per kind of answer, so that the OpenAPI document describes every body.

Mentions and metrics are returned as the store gives them: routes that answer them use
`response_model_exclude_unset=True`, so a field the store did not send (an older document's missing field, the
`highlight` of a search without `highlight=true`) is left out rather than sent as null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.config import AlertRule, Source

Experience = Literal["anger", "comfort", "delight"]


class _Answer(BaseModel):
    """A response body. Fields the models do not name are left out of answers: tests/api/test_schemas.py keeps
    Mention in step with the stored document, so that none is dropped unnoticed."""


class Polarity(_Answer):
    negative: float
    neutral: float
    positive: float


class ModelInfo(_Answer):
    id: str
    version: str


class Engagement(_Answer):
    likes: int | None = None
    replies: int | None = None
    shares: int | None = None


class ItemRating(_Answer):
    value: float
    max: float
    count: int | None = None


class Mention(_Answer):
    """One public post, comment or review that matched a brand's query (docs/design.md §4)."""

    id: str
    brand: str = Field(description="The brand whose query it matched first")
    brands_matched: list[str] = Field(default_factory=list, description="Every brand whose query it matched")
    query_id: str | None = None
    source: str = Field(description="The source (sources.yaml) that found it")
    url: str
    canonical_url: str | None = None
    author: str | None = None
    author_followers: int | None = None
    title: str | None = None
    text: str
    lang: str | None = Field(default=None, description="ISO 639-1 code")
    lang_declared: str | None = None
    lang_detected: str | None = None
    published_at: datetime | None = None
    crawled_at: datetime
    rating: float | None = None
    rating_max: float | None = None
    item_rating: ItemRating | None = None
    polarity: Polarity | None = Field(default=None, description="Sentiment probabilities; null: not scored")
    experience: Experience | None = Field(default=None, description="Class of the experience; null: not scored")
    experience_reason: str | None = None
    model: ModelInfo | None = Field(default=None, description="The sentiment model that scored it")
    engagement: Engagement = Field(default_factory=Engagement)
    near_duplicate_of: str | None = Field(default=None, description="Id of the earlier mention it nearly repeats")


class SearchedMention(Mention):
    highlight: dict[str, list[str]] | None = Field(
        default=None, description="With highlight=true and q: escaped HTML fragments per field, matches in <em>"
    )


class Outlier(Mention):
    score: float = Field(description="Intensity (the class's probability) or engagement (likes+replies+shares)")


class MentionList(_Answer):
    data: list[SearchedMention]
    count: int
    next: str | None = Field(default=None, description="Cursor of the next page; null on the last")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"data": [{"id": "3f2a...", "brand": "revontuli", "experience": "anger"}], "count": 1, "next": None}
            ]
        }
    )


class OutlierList(_Answer):
    data: list[Outlier]
    count: int
    next: str | None = None


class BrandSummary(_Answer):
    id: str
    name: str
    competitors: list[str] = Field(description="Those of its competitors the caller's team may see")
    industry: str | None = None


class BrandList(_Answer):
    data: list[BrandSummary]
    count: int
    next: str | None = None


class ReachMetrics(_Answer):
    volume: float
    earned: float
    earned_share: float | None
    net_delight: float | None
    unknown: int = Field(description="Mentions whose author's followers are unknown")
    set_earned: float | None = None
    earned_sov: float | None = None


class Metrics(_Answer):
    volume: int
    anger: int
    comfort: int
    delight: int
    unscored: int
    earned: int
    earned_share: float | None
    net_delight: float | None
    set_earned: int | None = None
    earned_sov: float | None = None
    reach: ReachMetrics | None = Field(default=None, description="With reach=true")


class MetricsWithCompetitors(Metrics):
    competitors: dict[str, Metrics] | None = Field(default=None, description="With competitors=true")


class MetricsBucket(MetricsWithCompetitors):
    key: str = Field(description="Start of the bucket")
    end: str


class BreakdownRow(Metrics):
    key: str


class BreakdownResponse(_Answer):
    model_config = ConfigDict(populate_by_name=True)

    brand: str
    by: Literal["source", "lang", "experience"]
    from_: str = Field(alias="from")
    to: str
    data: list[BreakdownRow]
    count: int
    next: str | None = None
    other: int = Field(description="Mentions under keys beyond `size`")


class Team(_Answer):
    id: str
    name: str
    brands: list[str]
    created_at: str


class TeamList(_Answer):
    data: list[Team]
    count: int
    next: str | None = None


class KeyInfo(_Answer):
    id: str
    team: str
    created_at: str
    revoked_at: str | None


class NewKey(KeyInfo):
    key: str = Field(description="The whole key, shown only in this answer")


class KeyList(_Answer):
    data: list[KeyInfo]
    count: int
    next: str | None = None


class ImportSummary(_Answer):
    brands: int
    sources: int
    alerts: int


class HealthStatus(_Answer):
    status: Literal["ok", "unavailable"]


class SourceList(_Answer):
    data: list[Source]
    count: int
    next: str | None = None


class AlertRuleList(_Answer):
    data: list[AlertRule]
    count: int
    next: str | None = None
