"""Retention against the real local engine: old months dropped whole, the cutoff month trimmed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from core.mention import Mention, mention_id
from indexer.admin import ensure_index, managed_indices
from indexer.retention import delete_older_than
from indexer.schema import write_index_for
from indexer.writer import BulkWriter

pytestmark = pytest.mark.integration


def mention(n: int, published: datetime | None, crawled: datetime) -> Mention:
    url = f"https://r.example/{n}"
    return Mention(
        id=mention_id("reviews", url), brand="b", source="reviews", url=url, text="t", published_at=published,
        crawled_at=crawled,
    )  # fmt: skip


def test_drops_old_months_and_trims_the_cutoff_month(es: Elasticsearch, alias: str) -> None:
    sept, oct_early, oct_late = (datetime(2026, 9, 10, tzinfo=UTC), datetime(2026, 10, 5, tzinfo=UTC),
                                 datetime(2026, 10, 25, tzinfo=UTC))  # fmt: skip
    for month in (sept, oct_early):
        ensure_index(es, alias, now=month)
    mentions = [
        mention(1, sept, sept),
        mention(2, oct_early, oct_late),  # published before the cutoff: goes
        mention(3, oct_late, oct_late),  # stays
        mention(4, None, oct_early),  # no date of publication: aged by when it was crawled, goes
    ]
    assert BulkWriter(es, alias, refresh=True).write(mentions).indexed == 4

    report = delete_older_than(es, alias, datetime(2026, 10, 15, tzinfo=UTC))
    assert report.indices_dropped == [write_index_for(alias, sept)]
    assert report.documents_deleted == 2
    assert managed_indices(es, alias) == [write_index_for(alias, oct_early)]
    es.indices.refresh(index=alias)
    left = es.search(index=alias, query={"match_all": {}})["hits"]["hits"]
    assert [hit["_source"]["id"] for hit in left] == [mentions[2].id]
