"""An index created before fields were added to the mapping takes mentions with those fields after ensure_index."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from core.mention import Mention
from indexer.admin import ensure_index
from indexer.schema import MAPPINGS, write_index_for
from indexer.writer import BulkWriter

pytestmark = pytest.mark.integration

ADDED_WITH_NEAR_DUPLICATES = ("dedup_bands", "lang_declared", "lang_detected")


def test_ensure_index_adds_new_fields_to_existing_indices(es: Elasticsearch, alias: str) -> None:
    last_year = datetime(2025, 3, 1, tzinfo=UTC)
    old_mapping = copy.deepcopy(MAPPINGS)
    for name in ADDED_WITH_NEAR_DUPLICATES:
        del old_mapping["properties"][name]
    old_index = write_index_for(alias, last_year)
    es.indices.create(index=old_index, mappings=old_mapping, aliases={alias: {}})
    mention = Mention(
        id="m1",
        brand="b",
        source="reviews",
        url="http://x/1",
        text="Hyvä hotelli",
        crawled_at=last_year,
        published_at=last_year,
        dedup_bands=["00:abc"],
        lang_declared="en",
        lang_detected="fi",
    )
    writer = BulkWriter(es, alias, refresh=True)
    assert writer.write([mention]).failed  # the old index refuses the new fields...

    ensure_index(es, alias)
    report = writer.write([mention])  # ...and takes them once its mapping has been brought up to date
    assert report.indexed == 1 and not report.failed
    stored = es.search(index=alias, query={"terms": {"dedup_bands": ["00:abc"]}})["hits"]["hits"]
    assert [hit["_index"] for hit in stored] == [old_index]
