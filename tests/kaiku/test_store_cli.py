"""`kaiku store info | backup | copy` as a user runs them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from core.mention import Mention, mention_id
from core.settings import get_settings
from indexer.es_store import ElasticsearchMentionStore
from indexer.queries import MentionFilters
from indexer.sqlite_store import SQLiteMentionStore
from indexer.store import Selection
from kaiku.local_engine import LocalEngine

START = datetime(2026, 11, 1, tzinfo=UTC)


def mention(n: int) -> Mention:
    return Mention(
        id=mention_id("reviews", f"https://r.example/{n}"), brand="revontuli", source="reviews",
        url=f"https://r.example/{n}", text=f"Aamiainen oli hyvä {n}", lang="fi",
        published_at=START + timedelta(hours=n), crawled_at=START, experience="delight",
        dedup_bands=[f"01:{n:012x}"],
    )  # fmt: skip


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KAIKU_ELASTICSEARCH_URL", raising=False)

    def invoke(*args: str):
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args))

    yield invoke
    get_settings.cache_clear()


@pytest.mark.integration
def test_info_and_backup_of_the_embedded_default(run, tmp_path: Path) -> None:
    SQLiteMentionStore(tmp_path / "data" / "mentions.sqlite3").write([mention(n) for n in range(30)])
    result = run("store", "info")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("sqlite (") and "30 mentions" in result.output
    assert run("store", "backup", str(tmp_path / "b.sqlite3")).exit_code == 0
    assert SQLiteMentionStore(tmp_path / "b.sqlite3").count(Selection()) == 30
    again = run("store", "backup", str(tmp_path / "b.sqlite3"))
    assert again.exit_code == 2 and "exists" in again.output


@pytest.mark.integration
def test_copy_embedded_to_elasticsearch_and_back(run, tmp_path: Path, engine: LocalEngine, alias: str) -> None:
    source = tmp_path / "source.sqlite3"
    SQLiteMentionStore(source).write([mention(n) for n in range(25)])
    result = run("store", "copy", "--from", str(source), "--to", engine.url, "--alias", alias, "--batch", "10")
    assert result.exit_code == 0, result.output
    assert "copied 25 of 25 mentions, 0 failed" in result.output
    es = ElasticsearchMentionStore.connect(engine.url, alias)
    assert es.count(Selection()) == 25 and es.get(mention(3).id) == SQLiteMentionStore(source).get(mention(3).id)
    back = tmp_path / "back.sqlite3"
    assert run("store", "copy", "--from", engine.url, "--to", str(back), "--alias", alias).exit_code == 0
    copy = SQLiteMentionStore(back)
    assert copy.count(Selection()) == 25
    assert copy.search(MentionFilters(q="aamiaisella", lang="fi"), size=1).count == 25  # stems rebuilt
    assert copy.near_duplicate_candidates({"x": ["01:000000000004"]}, 5)["x"][0].id == mention(4).id  # bands too


@pytest.mark.unit
def test_copy_from_a_missing_file_is_a_message(run, tmp_path: Path) -> None:
    result = run("store", "copy", "--from", str(tmp_path / "nope.sqlite3"), "--to", str(tmp_path / "x.sqlite3"))
    assert result.exit_code == 2 and "no embedded store" in result.output
