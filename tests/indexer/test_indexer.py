"""The indexer against the real local engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

from core.mention import Mention, mention_id
from indexer import EngineUnavailable
from indexer.admin import ensure_index, managed_indices
from indexer.client import engine_info, make_client
from indexer.queries import InvalidCursor, MentionFilters, decode_cursor, search_mentions
from indexer.writer import BulkWriter

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def make_mention(n: int, **changes: object) -> Mention:
    fields: dict = {
        "id": mention_id("reviews", f"https://example.fi/r/{n}"),
        "brand": "revontuli" if n % 2 else "tunturi",
        "source": "reviews",
        "url": f"https://example.fi/r/{n}",
        "text": f"Huone oli siisti ja aamiainen hyvä, arvio {n}",
        "lang": "fi",
        "published_at": NOW - timedelta(days=20 * n),
        "crawled_at": NOW,
        "experience": "comfort",
    }
    fields.update(changes)
    return Mention(**fields)


def test_init_is_idempotent_and_monthly_indices_join_the_alias(es: Elasticsearch, alias: str) -> None:
    first = ensure_index(es, alias, now=NOW)
    assert ensure_index(es, alias, now=NOW) == first == f"{alias}-v1-2026.11"
    BulkWriter(es, alias, refresh=True).write([make_mention(n) for n in range(4)])
    indices = managed_indices(es, alias)
    assert indices == [f"{alias}-v1-2026.{m:02d}" for m in (9, 10, 11)]
    aliased = es.indices.get_alias(name=alias)
    assert set(aliased) == set(indices)


def test_recrawl_overwrites_instead_of_duplicating(es: Elasticsearch, alias: str) -> None:
    ensure_index(es, alias, now=NOW)
    writer = BulkWriter(es, alias, refresh=True)
    assert writer.write([make_mention(1), make_mention(2)]).indexed == 2
    changed = make_mention(1, text="Päivitetty arvio: kamala kokemus")
    assert writer.write([changed]).indexed == 1
    assert es.count(index=alias)["count"] == 2
    page = search_mentions(es, alias, MentionFilters(q="kamala"))
    assert [m["id"] for m in page.data] == [changed.id]


def test_the_items_aggregate_rating_is_stored_and_searchable(es: Elasticsearch, alias: str) -> None:
    ensure_index(es, alias, now=NOW)
    rated = make_mention(1, rating=2, rating_max=5, item_rating={"value": 8.6, "max": 10, "count": 512})
    assert BulkWriter(es, alias, refresh=True).write([rated, make_mention(2)]).indexed == 2
    hits = es.search(index=alias, query={"range": {"item_rating.value": {"gte": 8}}})["hits"]["hits"]
    assert [hit["_source"]["item_rating"] for hit in hits] == [{"value": 8.6, "max": 10.0, "count": 512}]


def test_failed_items_are_reported_with_reason(es: Elasticsearch, alias: str) -> None:
    ensure_index(es, alias, now=NOW)
    good = make_mention(1)
    bad = make_mention(2, text="x" * 10)
    # A field the strict mapping does not know, smuggled past the model: the engine rejects that item only.
    bad_doc = bad.model_copy()
    object.__setattr__(bad_doc, "to_document", lambda: {**bad.to_document(), "unexpected": 1})
    report = BulkWriter(es, alias, refresh=True).write([good, bad_doc])
    assert report.indexed == 1
    assert len(report.failed) == 1
    failed_id, reason = report.failed[0]
    assert failed_id == bad.id
    assert "strict_dynamic_mapping" in reason


def test_finnish_stemming_and_filters(es: Elasticsearch, alias: str) -> None:
    ensure_index(es, alias, now=NOW)
    mentions = [
        make_mention(1, text="Hotellissa oli kylmä ja henkilökunta tyly", experience="anger"),
        make_mention(2, text="The breakfast was wonderful", lang="en", experience="delight"),
        make_mention(3, text="Tavallinen yö, ei valittamista"),
    ]
    BulkWriter(es, alias, refresh=True).write(mentions)
    assert search_mentions(es, alias, MentionFilters(q="hotelli")).count == 1  # fi stemming: hotellissa
    assert search_mentions(es, alias, MentionFilters(experience="delight")).count == 1
    assert search_mentions(es, alias, MentionFilters(lang="fi", brand="revontuli")).count == 2
    window = MentionFilters(start=NOW - timedelta(days=45), end=NOW - timedelta(days=10))
    # 20 and 40 days old fall inside; 60 days old does not. Newest first.
    assert [m["id"] for m in search_mentions(es, alias, window).data] == [mentions[0].id, mentions[1].id]


def test_cursor_pages_cover_everything_once(es: Elasticsearch, alias: str) -> None:
    ensure_index(es, alias, now=NOW)
    mentions = [make_mention(n) for n in range(7)] + [make_mention(99, published_at=None)]
    BulkWriter(es, alias, refresh=True).write(mentions)
    seen: list[str] = []
    cursor = None
    while True:
        page = search_mentions(es, alias, MentionFilters(), size=3, cursor=cursor)
        assert page.count == 8
        seen.extend(m["id"] for m in page.data)
        if page.next is None:
            break
        cursor = page.next
    assert sorted(seen) == sorted(m.id for m in mentions)
    assert seen[-1] == mentions[-1].id  # undated mentions come last
    with pytest.raises(InvalidCursor):
        decode_cursor("not-a-cursor", "newest")


def test_unreachable_engine_is_a_clear_error() -> None:
    client = make_client("http://127.0.0.1:9", timeout=1)
    with pytest.raises(EngineUnavailable, match="127.0.0.1:9"):
        engine_info(client)
