"""What only the embedded store promises: Finnish stems, several writing processes, a crash mid-batch, backups."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.mention import Mention, mention_id
from indexer.fulltext import stemmed_text
from indexer.queries import MentionFilters
from indexer.sqlite_store import SQLiteMentionStore
from indexer.store import Selection

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 1, tzinfo=UTC)


def mention(n: int, text: str = "Hyvä palvelu", experience: str = "comfort", lang: str = "fi") -> Mention:
    return Mention(
        id=mention_id("reviews", f"https://r.example/{n}"), brand=("a", "b")[n % 2], source="reviews",
        url=f"https://r.example/{n}", text=f"{text} {n}", lang=lang, published_at=START + timedelta(minutes=7 * n),
        crawled_at=START, experience=experience, author_followers=n,
    )  # fmt: skip


def rollup_is_exact(path: Path) -> bool:
    """The rollup equals a count of the mentions themselves, key by key."""
    db = sqlite3.connect(path)
    try:
        kept = db.execute(
            "SELECT brand, slot, experience, source, lang, n, reach, reach_unknown FROM rollup WHERE n != 0 "
            "ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
        counted = db.execute(
            "SELECT brand, published_ms - published_ms % 900000 AS slot, coalesce(experience, ''), source, "
            "coalesce(lang, ''), count(*), sum(coalesce(followers, 0)), sum(followers IS NULL) FROM mentions "
            "WHERE published_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
        days = db.execute(
            "SELECT brand, slot, experience, n, reach, reach_unknown FROM rollup_day WHERE n != 0 ORDER BY 1, 2, 3"
        ).fetchall()
        counted_days = db.execute(
            "SELECT brand, published_ms - published_ms % 86400000 AS slot, coalesce(experience, ''), count(*), "
            "sum(coalesce(followers, 0)), sum(followers IS NULL) FROM mentions WHERE published_ms IS NOT NULL "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        return kept == counted and days == counted_days and integrity == "ok"
    finally:
        db.close()


def test_finnish_search_finds_other_cases_of_the_word(tmp_path: Path) -> None:
    store = SQLiteMentionStore(tmp_path / "m.sqlite3")
    texts = ["Aamiaisella oli kylmää kahvia", "Aamiaisen jälkeen lähdimme", "Aamiainen oli hyvä", "Huone oli siisti"]
    texts += ["Emme saaneet aamiaista", "Hotellista oli lyhyt matka"]
    store.write([mention(n, text) for n, text in enumerate(texts)])
    for query in ("aamiainen", "aamiaisella", "Aamiaisen", "aamiaista"):  # the partitive too
        found = store.search(MentionFilters(q=query, lang="fi"), size=10)
        assert found.count == 4, query
    assert store.search(MentionFilters(q="hotelli", lang="fi"), size=10).count == 1  # its elative, "hotellista"
    assert store.search(MentionFilters(q="hyva"), size=10).count == 1  # typed without the accent
    assert stemmed_text("Aamiainen aamiaisella", "fi").split() == ["aamiais", "aamiais"]


def test_malformed_dedup_bands_fail_that_mention_only(tmp_path: Path) -> None:
    store = SQLiteMentionStore(tmp_path / "m.sqlite3")
    good = [f"{b:02d}:{b:012x}" for b in range(32)]
    malformed = (
        ["0:75f3a9c21e4b0"],  # the colon out of place
        ["07:5f3a9c21e4b0 08:5f3a9c21e4b0", ""],  # two bands in one string
        ["07:5f3a9c21e4b0", "08:5F3A9C21E4B0"],  # not lowercase hex
        ["07:5f3a9c21e4b0\n"],
    )
    batch = [mention(0).model_copy(update={"dedup_bands": good})]
    batch += [mention(n + 1).model_copy(update={"dedup_bands": bands}) for n, bands in enumerate(malformed)]
    report = store.write(batch)
    assert report.indexed == 1
    assert [mention_id for mention_id, _ in report.failed] == [m.id for m in batch[1:]]
    assert store.get(batch[0].id) is not None and store.get(batch[1].id) is None
    found = store.near_duplicate_candidates({"new": good[:1]}, limit=5)["new"]
    assert [candidate.id for candidate in found] == [batch[0].id]


def _writer(path: str, worker: int, rounds: int) -> None:
    store = SQLiteMentionStore(path)
    for r in range(rounds):
        # Every worker rewrites the same 200 ids with its own class: rewrites race with each other.
        experience = ("anger", "comfort", "delight")[(worker + r) % 3]
        store.write([mention(n, experience=experience) for n in range(r * 10, r * 10 + 200)])
    store.close()


def test_several_processes_write_at_once_and_counts_stay_exact(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    SQLiteMentionStore(path).ensure_ready()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(path), w, 8)) for w in range(3)]
    for worker in workers:
        worker.start()
    reader = SQLiteMentionStore(path)
    while any(w.is_alive() for w in workers):
        reader.search(MentionFilters(brand="a"), size=5)  # readers go on while others write
        time.sleep(0.05)
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    assert reader.count(Selection()) == 270  # ids 0..269, each once however often rewritten
    assert rollup_is_exact(path)


def _write_forever(path: str) -> None:
    store = SQLiteMentionStore(path)
    n = 0
    while True:
        store.write([mention(i, experience=("anger", "delight")[n % 2]) for i in range(n * 50, n * 50 + 2000)])
        n += 1


def test_kill_9_mid_batch_commits_nothing_half(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    SQLiteMentionStore(path).ensure_ready()
    process = multiprocessing.get_context("spawn").Process(target=_write_forever, args=(str(path),))
    process.start()
    deadline = time.monotonic() + 60
    store = SQLiteMentionStore(path)
    while store.count(Selection()) < 2500 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # most likely inside a batch: a 2,000-mention batch takes ~0.1-0.3 s
    process.join()
    count = store.count(Selection())
    assert count >= 2500 and (count - 2000) % 50 == 0  # whole batches only
    assert rollup_is_exact(path)


def test_online_backup_is_a_consistent_store(tmp_path: Path) -> None:
    store = SQLiteMentionStore(tmp_path / "m.sqlite3")
    store.write([mention(n) for n in range(300)])
    store.backup(tmp_path / "copy" / "backup.sqlite3")
    copy = SQLiteMentionStore(tmp_path / "copy" / "backup.sqlite3")
    assert copy.count(Selection()) == 300
    assert copy.search(MentionFilters(q="palvelu"), size=1).count == 300
    assert rollup_is_exact(tmp_path / "copy" / "backup.sqlite3")


def test_a_store_of_schema_1_loses_its_per_row_triggers_and_counts_each_mention_once(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    SQLiteMentionStore(path).ensure_ready()
    with sqlite3.connect(path) as db:  # schema 1 added every new row to the rollup by this trigger
        db.execute(
            "CREATE TRIGGER mentions_rollup_insert AFTER INSERT ON mentions BEGIN UPDATE rollup SET n = n + 1000; END"
        )
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.close()
    store = SQLiteMentionStore(path)
    store.write([mention(n) for n in range(20)])
    store.write([mention(n, experience="anger") for n in range(10)])  # rewrites move their counts
    assert rollup_is_exact(path)
    assert store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)


def test_a_store_of_schema_2_loses_its_time_index_and_learns_its_brands(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    SQLiteMentionStore(path).write([mention(n).model_copy(update={"brand": f"brand{n % 3}"}) for n in range(30)])
    with sqlite3.connect(path) as db:  # schema 2 had a time index and no list of brands
        db.execute("CREATE INDEX mentions_time ON mentions (published_ms DESC, id)")
        db.execute("DELETE FROM brands")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.close()
    store = SQLiteMentionStore(path)
    assert store.db.execute("SELECT name FROM sqlite_master WHERE name = 'mentions_time'").fetchall() == []
    assert store._brand_walks(MentionFilters()) == ("brand0", "brand1", "brand2")
    newest = [m["id"] for m in store.export(MentionFilters())]
    assert len(newest) == 30 == len(set(newest))  # every brand's mentions in the pages of no brand


@pytest.mark.parametrize("old_text_index", [False, True])
def test_text_queries_filter_by_brand_with_and_without_the_brand_in_the_text_index(
    tmp_path: Path, old_text_index: bool
) -> None:
    path = tmp_path / "m.sqlite3"
    if old_text_index:  # a file made before the text index held the brand
        with sqlite3.connect(path) as db:
            db.execute("CREATE VIRTUAL TABLE mention_text USING fts5 (plain, stemmed, tokenize = 'unicode61')")
        db.close()
    store = SQLiteMentionStore(path)
    odd = "Kide & Co. ä"  # any characters: the brand is one token in the index
    store.write([mention(n).model_copy(update={"brand": odd}) if n % 3 == 0 else mention(n) for n in range(30)])
    assert store.search(MentionFilters(brand=odd, q="palvelu"), size=50).count == 10
    assert store.search(MentionFilters(brand="a", q="palvelu OR hyvä"), size=50).count == 10
    assert store.search(MentionFilters(brands=("a", odd), q="palvelu"), size=50).count == 20
    assert store.search(MentionFilters(brand="b", brands=("a",), q="palvelu"), size=50).count == 0
    ranked = store.search(MentionFilters(brand=odd, q="palvelu"), size=50, sort="relevance")
    assert {item["brand"] for item in ranked.data} == {odd} and ranked.count == 10
