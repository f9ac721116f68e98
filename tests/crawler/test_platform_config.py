"""Platform sources in sources.yaml: strict per spider, nothing configured silently ignored; and the state file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import ConfigError, load_config, source_of
from core.settings import Settings
from crawler.errors import CrawlerError
from crawler.runner import crawl_settings
from crawler.spiders.platform import credential_settings
from crawler.state import CrawlState

pytestmark = pytest.mark.unit

BRANDS = "brands:\n  - id: alpha\n    name: Alpha\n"


def load_sources(tmp_path: Path, sources: str):
    (tmp_path / "brands.yaml").write_text(BRANDS, encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(f"sources:\n{sources}", encoding="utf-8")
    return load_config(tmp_path).sources


def test_every_platform_source_loads(tmp_path: Path) -> None:
    sources = load_sources(
        tmp_path,
        """
  - {id: feed, spider: rss, start_urls: ["https://www.google.com/alerts/feeds/1/2"]}
  - {id: toot, spider: mastodon, base_url: "https://mastodon.social/", hashtags: [alpha], queries: [Alpha]}
  - {id: sky, spider: bluesky, queries: [Alpha]}
  - {id: red, spider: reddit, queries: [Alpha], subreddits: [Finland]}
  - {id: hn, spider: hackernews, queries: [Alpha], tags: [story]}
  - {id: app, spider: appstore, app_ids: ["1234567890"], countries: [fi, se], brands: [alpha]}
  - {id: yt, spider: youtube, video_ids: [dQw4w9WgXcQ], queries: [Alpha]}
""",
    )
    assert [s.spider for s in sources] == ["rss", "mastodon", "bluesky", "reddit", "hackernews", "appstore", "youtube"]
    assert sources[1].base_url == "https://mastodon.social"  # trailing slash dropped: paths are appended


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{id: s, spider: reddit, queries: [a], hashtags: [b]}", "not used by the reddit spider: hashtags"),
        ("{id: s, spider: rss, start_urls: ['http://x'], max_pages: 3}", "not used by the rss spider: max_pages"),
        ("{id: s, spider: mastodon}", "the mastodon spider needs hashtags or queries"),
        ("{id: s, spider: appstore, app_ids: [abc]}", "app id is a number"),
        ("{id: s, spider: appstore, app_ids: ['1'], countries: [FIN]}", "two-letter lowercase country code"),
        ("{id: s, spider: hackernews, queries: [a], tags: [poll]}", "sources.0.tags.0"),
        ("{id: s, spider: bluesky, queries: ['  ']}", "empty value"),
        ("{id: s, spider: youtube, video_ids: [v], base_url: 'ftp://x'}", "not an http(s) URL"),
        ("{id: s, spider: reviews}", "the reviews spider needs start_urls"),
    ],
)
def test_config_errors_name_the_problem(tmp_path: Path, entry: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_sources(tmp_path, f"  - {entry}\n")
    assert "sources.yaml" in str(info.value) and "sources.0" in str(info.value)
    assert problem in str(info.value)


def test_credentials_and_state_path_come_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KAIKU_YOUTUBE_API_KEY", "k")
    values = credential_settings(Settings())
    assert values["KAIKU_YOUTUBE_API_KEY"] == "k" and values["KAIKU_MASTODON_TOKEN"] is None
    assert values["KAIKU_STATE_PATH"] == str(tmp_path / "crawl-state.json")


def test_politeness_stays_on_for_public_apis() -> None:
    public = source_of(id="hn", spider="hackernews", queries=["a"])
    local = source_of(id="hn", spider="hackernews", queries=["a"], base_url="http://127.0.0.1:9")
    assert crawl_settings(public).getfloat("DOWNLOAD_DELAY") > 0
    assert crawl_settings(local).getfloat("DOWNLOAD_DELAY") == 0


def test_state_keeps_other_entries_and_survives_a_reload(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "sub" / "state.json")
    assert state.get("s", "q") == {}
    state.update("s", {"q": {"newest": 5}})
    state.update("t", {"q": {"newest": 1.5}})
    state.update("s", {})
    assert CrawlState(tmp_path / "sub" / "state.json").get("s", "q") == {"newest": 5}
    assert state.get("t", "q") == {"newest": 1.5}
    assert not list((tmp_path / "sub").glob("*.tmp"))


def test_a_corrupt_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CrawlerError, match="delete it to start over"):
        CrawlState(path).get("s", "q")
    path.write_text(json.dumps([1]), encoding="utf-8")
    with pytest.raises(CrawlerError, match="not a JSON object"):
        CrawlState(path).get("s", "q")
