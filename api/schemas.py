"""What the API answers: one response model per kind of answer, so that the OpenAPI document describes every body.

Mentions and metrics are returned as the store gives them: routes that answer them use
`response_model_exclude_unset=True`, so a field the store did not send (an older document's missing field, the
`highlight` of a search without `highlight=true`) is left out rather than sent as null.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from core.config import AlertRule, Source
from core.mention import Mention as StoredMention
from indexer.queries import SEARCH_COUNT_LIMIT


class _Answer(BaseModel):
    """A response body. Fields the models do not name are left out of answers."""


class Mention(StoredMention):
    """One public post, comment or review that matched a brand's query (docs/design.md §4): the stored document
    (core/mention.py) less the fields only the store reads."""

    model_config = ConfigDict(extra="ignore")  # an answer leaves out what it does not name, never refuses it

    dedup_bands: SkipJsonSchema[list[str]] = Field(
        default_factory=list, exclude=True
    )  # indexer.queries.INTERNAL_FIELDS


class SearchedMention(Mention):
    highlight: dict[str, list[str]] | None = Field(
        default=None, description="With highlight=true and q: escaped HTML fragments per field, matches in <em>"
    )


class Outlier(Mention):
    score: float = Field(description="Intensity (the class's probability) or engagement (likes+replies+shares)")


class MentionList(_Answer):
    data: list[SearchedMention]
    count: int = Field(
        description=f"Matching mentions; with `q`, counted up to {SEARCH_COUNT_LIMIT:,} (then `count_exact` is false)"
    )
    count_exact: bool = Field(
        default=True, description=f"False when more match than `count`: a text search counts to {SEARCH_COUNT_LIMIT:,}"
    )
    next: str | None = Field(default=None, description="Cursor of the next page; null on the last")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [{"id": "3f2a...", "brand": "revontuli", "experience": "anger"}],
                    "count": 1,
                    "count_exact": True,
                    "next": None,
                }
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
