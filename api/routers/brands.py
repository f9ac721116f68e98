"""/v1/brands: the caller's brands and their earned-media metrics, breakdowns and top outliers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import BrandDep, Caller, CallerDep, StateDep, StoreDep
from api.params import FromParam, OutlierQuery, ToParam, period
from api.problems import COMMON_RESPONSES, ENGINE_RESPONSES
from api.schemas import (
    BrandList,
    BrandSummary,
    BreakdownResponse,
    MetricsBucket,
    MetricsWithCompetitors,
    OutlierList,
)
from core.config import Brand
from indexer.analytics import Counts, engagement, intensity, metrics, total
from indexer.buckets import Interval, buckets, zone
from indexer.queries import MentionFilters

router = APIRouter(prefix="/v1/brands", tags=["brands"], responses=COMMON_RESPONSES)

DEFAULT_SPAN: dict[str, timedelta] = {
    "hour": timedelta(hours=48),
    "day": timedelta(days=30),
    "week": timedelta(weeks=13),  # a quarter
    "month": timedelta(days=365),
}
METRIC_EXAMPLE = {
    "volume": 120, "anger": 9, "comfort": 100, "delight": 6, "unscored": 5, "earned": 15,
    "earned_share": 0.125, "net_delight": -0.2, "set_earned": 40, "earned_sov": 0.375,
}  # fmt: skip


class MetricsResponse(BaseModel):
    brand: str
    interval: Literal["hour", "day", "week", "month"]
    tz: str
    from_: str = Field(alias="from")
    to: str
    competitive_set: list[str]
    data: list[MetricsBucket]
    count: int
    next: str | None = None
    totals: MetricsWithCompetitors

    model_config = {
        "populate_by_name": True,
        "json_schema_extra": {
            "examples": [
                {
                    "brand": "revontuli", "interval": "week", "tz": "Europe/Helsinki",
                    "from": "2026-08-24T00:00:00+03:00", "to": "2026-11-23T00:00:00+02:00",
                    "competitive_set": ["revontuli", "tunturi"],
                    "data": [{"key": "2026-11-16T00:00:00+02:00", "end": "2026-11-23T00:00:00+02:00",
                              **METRIC_EXAMPLE, "competitors": {"tunturi": {**METRIC_EXAMPLE, "earned": 25}}}],
                    "count": 1, "next": None, "totals": {**METRIC_EXAMPLE, "competitors": {}},
                }
            ]
        },
    }  # fmt: skip


def competitive_set(brand: Brand, caller: Caller) -> list[str]:
    """The brand and those of its competitors the caller may see (docs/api.md, "Competitors"): another team's
    brand is left out of every figure, the set's totals and share of voice included."""
    return [brand.id, *[c for c in brand.competitors if c != brand.id and caller.can_see(c)]]


@router.get("", response_model=BrandList, summary="The brands this key's team owns, with their competitive sets")
def list_brands(caller: CallerDep, state: StateDep) -> BrandList:
    data = [
        BrandSummary(id=b.id, name=b.name, competitors=competitive_set(b, caller)[1:], industry=b.industry)
        for b in state.config.brands
        if caller.can_see(b.id)
    ]
    return BrandList(data=data, count=len(data))


@router.get(
    "/{brand}/metrics",
    responses=ENGINE_RESPONSES,
    response_model=MetricsResponse,
    response_model_by_alias=True,
    response_model_exclude_unset=True,
    summary="Earned-media metrics per calendar bucket, against the competitive set",
    description=(
        "Per bucket: volume, anger/comfort/delight counts, earned (outliers), earned_share = earned / volume, "
        "net_delight = (delight − anger) / (delight + anger), earned_sov = earned / outliers of the whole "
        "competitive set (the brand and those of its configured competitors the caller's team may see). "
        "A ratio is null where its denominator is 0. "
        "Buckets are whole calendar hours/days/ISO weeks/months in `tz`; `from` rounds down and `to` up to bucket "
        "boundaries. `reach=true` adds the same figures weighted by the authors' followers."
    ),
)
def brand_metrics(
    brand: BrandDep,
    caller: CallerDep,
    store: StoreDep,
    interval: Annotated[Literal["hour", "day", "week", "month"], Query()] = "week",
    tz: Annotated[str, Query(description="IANA time zone of the buckets", examples=["Europe/Helsinki"])] = "UTC",
    from_: FromParam = None,
    to: ToParam = None,
    competitors: Annotated[bool, Query(description="Include each competitor's own series")] = True,
    reach: Annotated[bool, Query(description="Add reach-weighted figures (authors' followers)")] = False,
) -> MetricsResponse:
    zone_info = zone(tz)
    start, end = period(from_, to, DEFAULT_SPAN[interval])
    interval_: Interval = interval
    calendar = buckets(start, end, interval_, zone_info)
    brand_set = competitive_set(brand, caller)
    per_bucket = store.brand_counts_per_bucket(brand_set, calendar)

    def row(counts: dict[str, Counts]) -> dict[str, Any]:
        set_earned = sum(c.earned for c in counts.values())
        set_reach = sum(c.earned_reach for c in counts.values())
        out = metrics(counts[brand.id], set_earned, set_reach, with_reach=reach)
        if competitors:
            out["competitors"] = {b: metrics(counts[b], set_earned, set_reach, with_reach=reach) for b in brand_set[1:]}
        return out

    data = [
        {"key": bucket.key, "end": bucket.end.isoformat(), **row(counts)}
        for bucket, counts in zip(calendar, per_bucket, strict=True)
    ]
    totals = {b: total(c[b] for c in per_bucket) for b in brand_set}
    return MetricsResponse.model_validate(
        {
            "brand": brand.id, "interval": interval, "tz": tz, "from": calendar[0].key,
            "to": calendar[-1].end.isoformat(), "competitive_set": brand_set, "data": data, "count": len(data),
            "next": None, "totals": row(totals),
        }
    )  # fmt: skip


@router.get(
    "/{brand}/breakdown",
    responses=ENGINE_RESPONSES,
    response_model=BreakdownResponse,
    response_model_by_alias=True,
    response_model_exclude_unset=True,
    summary="Volume, earned media and net delight by source, language or experience class",
    description="Mentions without a value (e.g. no detected language) are counted under the key `unknown`.",
)
def brand_breakdown(
    brand: BrandDep,
    store: StoreDep,
    by: Annotated[Literal["source", "lang", "experience"], Query(description="Field to break down by")],
    from_: FromParam = None,
    to: ToParam = None,
    size: Annotated[int, Query(ge=1, le=100, description="Most frequent keys to return")] = 20,
    reach: Annotated[bool, Query()] = False,
) -> BreakdownResponse:
    start, end = period(from_, to, timedelta(days=30))
    result = store.breakdown(MentionFilters(brand=brand.id, start=start, end=end), by, size)
    data = [{"key": key, **metrics(counts, with_reach=reach)} for key, counts in result.rows]
    return BreakdownResponse.model_validate({
        "brand": brand.id, "by": by, "from": start.isoformat(), "to": end.isoformat(),
        "data": data, "count": len(data), "next": None, "other": result.other,
    })  # fmt: skip


@router.get(
    "/{brand}/outliers",
    responses=ENGINE_RESPONSES,
    response_model=OutlierList,
    response_model_exclude_unset=True,
    summary="Top outliers of a period: most intense or most engaged",
    description=(
        "`rank=intensity`: by the polarity probability of the mention's own class (negative for anger, positive "
        "for delight); `rank=engagement`: by likes + replies + shares. Each mention carries its `score`."
    ),
)
def brand_outliers(brand: BrandDep, store: StoreDep, query: Annotated[OutlierQuery, Query()]) -> OutlierList:
    start, end = period(query.from_, query.to, timedelta(days=7))
    filters = MentionFilters(brand=brand.id, lang=query.lang, source=query.source, start=start, end=end)
    classes = [query.experience] if query.experience else ["anger", "delight"]
    if query.rank == "intensity":
        top = store.most_intense(filters, classes, query.limit)
        data = [{**m, "score": intensity(m)} for m in top]
    else:
        top, _ = store.most_engaged(filters, classes, query.limit)
        data = [{**m, "score": engagement(m)} for m in top]
    return OutlierList.model_validate({"data": data, "count": len(data), "next": None})
