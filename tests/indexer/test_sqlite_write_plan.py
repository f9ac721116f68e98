"""The embedded store's batch write costs what the batch holds, not what the store holds (bench/end_to_end.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.mention import Mention, mention_id
from indexer.sqlite_store import _ADD_NEW_TO_ROLLUPS, SQLiteMentionStore

pytestmark = pytest.mark.integration


def test_the_rollups_read_only_the_rows_a_batch_added(tmp_path: Path) -> None:
    # With a covering index on every rollup column, SQLite's planner preferred scanning that whole index (every
    # stored mention, for every batch) to seeking the new rowids: a crawl slowed down as the store grew.
    store = SQLiteMentionStore(tmp_path / "mentions.sqlite3")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    store.write([
        Mention(id=mention_id("plan", str(n)), brand="revontuli", source="reviews", url=f"https://x.example/{n}",
                text=f"Arvio {n}", lang="fi", published_at=start + timedelta(hours=n), crawled_at=start)
        for n in range(200)
    ])  # fmt: skip
    for statement in _ADD_NEW_TO_ROLLUPS:
        plan = " / ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {statement}", (150,)))
        assert "INTEGER PRIMARY KEY (rowid>?)" in plan, plan
    with sqlite3.connect(tmp_path / "mentions.sqlite3") as db:  # and the counts stay exact
        assert db.execute("SELECT sum(n) FROM rollup").fetchone()[0] == 200
        assert db.execute("SELECT sum(n) FROM rollup_day").fetchone()[0] == 200
