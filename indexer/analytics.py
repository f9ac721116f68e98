"""Earned-media metrics (docs/design.md §2): engine aggregations plus the Python the local engine forces.

Together with `indexer.queries` this is the one place that builds engine requests. What the engine
computes: document counts per (bucket, brand, experience class), reach sums, top hits. What Python
computes, on every engine alike so results never depend on it: calendar bucket boundaries in a time
zone (`indexer.buckets`; the local engine ignores `time_zone`), every ratio (no `bucket_script`), and
the engagement total used to rank outliers (no script sort).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from elasticsearch import Elasticsearch

from indexer.buckets import Bucket
from indexer.queries import MentionFilters, build_query, public, run_search, scan

EXPERIENCES = ("anger", "comfort", "delight")
OUTLIERS = ("anger", "delight")
BreakdownField = Literal["source", "lang", "experience"]
MISSING_KEY = "unknown"  # the breakdown key of mentions without a value (e.g. no detected language)


def ratio(numerator: float, denominator: float) -> float | None:
    """A ratio, or None where the denominator is zero (shown with its counts, never as a fake 0)."""
    return round(numerator / denominator, 6) if denominator else None


@dataclass
class Counts:
    """Mentions of one brand in one bucket, by experience class; reach sums the authors' followers."""

    volume: int = 0
    by_class: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXPERIENCES, 0))
    reach: float = 0.0
    reach_by_class: dict[str, float] = field(default_factory=lambda: dict.fromkeys(EXPERIENCES, 0.0))
    reach_unknown: int = 0  # mentions whose author's followers are not known: they add nothing to reach

    @property
    def earned(self) -> int:
        return sum(self.by_class[c] for c in OUTLIERS)

    @property
    def earned_reach(self) -> float:
        return sum(self.reach_by_class[c] for c in OUTLIERS)


def total(counts: Iterable[Counts]) -> Counts:
    """Counts summed over buckets (the `totals` of a series)."""
    result = Counts()
    for c in counts:
        result.volume += c.volume
        result.reach += c.reach
        result.reach_unknown += c.reach_unknown
        for name in EXPERIENCES:
            result.by_class[name] += c.by_class[name]
            result.reach_by_class[name] += c.reach_by_class[name]
    return result


def metrics(counts: Counts, set_earned: int | None = None, set_earned_reach: float | None = None,
            with_reach: bool = False) -> dict[str, Any]:  # fmt: skip
    """The docs/design.md §2 metrics of one brand in one bucket, each ratio beside its counts."""
    anger, delight = counts.by_class["anger"], counts.by_class["delight"]
    result: dict[str, Any] = {
        "volume": counts.volume,
        "anger": anger,
        "comfort": counts.by_class["comfort"],
        "delight": delight,
        "unscored": counts.volume - sum(counts.by_class.values()),
        "earned": counts.earned,
        "earned_share": ratio(counts.earned, counts.volume),
        "net_delight": ratio(delight - anger, delight + anger),
    }
    if set_earned is not None:
        result["set_earned"] = set_earned
        result["earned_sov"] = ratio(counts.earned, set_earned)
    if with_reach:
        r_anger, r_delight = counts.reach_by_class["anger"], counts.reach_by_class["delight"]
        reach: dict[str, Any] = {
            "volume": counts.reach,
            "earned": counts.earned_reach,
            "earned_share": ratio(counts.earned_reach, counts.reach),
            "net_delight": ratio(r_delight - r_anger, r_delight + r_anger),
            "unknown": counts.reach_unknown,
        }
        if set_earned_reach is not None:
            reach["set_earned"] = set_earned_reach
            reach["earned_sov"] = ratio(counts.earned_reach, set_earned_reach)
        result["reach"] = reach
    return result


def _class_aggs() -> dict[str, Any]:
    """Sub-aggregations giving a bucket's counts and reach per experience class."""
    return {
        "reach": {"sum": {"field": "author_followers"}},
        "reach_unknown": {"missing": {"field": "author_followers"}},
        "classes": {
            "terms": {"field": "experience", "size": len(EXPERIENCES)},
            "aggs": {"reach": {"sum": {"field": "author_followers"}}},
        },
    }


def _counts(agg: dict[str, Any]) -> Counts:
    counts = Counts(volume=int(agg["doc_count"]))
    counts.reach = float(agg["reach"]["value"] or 0)
    counts.reach_unknown = int(agg["reach_unknown"]["doc_count"])
    for bucket in agg["classes"]["buckets"]:
        if bucket["key"] in counts.by_class:
            counts.by_class[bucket["key"]] = int(bucket["doc_count"])
            counts.reach_by_class[bucket["key"]] = float(bucket["reach"]["value"] or 0)
    return counts


def _range(start: datetime, end: datetime) -> dict[str, Any]:
    return {"range": {"published_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}


def metrics_body(brands: Sequence[str], buckets: Sequence[Bucket]) -> dict[str, Any]:
    """One request: the brands' counts per calendar bucket, the buckets sent as explicit ranges."""
    return {
        "size": 0,
        "query": {"bool": {"filter": [{"terms": {"brand": list(brands)}}, _range(buckets[0].start, buckets[-1].end)]}},
        "aggs": {
            "buckets": {
                "filters": {"filters": {str(i): _range(b.start, b.end) for i, b in enumerate(buckets)}},
                "aggs": {"brands": {"terms": {"field": "brand", "size": len(brands)}, "aggs": _class_aggs()}},
            }
        },
    }


def brand_counts_per_bucket(
    client: Elasticsearch, alias: str, brands: Sequence[str], buckets: Sequence[Bucket]
) -> list[dict[str, Counts]]:
    """For each bucket, each brand's counts (zeros where it had no mention)."""
    response = run_search(client, alias, metrics_body(brands, buckets))
    raw = response["aggregations"]["buckets"]["buckets"]
    result = []
    for i in range(len(buckets)):
        per_brand = {brand: Counts() for brand in brands}
        for bucket in raw[str(i)]["brands"]["buckets"]:
            per_brand[bucket["key"]] = _counts(bucket)
        result.append(per_brand)
    return result


def breakdown_body(filters: MentionFilters, by: BreakdownField, size: int) -> dict[str, Any]:
    return {
        "size": 0,
        "query": build_query(filters),
        "aggs": {
            "keys": {"terms": {"field": by, "size": size}, "aggs": _class_aggs()},
            "missing": {"missing": {"field": by}, "aggs": _class_aggs()},
        },
    }


@dataclass(frozen=True)
class Breakdown:
    rows: list[tuple[str, Counts]]
    other: int  # mentions in keys beyond `size`


def breakdown(client: Elasticsearch, alias: str, filters: MentionFilters, by: BreakdownField, size: int) -> Breakdown:
    response = run_search(client, alias, breakdown_body(filters, by, size))
    aggs = response["aggregations"]
    rows = [(str(bucket["key"]), _counts(bucket)) for bucket in aggs["keys"]["buckets"]]
    if aggs["missing"]["doc_count"]:
        rows.append((MISSING_KEY, _counts(aggs["missing"])))
    return Breakdown(rows=rows, other=int(aggs["keys"].get("sum_other_doc_count", 0)))


# The polarity probability that measures how intense an outlier of each class is.
INTENSITY_FIELD = {"anger": "polarity.negative", "delight": "polarity.positive"}
ENGAGEMENT_FIELDS = ("likes", "replies", "shares")


def intensity(mention: dict[str, Any]) -> float:
    polarity = mention.get("polarity") or {}
    key = "negative" if mention.get("experience") == "anger" else "positive"
    return float(polarity.get(key) or 0.0)


def engagement(mention: dict[str, Any]) -> int:
    counts = mention.get("engagement") or {}
    return sum(int(counts.get(name) or 0) for name in ENGAGEMENT_FIELDS)


def most_intense(client: Elasticsearch, alias: str, filters: MentionFilters, classes: Sequence[str],
                 limit: int) -> list[dict[str, Any]]:  # fmt: skip
    """Top outliers by the polarity of their own class: the engine sorts each class, Python merges them."""
    found: list[dict[str, Any]] = []
    for experience in classes:
        body = {
            "query": build_query(_with(filters, experience=experience)),
            "sort": [{INTENSITY_FIELD[experience]: {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}],
            "size": limit,
        }
        found.extend(public(hit["_source"]) for hit in run_search(client, alias, body)["hits"]["hits"])
    return sorted(found, key=lambda m: (-intensity(m), m["id"]))[:limit]


def most_engaged(client: Elasticsearch, alias: str, filters: MentionFilters, classes: Sequence[str],
                 limit: int) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """Top outliers by likes + replies + shares. No script sort on the local engine, so every outlier of the
    period is scanned (ids and engagement only) and ranked here; returns (top, number scanned)."""
    query = {"bool": {"filter": [build_query(filters), {"terms": {"experience": list(classes)}}]}}
    scored: list[tuple[int, str]] = []
    for hit in scan(client, alias, {"query": query, "_source": ["id", "engagement"]}):
        scored.append((engagement(hit["_source"]), hit["_source"]["id"]))
    # Most engaged first; ties go to the smaller id, as in the intensity ranking.
    ids = [mention_id for _, mention_id in heapq.nsmallest(limit, scored, key=lambda s: (-s[0], s[1]))]
    if not ids:
        return [], len(scored)
    body = {"query": {"terms": {"id": ids}}, "size": len(ids)}
    by_id = {hit["_source"]["id"]: public(hit["_source"]) for hit in run_search(client, alias, body)["hits"]["hits"]}
    return [by_id[i] for i in ids if i in by_id], len(scored)


def _with(filters: MentionFilters, **changes: Any) -> MentionFilters:
    return replace(filters, **changes)
