"""The embedded store's pages cost what a page holds, not what the brands or classes before it hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.mention import ANGER, COMFORT, Experience, Mention, Polarity, mention_id
from indexer import sqlite_store
from indexer.queries import MentionFilters
from indexer.sqlite_store import _NEWEST, SQLiteMentionStore, _in_order

pytestmark = pytest.mark.integration

BRANDS = ("revontuli", "tunturi", "kide")
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteMentionStore:
    store = SQLiteMentionStore(tmp_path / "mentions.sqlite3")
    store.write([
        Mention(id=mention_id("plan", str(n)), brand=BRANDS[n % 3], source="reviews", url=f"https://x.example/{n}",
                text=f"Kylmä huone, arvio {n}", lang="fi", published_at=START + timedelta(hours=n), crawled_at=START)
        for n in range(300)
    ])  # fmt: skip
    return store


def _plan(store: SQLiteMentionStore, sql: str, params: list[Any]) -> str:
    return " / ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_a_page_of_several_brands_merges_one_ordered_walk_per_brand(store: SQLiteMentionStore) -> None:
    # One walk over `brand IN (...)` sorted every mention of the brands before the first row of a page: 550 ms for
    # a page of a two-brand team at 200,000 mentions (docs/storage.md). Merged walks read what the page needs.
    filters = MentionFilters(brands=("revontuli", "tunturi"), lang="fi")
    clauses, params, _ = store._where(filters)
    sql, sql_params = _in_order("m.doc, m.id, m.published_ms", clauses, params, _NEWEST, store._brand_walks(filters))
    plan = _plan(store, sql, sql_params)
    assert "MERGE (UNION ALL)" in plan and plan.count("USING INDEX mentions_brand_time (brand=?)") == 2, plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # only ties of one time, by id, are sorted
    rows = store.db.execute(f"{sql} LIMIT 5", sql_params).fetchall()
    assert [row[2] for row in rows] == sorted((row[2] for row in rows), reverse=True)
    assert len(rows) == 5 and all('"brand":"kide"' not in row[0] for row in rows)


@pytest.mark.parametrize("filters", [MentionFilters(), MentionFilters(lang="fi")], ids=["all", "language"])
def test_a_page_of_no_brand_merges_a_walk_per_stored_brand(store: SQLiteMentionStore, filters: MentionFilters) -> None:
    # No index orders every mention by time (one cost writes 13-20%, docs/storage.md): the brands' walks merge.
    clauses, params, _ = store._where(filters)
    walks = store._brand_walks(filters)
    assert walks == tuple(sorted(BRANDS))
    sql, sql_params = _in_order("m.doc, m.id, m.published_ms", clauses, params, _NEWEST, walks)
    plan = _plan(store, sql, sql_params)
    assert plan.count("USING INDEX mentions_brand_time (brand=?)") == 3 and "MERGE (UNION ALL)" in plan, plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    newest = [m["id"] for m in store.search(filters, size=300).data]
    assert newest == [mention_id("plan", str(n)) for n in range(299, -1, -1)]


def test_past_the_brand_walks_limit_a_page_is_sorted_at_once(
    store: SQLiteMentionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "MAX_BRAND_WALKS", 2)
    sql, _ = _in_order("m.doc, m.id, m.published_ms", [], [], _NEWEST, store._brand_walks(MentionFilters()))
    assert "UNION" not in sql
    pages, cursor = [], None
    while True:
        page = store.search(MentionFilters(), size=70, cursor=cursor)
        pages.extend(m["id"] for m in page.data)
        if (cursor := page.next) is None:
            break
    assert pages == [mention_id("plan", str(n)) for n in range(299, -1, -1)]


def test_one_brand_is_one_walk(store: SQLiteMentionStore) -> None:
    for filters in (MentionFilters(brand="kide", brands=BRANDS), MentionFilters(brands=("kide",))):
        clauses, params, _ = store._where(filters)
        sql, sql_params = _in_order(
            "m.doc, m.id, m.published_ms", clauses, params, _NEWEST, store._brand_walks(filters)
        )
        assert "UNION" not in sql
        assert "USE TEMP B-TREE FOR ORDER BY" not in _plan(store, sql, sql_params)


def test_a_prefix_term_is_matched_once_not_checked_row_by_row(
    store: SQLiteMentionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FTS5 expands a prefix term into every word it begins at each lookup: checking a page walk's rows a chunk at
    # a time cost 60-150 ms a chunk at 200,000; the list of all matches is expanded once.
    monkeypatch.setattr(sqlite_store, "SEARCH_COUNT_LIMIT", 10)  # many matches: the page walk's case
    walked = []
    monkeypatch.setattr(SQLiteMentionStore, "_probed_page", lambda self, *args: walked.append(args))
    page = store.search(MentionFilters(q="kylm*", brands=("revontuli", "tunturi")), size=5)
    assert not walked and len(page.data) == 5 and not page.count_exact
    store.search(MentionFilters(q="kylmä", brands=("revontuli", "tunturi")), size=5)
    assert walked  # a plain word still walks


def test_a_page_by_intensity_reads_one_class_at_a_time(tmp_path: Path) -> None:
    # A sort by the class first sorted every mention of a brand before the first row (340 ms for a brand's year
    # at 200,000, docs/storage.md); read class by class, a page costs what the classes it reaches hold.
    store = SQLiteMentionStore(tmp_path / "mentions.sqlite3")
    classes: list[Experience | None] = [ANGER] * 30 + [COMFORT] * 30 + [None] * 5
    store.write([
        Mention(id=mention_id("intensity", str(n)), brand="kide", source="reviews", url=f"https://x.example/{n}",
                text=f"Arvio {n}", lang="fi", published_at=START + timedelta(hours=n), crawled_at=START,
                experience=experience, polarity=Polarity(negative=n / 100, neutral=0.5, positive=0.1) if experience
                else None)
        for n, experience in enumerate(classes)
    ])  # fmt: skip
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    filters = MentionFilters(brand="kide")
    for size, read in ((5, ["anger"]), (40, ["anger", "comfort"]), (65, ["anger", "comfort", "delight", None])):
        statements.clear()
        page = store.search(filters, size=size, sort="angriest")
        assert [m["experience"] for m in page.data] == classes[:size]
        assert [m["polarity"]["negative"] for m in page.data[:30]] == sorted(
            (m["polarity"]["negative"] for m in page.data[:30]), reverse=True
        )
        pages = [sql for sql in statements if "ORDER BY" in sql]
        assert [re.findall(r"experience (?:= '(\w+)'|IS (NULL))", sql) for sql in pages] == [
            [(name or "", "" if name else "NULL")] for name in read
        ]
