"""`MentionStore` on Elasticsearch (or the local engine as its stand-in): template, monthly indices behind an alias.

The request bodies live in `indexer.queries`, `indexer.analytics`, `indexer.retention` and here; callers see only
the `MentionStore` methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError

from core.mention import Mention
from core.store import DuplicateCandidate
from indexer import analytics, queries, retention
from indexer.admin import ensure_index
from indexer.analytics import Breakdown, BreakdownField, Counts
from indexer.buckets import Bucket
from indexer.client import engine_info, make_client
from indexer.errors import EngineUnavailable, IndexerError
from indexer.queries import SORTS, IndexMissing, MentionFilters, MentionPage, SortName, build_query, run_search
from indexer.retention import RetentionReport
from indexer.store import Selection
from indexer.writer import BulkReport, BulkWriter

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ElasticsearchMentionStore:
    """Mentions in monthly indices behind `alias`. `refresh=True` makes every write visible at once (tests, CLI)."""

    def __init__(self, client: Elasticsearch, alias: str, refresh: bool = False) -> None:
        self.client = client
        self.alias = alias
        self._writer = BulkWriter(client, alias, refresh=refresh)

    @classmethod
    def connect(cls, url: str, alias: str, api_key: str | None = None, refresh: bool = False
                ) -> ElasticsearchMentionStore:  # fmt: skip
        return cls(make_client(url, api_key), alias, refresh=refresh)

    # --- life cycle ---------------------------------------------------------------------------------------------
    def ensure_ready(self) -> None:
        engine_info(self.client)
        ensure_index(self.client, self.alias)

    def describe(self) -> dict[str, Any]:
        info = engine_info(self.client)
        return {
            "kind": "elasticsearch",
            "name": info.get("name"),
            "version": (info.get("version") or {}).get("number"),
            "alias": self.alias,
        }

    def refresh(self) -> None:
        try:
            self.client.indices.refresh(index=self.alias)
        except NotFoundError:
            pass  # nothing written yet
        except TransportError as exc:
            raise EngineUnavailable(f"refresh failed, engine unreachable: {exc}") from exc

    def close(self) -> None:
        self.client.close()

    # --- writes -------------------------------------------------------------------------------------------------
    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        return self._writer.write(mentions)

    def write_all(self, batches: Iterable[Sequence[Mention]]) -> BulkReport:
        report = BulkReport()
        for mentions in batches:
            report.merge(self.write(mentions))
        return report

    def delete_older_than(self, cutoff: datetime) -> RetentionReport:
        return retention.delete_older_than(self.client, self.alias, cutoff)

    # --- reads --------------------------------------------------------------------------------------------------
    def get(self, mention_id: str) -> dict[str, Any] | None:
        return queries.get_mention(self.client, self.alias, mention_id)

    def search(
        self,
        filters: MentionFilters,
        size: int = 20,
        cursor: str | None = None,
        sort: SortName = "newest",
        highlight: bool = False,
        as_json: bool = False,  # the documents come parsed from the engine's answer: `data` it is
    ) -> MentionPage:
        return queries.search_mentions(self.client, self.alias, filters, size, cursor, sort, highlight)

    def export(self, filters: MentionFilters, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        return queries.export_mentions(self.client, self.alias, filters, page_size)

    def count(self, selection: Selection) -> int:
        try:
            return int(self.client.count(index=self.alias, query=selection_query(selection))["count"])
        except NotFoundError:
            return 0
        except TransportError as exc:
            raise EngineUnavailable(f"count failed, engine unreachable: {exc}") from exc
        except ApiError as exc:
            raise IndexerError(f"count failed: {exc}") from exc

    def pages(self, selection: Selection, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        search_after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"query": selection_query(selection), "sort": SORTS["newest"], "size": batch_size}
            if search_after is not None:
                body["search_after"] = search_after
            hits = run_search(self.client, self.alias, body)["hits"]["hits"]
            if not hits:
                return
            search_after = hits[-1]["sort"]
            yield [hit["_source"] for hit in hits]

    # --- aggregates ---------------------------------------------------------------------------------------------
    def brand_counts_per_bucket(self, brands: Sequence[str], buckets: Sequence[Bucket]) -> list[dict[str, Counts]]:
        return analytics.brand_counts_per_bucket(self.client, self.alias, brands, buckets)

    def breakdown(self, filters: MentionFilters, by: BreakdownField, size: int) -> Breakdown:
        return analytics.breakdown(self.client, self.alias, filters, by, size)

    def most_intense(self, filters: MentionFilters, classes: Sequence[str], limit: int) -> list[dict[str, Any]]:
        return analytics.most_intense(self.client, self.alias, filters, classes, limit)

    def most_engaged(
        self, filters: MentionFilters, classes: Sequence[str], limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        return analytics.most_engaged(self.client, self.alias, filters, classes, limit)

    def counts_per_slot(
        self, brand: str, experience: str, start: datetime, end: datetime, step: timedelta
    ) -> dict[datetime, int]:
        query = {
            "bool": {
                "filter": [
                    {"term": {"brand": brand}},
                    {"term": {"experience": experience}},
                    {"range": {"published_at": {"gte": start.isoformat(), "lt": end.isoformat()}}},
                ]
            }
        }
        seconds = int(step.total_seconds())
        aggs = {"per_slot": {"date_histogram": {"field": "published_at", "fixed_interval": f"{seconds}s"}}}
        try:
            response = self.client.search(index=self.alias, size=0, query=query, aggs=aggs)
        except NotFoundError:
            return {}
        except TransportError as exc:
            what = f"counting {experience} mentions of {brand}"
            raise EngineUnavailable(f"{what} failed, engine unreachable: {exc}") from exc
        except ApiError as exc:
            raise IndexerError(f"counting {experience} mentions of {brand} failed: {exc}") from exc
        counts: dict[datetime, int] = {}
        for bucket in response.get("aggregations", {}).get("per_slot", {}).get("buckets", []):
            key = EPOCH + timedelta(milliseconds=int(bucket["key"]))
            slot = EPOCH + ((key - EPOCH) // step) * step
            if bucket["doc_count"]:
                counts[slot] = counts.get(slot, 0) + int(bucket["doc_count"])
        return counts

    def first_published(self, brand: str) -> datetime | None:
        body: dict[str, Any] = {
            "query": {"bool": {"filter": [{"term": {"brand": brand}}, {"exists": {"field": "published_at"}}]}},
            "_source": ["published_at"],
            "size": 1,
            "sort": [{"published_at": {"order": "asc", "missing": "_last"}}],
        }
        try:
            hits = run_search(self.client, self.alias, body)["hits"]["hits"]
        except IndexMissing:
            return None
        if not hits:
            return None
        when = datetime.fromisoformat(hits[0]["_source"]["published_at"].replace("Z", "+00:00"))
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)

    def polarity_nets(self, brands: Sequence[str], start: datetime, end: datetime, limit: int) -> list[float]:
        body: dict[str, Any] = {
            "query": {
                "bool": {
                    "filter": [
                        {"terms": {"brand": list(brands)}},
                        {"range": {"published_at": {"gte": start.isoformat(), "lt": end.isoformat()}}},
                        {"exists": {"field": "polarity.negative"}},
                    ],
                    "must_not": [{"exists": {"field": "near_duplicate_of"}}],
                }
            },
            "_source": ["polarity"],
            "size": limit,
            "sort": [{"published_at": {"order": "desc"}}],
        }
        hits = run_search(self.client, self.alias, body)["hits"]["hits"]
        return [hit["_source"]["polarity"]["positive"] - hit["_source"]["polarity"]["negative"] for hit in hits]

    def near_duplicate_candidates(
        self, bands_by_mention: Mapping[str, Sequence[str]], limit: int
    ) -> dict[str, list[DuplicateCandidate]]:
        """One `msearch` request for the whole batch: one bare `terms` query on `dedup_bands` per mention."""
        ids = [mention_id for mention_id, bands in bands_by_mention.items() if bands]
        found: dict[str, list[DuplicateCandidate]] = {mention_id: [] for mention_id in bands_by_mention}
        if not ids:
            return found
        searches: list[dict[str, Any]] = []
        for mention_id in ids:
            searches.append({"index": self.alias})
            # A bare `terms` query: on the local engine a bool filter excluding the mention's own id cost ~50 % more;
            # the own id (a re-crawled mention is not a copy of itself) is skipped below instead.
            searches.append({
                "query": {"terms": {"dedup_bands": list(bands_by_mention[mention_id])}},
                "_source": ["id", "text", "near_duplicate_of", "published_at", "crawled_at"],
                "size": limit + 1,
            })  # fmt: skip
        try:
            responses = self.client.msearch(searches=searches)["responses"]
        except NotFoundError:  # the alias does not exist before the first write
            return found
        except TransportError as exc:
            raise EngineUnavailable(f"near-duplicate lookup failed, engine unreachable: {exc}") from exc
        except ApiError as exc:
            raise IndexerError(f"near-duplicate lookup failed: {exc}") from exc
        for mention_id, response in zip(ids, responses, strict=True):
            if "error" in response:
                if (response.get("status") or 0) == 404:
                    continue
                raise IndexerError(f"near-duplicate lookup failed: {response['error']}")
            for hit in response["hits"]["hits"]:
                doc = hit["_source"]
                if doc["id"] == mention_id:
                    continue
                filed = doc.get("published_at") or doc.get("crawled_at") or ""
                found[mention_id].append(
                    DuplicateCandidate(doc["id"], doc.get("text") or "", doc.get("near_duplicate_of"), filed)
                )
        return found


def selection_query(selection: Selection) -> dict[str, Any]:
    query: dict[str, Any] = {"bool": {"must": [build_query(selection.filters)]}}
    if selection.not_model is not None:
        model_id, version = selection.not_model
        current = {"bool": {"filter": [{"term": {"model.id": model_id}}, {"term": {"model.version": version}}]}}
        query["bool"]["must_not"] = [current]
    if selection.scored_only:
        query["bool"]["filter"] = [{"exists": {"field": "polarity.negative"}}]
    return query
