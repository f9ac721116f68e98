"""Kaiku's database opened on a file an older version made: what the newer schema adds or replaces is done."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kaiku.db import open_database


def _indexes(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                                               (table,))}  # fmt: skip


def test_an_older_file_gets_the_new_rate_limit_index_and_loses_the_one_it_replaced(tmp_path: Path) -> None:
    path = tmp_path / "kaiku.sqlite3"
    with sqlite3.connect(path) as db:  # the table as Kaiku made it before the covering window index
        db.execute("CREATE TABLE rate_limit_hits (id INTEGER PRIMARY KEY, key VARCHAR(400) NOT NULL, "
                   "amount INTEGER NOT NULL, at FLOAT NOT NULL, expires_at FLOAT NOT NULL)")  # fmt: skip
        db.execute("CREATE INDEX ix_rate_limit_hits_key ON rate_limit_hits (key)")
        db.execute("CREATE INDEX ix_rate_limit_hits_expires_at ON rate_limit_hits (expires_at)")
        db.execute("INSERT INTO rate_limit_hits VALUES (1, 'search/team', 1, 1.0, 61.0)")
    open_database(f"sqlite:///{path}").dispose()
    indexes = _indexes(path, "rate_limit_hits")
    assert "rate_limit_hits_window" in indexes
    assert "ix_rate_limit_hits_expires_at" in indexes
    assert "ix_rate_limit_hits_key" not in indexes  # every request's insert would still write it
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT key, amount FROM rate_limit_hits").fetchall() == [("search/team", 1)]
    open_database(f"sqlite:///{path}").dispose()  # a second open finds nothing to do
    assert _indexes(path, "rate_limit_hits") == indexes


def test_a_new_file_has_no_retired_index(tmp_path: Path) -> None:
    path = tmp_path / "kaiku.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    assert _indexes(path, "rate_limit_hits") == {"rate_limit_hits_window", "ix_rate_limit_hits_expires_at"}
