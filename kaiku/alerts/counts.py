"""Counting a brand's outlier mentions per window in the index, as the regular series the detector needs.

The engine's `date_histogram` gives only the non-empty buckets (the local engine has no `extended_bounds`
guarantee), so the grid -- every slot from the start of the history to the current, still filling, slot -- is
completed with zeros here, in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from indexer import EngineUnavailable, IndexerError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CountSeries:
    timestamps: list[datetime]  # slot starts, aligned on the UTC epoch; the last one is the current slot
    values: list[float]
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
    return CountSeries(timestamps, [counts.get(ts, 0.0) for ts in timestamps], step)
