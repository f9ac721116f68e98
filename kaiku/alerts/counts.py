"""Counting a brand's outlier mentions per window in the index, as the regular series the detector needs.

The engine's `date_histogram` gives only the non-empty buckets (the local engine has no `extended_bounds`
guarantee), so the grid -- every slot from the start of the history to the current, still filling, slot -- is
completed with zeros here, in Python -- but only from the slot of the brand's first mention on: the slots before it
are history that does not exist (a brand added today), NaN, so that the detector's warm-up applies to a new brand
instead of 28 days of zeros making its first ordinary day look like a spike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from indexer import EngineUnavailable, IndexerError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CountSeries:
    timestamps: list[datetime]  # slot starts, aligned on the UTC epoch; the last one is the current slot
    values: list[float]  # NaN before the brand's first mention (no history), counts from there on
    step: timedelta

    @property
    def current_slot(self) -> datetime:
        return self.timestamps[-1]


def slot_start(when: datetime, step: timedelta) -> datetime:
    return EPOCH + ((when - EPOCH) // step) * step


def count_series(
    client: Elasticsearch,
    alias: str,
    brand: str,
    experience: str,
    now: datetime,
    step: timedelta,
    history: timedelta,
) -> CountSeries:
    """Mentions of `brand` with this experience per `step`, published in [now - history, now)."""
    if now.tzinfo is None:
        raise ValueError("now must be time zone aware")
    current = slot_start(now, step)
    first = slot_start(now - history, step)
    query = {
        "bool": {
            "filter": [
                {"term": {"brand": brand}},
                {"term": {"experience": experience}},
                {"range": {"published_at": {"gte": first.isoformat(), "lt": now.isoformat()}}},
            ]
        }
    }
    seconds = int(step.total_seconds())
    aggs = {"per_slot": {"date_histogram": {"field": "published_at", "fixed_interval": f"{seconds}s"}}}
    try:
        response = client.search(index=alias, size=0, query=query, aggs=aggs)
        # The brand's first mention of any experience: from then on, a slot without mentions is a real zero.
        oldest = client.search(
            index=alias,
            size=1,
            query={"bool": {"filter": [{"term": {"brand": brand}}, {"exists": {"field": "published_at"}}]}},
            sort=[{"published_at": {"order": "asc", "missing": "_last"}}],
        )["hits"]["hits"]
    except TransportError as exc:
        raise EngineUnavailable(f"counting {experience} mentions of {brand} failed, engine unreachable: {exc}") from exc
    except ApiError as exc:
        raise IndexerError(f"counting {experience} mentions of {brand} failed: {exc}") from exc
    counts: dict[datetime, float] = {}
    for bucket in response.get("aggregations", {}).get("per_slot", {}).get("buckets", []):
        key = EPOCH + timedelta(milliseconds=int(bucket["key"]))
        counts[slot_start(key, step)] = counts.get(slot_start(key, step), 0.0) + float(bucket["doc_count"])
    slots = (current - first) // step + 1
    timestamps = [first + i * step for i in range(slots)]
    watched_from = slot_start(_time(oldest[0]["_source"]["published_at"]), step) if oldest else current + step
    values = [counts.get(ts, 0.0) if ts >= watched_from else math.nan for ts in timestamps]
    return CountSeries(timestamps, values, step)


def _time(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
