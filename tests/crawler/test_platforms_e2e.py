"""Every platform spider end to end: Scrapy against a loopback fake of the platform's API (platform_fakes.py)
serving recorded responses, through the real pipelines, with the keyword classifier and a collecting writer.

The same scenarios run for every source: paging through everything, an incremental re-run that fetches
nothing new, a re-run that fetches only the one new post, a 429 that a retry gets past, a 429 that fails
the run without advancing its state, and a broken payload that is counted and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.platform_fakes import (
    AppStore,
    Bluesky,
    FakeServer,
    HackerNews,
    Mastodon,
    Platform,
    Reddit,
    Rss,
    YouTube,
    fixture,
    serve,
)
from bench.stand_ins import CollectingWriter, KeywordClassifier
from core.config import KaikuConfig, Source, source_of
from crawler.context import CrawlContext
from crawler.errors import CrawlerError
from crawler.runner import CrawlSummary, run_crawl

pytestmark = pytest.mark.integration


@dataclass
class Case:
    make: Callable[[], Platform]
    source: Callable[[str], dict[str, Any]]  # base URL -> Source fields
    items: int  # mentions a first crawl indexes
    requests: int  # API requests of a first crawl (robots.txt not counted)
    state_key: Callable[[str], str]  # base URL -> the one query's state key
    settings: dict[str, Any] = field(default_factory=dict)
    broken: bytes = b""  # a body in the right content type that is not the documented payload


CASES = {
    "rss": Case(
        Rss,
        lambda url: {"start_urls": [f"{url}/matkailu/feed"]},
        items=2,
        requests=1,
        state_key=lambda url: f"{url}/matkailu/feed",
        broken=b"<html><body><h1>503 Service Unavailable</h1></body></html>",
    ),
    "mastodon": Case(
        Mastodon,
        lambda url: {"base_url": url, "hashtags": ["#revontuli"]},
        items=3,
        requests=4,
        state_key=lambda url: "tag:revontuli",
    ),
    "bluesky": Case(
        Bluesky,
        lambda url: {"base_url": url, "queries": ["tunturi OR revontuli"]},
        items=5,
        requests=4,
        state_key=lambda url: "tunturi OR revontuli",
        settings={"KAIKU_BLUESKY_TOKEN": Bluesky.token},
    ),
    "reddit": Case(
        Reddit,
        lambda url: {"base_url": url, "queries": ["revontuli"]},
        items=3,
        requests=2,
        state_key=lambda url: "revontuli",
    ),
    "hackernews": Case(
        HackerNews,
        lambda url: {"base_url": url, "queries": ["tunturi"]},
        items=3,
        requests=2,
        state_key=lambda url: "tunturi",
    ),
    "appstore": Case(
        AppStore,
        lambda url: {"base_url": url, "app_ids": ["1234567890"], "countries": ["fi"], "brands": ["revontuli"]},
        items=3,
        requests=3,
        state_key=lambda url: "fi/1234567890",
    ),
    "youtube": Case(
        YouTube,
        lambda url: {"base_url": url, "video_ids": ["dQw4w9WgXcQ"], "queries": ["revontuli"]},
        items=3,
        requests=2,
        state_key=lambda url: "dQw4w9WgXcQ:revontuli",
        settings={"KAIKU_YOUTUBE_API_KEY": YouTube.key},
    ),
}
for case in CASES.values():
    case.broken = case.broken or b'{"kind": "Listing", "data": {"children": [{"kind": "t3", "da'


@dataclass
class Run:
    platform: Platform
    server: FakeServer
    source: Source
    state_path: Path
    case: Case
    brands: list
    writers: list[CollectingWriter] = field(default_factory=list)

    def crawl(self, **settings: Any) -> tuple[CrawlSummary, CollectingWriter]:
        writer = CollectingWriter()
        extra = {"KAIKU_STATE_PATH": str(self.state_path), **self.case.settings, **settings}
        summary = run_crawl(
            self.source,
            CrawlContext(self.brands, KeywordClassifier(), writer),
            extra_settings=extra,
            allow_private_urls=True,
        )
        self.writers.append(writer)
        return summary, writer

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text()) if self.state_path.exists() else {}


@pytest.fixture(params=sorted(CASES))
def run(request: pytest.FixtureRequest, tmp_path: Path, kaiku_config: KaikuConfig) -> Iterator[Run]:
    name = request.param
    case = CASES[name]
    platform = case.make()
    server, stop = serve(platform.handle)
    source = source_of(id=f"test-{name}", spider=name, **case.source(server.url))
    yield Run(platform, server, source, tmp_path / "state.json", case, kaiku_config.brands)
    stop()


def test_a_first_crawl_pages_through_everything(run: Run) -> None:
    summary, writer = run.crawl()
    assert summary.finish_reason == "finished" and summary.ok, summary.format()
    assert len(run.server.api_requests()) == run.case.requests
    assert summary.pages == run.case.requests  # every response was read
    assert summary.indexed == len(writer.mentions) == run.case.items
    assert len({m.id for m in writer.mentions}) == run.case.items
    assert {m.source for m in writer.mentions} == {run.source.spider}
    assert all(m.url.startswith("https://") and m.author and m.published_at for m in writer.mentions)
    assert summary.errors == {}
    newest = max(m.published_at for m in writer.mentions)
    assert list(run.state()) == [f"{run.source.id}\x1f{run.case.state_key(run.server.url)}"]
    saved = next(iter(run.state().values()))["newest"]
    assert saved >= newest.timestamp() if isinstance(saved, float) else saved > 10**9


def test_a_rerun_of_an_unchanged_source_adds_nothing(run: Run) -> None:
    first, _ = run.crawl()
    state = run.state()
    assert state and first.stats["kaiku/state/saved"] == len(state)
    before = len(run.server.api_requests())
    second, writer = run.crawl()
    assert writer.mentions == [] and second.indexed == 0
    assert len(run.server.api_requests()) - before == 1  # one request per query finds nothing newer
    assert run.state() == state


def test_a_rerun_fetches_only_the_new_post(run: Run) -> None:
    run.crawl()
    run.platform.add_newer()
    second, writer = run.crawl()
    assert len(writer.mentions) == 1, second.format()
    newest = writer.mentions[0]
    assert newest.id not in {m.id for m in run.writers[0].mentions}
    assert newest.published_at is not None and newest.published_at.isoformat() >= "2025-03-05"


def test_a_429_is_retried_and_the_crawl_completes(run: Run) -> None:
    run.server.script.append((429, {"Retry-After": "0"}, b'{"error": "rate limited"}'))
    summary, writer = run.crawl(RETRY_TIMES=1)
    assert summary.stats["downloader/response_status_count/429"] == summary.stats["retry/count"] == 1
    assert len(writer.mentions) == run.case.items and summary.errors == {}


def test_a_429_past_the_retries_is_counted_and_leaves_the_state(run: Run) -> None:
    run.server.script.extend([(429, {}, b"{}")] * 2)
    summary, writer = run.crawl(RETRY_TIMES=1)
    assert summary.errors == {"http_429": 1}
    assert writer.mentions == []
    assert run.state() == {}  # the next run asks for the same range again
    _, again = run.crawl()
    assert len(again.mentions) == run.case.items


def test_a_broken_payload_is_counted_skipped_and_retried_next_run(run: Run) -> None:
    run.server.script.append((200, {}, run.case.broken))
    summary, writer = run.crawl()
    assert summary.finish_reason == "finished"
    assert summary.skipped.get("malformed_payload") == 1, summary.format()
    assert writer.mentions == [] and run.state() == {}
    _, again = run.crawl()
    assert len(again.mentions) == run.case.items


# --- what only one platform does ------------------------------------------------------------------------------


@pytest.fixture
def serving() -> Iterator[Callable[[Platform], FakeServer]]:
    stops: list[Callable[[], None]] = []

    def start(platform: Platform) -> FakeServer:
        server, stop = serve(platform.handle)
        stops.append(stop)
        return server

    yield start
    for stop in stops:
        stop()


def crawl(source: Source, brands: list, tmp_path: Path, **settings: Any) -> tuple[CrawlSummary, CollectingWriter]:
    writer = CollectingWriter()
    extra = {"KAIKU_STATE_PATH": str(tmp_path / "state.json"), **settings}
    return run_crawl(
        source, CrawlContext(brands, KeywordClassifier(), writer), extra_settings=extra, allow_private_urls=True
    ), writer


def test_mastodon_search_needs_a_token_and_pages_by_max_id(serving, tmp_path: Path, kaiku_config) -> None:
    server = serving(Mastodon())
    source = source_of(id="m", spider="mastodon", base_url=server.url, queries=["Revontuli Hotels"])
    with pytest.raises(CrawlerError, match="KAIKU_MASTODON_TOKEN"):
        crawl(source, kaiku_config.brands, tmp_path)
    assert server.requests == []
    summary, writer = crawl(source, kaiku_config.brands, tmp_path, KAIKU_MASTODON_TOKEN=Mastodon.token)
    assert len(writer.mentions) == 3
    assert [r.params.get("max_id") for r in server.api_requests()] == [
        None,
        "113456789012345670",
        "113456789012345650",
        "113456789012345640",
    ]
    by_author = {m.author: m for m in writer.mentions}
    assert by_author["tom@social.example"].title == "hotel rant" and by_author["tom@social.example"].lang == "en"
    assert "<" not in by_author["liisa"].text and "aivan ihana" in by_author["liisa"].text
    assert by_author["liisa"].engagement.model_dump() == {"likes": 7, "replies": 2, "shares": 1}
    assert by_author["liisa"].author_followers == 312


def test_mastodon_keeps_since_id_on_the_link_header_pages(serving, tmp_path: Path, kaiku_config) -> None:
    platform = Mastodon()
    server = serving(platform)
    source = source_of(id="m", spider="mastodon", base_url=server.url, hashtags=["revontuli"])
    crawl(source, kaiku_config.brands, tmp_path)
    platform.add_newer()
    count = len(server.api_requests())
    crawl(source, kaiku_config.brands, tmp_path)
    second = server.api_requests()[count:]
    assert [r.params.get("since_id") for r in second] == ["113456789012345680"] * 2
    assert second[1].params["max_id"] == "113456789012345780"  # followed from the Link header


def test_bluesky_requeries_with_until_when_the_cursor_dies(serving, tmp_path: Path, kaiku_config) -> None:
    server = serving(Bluesky())
    source = source_of(id="b", spider="bluesky", base_url=server.url, queries=["tunturi"])
    with pytest.raises(CrawlerError, match="KAIKU_BLUESKY_TOKEN"):
        crawl(source, kaiku_config.brands, tmp_path)
    summary, writer = crawl(source, kaiku_config.brands, tmp_path, KAIKU_BLUESKY_TOKEN=Bluesky.token)
    asked = [(r.params.get("cursor"), r.params.get("until")) for r in server.api_requests()]
    assert asked == [
        (None, None),
        ("2", None),  # the cursor, once
        (None, "2025-03-02T12:00:00Z"),  # then it died: until = the oldest post of that page
        (None, "2025-02-28T07:00:00Z"),  # an empty page ends the walk
    ]
    assert summary.stats["kaiku/bluesky/requeried_until"] == 2
    url = {m.author: m.url for m in writer.mentions}["nordictraveller.example.com"]
    assert url == "https://bsky.app/profile/nordictraveller.example.com/post/3lj9zzb5abc2k"


def test_reddit_gets_an_oauth_token_first_when_configured(serving, tmp_path: Path, kaiku_config) -> None:
    server = serving(Reddit(oauth=True))
    source = source_of(
        id="r",
        spider="reddit",
        base_url=server.url,
        token_url=f"{server.url}/api/v1/access_token",
        queries=["revontuli"],
        subreddits=["Finland"],
    )
    with pytest.raises(CrawlerError, match="KAIKU_REDDIT_CLIENT_SECRET"):
        crawl(source, kaiku_config.brands, tmp_path, KAIKU_REDDIT_CLIENT_ID="app")
    summary, writer = crawl(
        source, kaiku_config.brands, tmp_path, KAIKU_REDDIT_CLIENT_ID="app", KAIKU_REDDIT_CLIENT_SECRET="s3cret"
    )
    token, *searches = server.api_requests()
    assert (token.method, token.path, token.body) == ("POST", "/api/v1/access_token", b"grant_type=client_credentials")
    assert {r.path for r in searches} == {"/r/Finland/search.json"}
    assert all(r.params["restrict_sr"] == "on" and r.params["sort"] == "new" for r in searches)
    assert len(writer.mentions) == 3 and summary.errors == {}
    state = json.loads((tmp_path / "state.json").read_text())
    assert list(state) == ["r\x1fr/Finland:revontuli"]


def test_hackernews_asks_only_for_what_is_newer_on_a_rerun(serving, tmp_path: Path, kaiku_config) -> None:
    server = serving(HackerNews())
    source = source_of(id="h", spider="hackernews", base_url=server.url, queries=["tunturi"], tags=["comment", "story"])
    crawl(source, kaiku_config.brands, tmp_path)
    crawl(source, kaiku_config.brands, tmp_path)
    first, *_, last = server.api_requests()
    assert first.params["tags"] == "(comment,story)" and "numericFilters" not in first.params
    assert last.params["numericFilters"] == "created_at_i>1741069800"


def test_appstore_reviews_are_about_the_one_brand_of_their_source(serving, tmp_path: Path, kaiku_config) -> None:
    platform = AppStore()
    platform.add_newer()  # five reviews: the third page holds one, which Apple sends as an object, not a list
    server = serving(platform)
    source = source_of(id="a", spider="appstore", base_url=server.url, app_ids=["1234567890"], countries=["fi"])
    summary, writer = crawl(source, kaiku_config.brands, tmp_path)
    assert len(server.api_requests()) == 4 and summary.stats["kaiku/reviews"] == 4
    assert [m.text.split(".")[0] for m in writer.mentions] == ["Sovellus kaatuu aina kun yritän varata huoneen"] * 2
    narrowed = source.model_copy(update={"brands": ["revontuli"]})
    _, writer = crawl(narrowed, kaiku_config.brands, tmp_path / "other")
    assert len(writer.mentions) == 4 and {m.brand for m in writer.mentions} == {"revontuli"}
    assert sorted(m.rating for m in writer.mentions) == [1.0, 1.0, 3.0, 5.0]
    assert all(m.rating_max == 5.0 for m in writer.mentions)


def test_youtube_sends_the_key_in_a_header_not_the_url(serving, tmp_path: Path, kaiku_config) -> None:
    server = serving(YouTube())
    source = source_of(id="y", spider="youtube", base_url=server.url, video_ids=["dQw4w9WgXcQ"])
    with pytest.raises(CrawlerError, match="KAIKU_YOUTUBE_API_KEY"):
        crawl(source, kaiku_config.brands, tmp_path)
    summary, writer = crawl(source, kaiku_config.brands, tmp_path, KAIKU_YOUTUBE_API_KEY=YouTube.key)
    assert all("key" not in r.params and r.headers["x-goog-api-key"] == YouTube.key for r in server.api_requests())
    assert [r.params.get("pageToken") for r in server.api_requests()] == [None, "tok2"]
    assert summary.skipped == {"bad_post": 1} and len(writer.mentions) == 3


def test_google_alerts_links_are_unwrapped(serving, tmp_path: Path, kaiku_config) -> None:
    class Alerts(Rss):
        def handle(self, seen, base):
            return 200, {"Content-Type": "application/atom+xml"}, fixture("google_alerts.xml")

    server = serving(Alerts())
    source = source_of(id="g", spider="rss", start_urls=[f"{server.url}/alerts/feeds/1/2"])
    _, writer = crawl(source, kaiku_config.brands, tmp_path)
    assert sorted(m.url for m in writer.mentions) == [
        "https://blog.example/posts/never-again",
        "https://travelnews.example/2025/03/best-nordic-chain",
    ]
    assert all("<b>" not in m.text and m.brand == "revontuli" for m in writer.mentions)


def test_an_rss_1_0_feed_is_read_end_to_end(serving, tmp_path: Path, kaiku_config) -> None:
    class RdfFeed(Rss):
        def handle(self, seen, base):
            return 200, {"Content-Type": "application/rdf+xml; charset=utf-8"}, fixture("rss1_feed.rdf")

    server = serving(RdfFeed())
    source = source_of(id="rdf", spider="rss", start_urls=[f"{server.url}/rss/matkailu.rdf"])
    summary, writer = crawl(source, kaiku_config.brands, tmp_path)
    assert sorted((m.url, m.brand) for m in writer.mentions) == [
        ("https://ilmoitukset.example/a/8812", "tunturi"),  # Google Alerts redirect unwrapped
        ("https://lehti.example/matkailu/2025/03/revontuli-rovaniemi", "revontuli"),
        ("https://lehti.example/matkailu/2025/03/tunturi-kesa", "tunturi"),
    ]
    assert summary.skipped == {"no_text": 1} and summary.errors == {} and summary.ok
    state = json.loads((tmp_path / "state.json").read_text())
    newest = max(m.published_at for m in writer.mentions if m.published_at)
    assert state[f"rdf\x1f{server.url}/rss/matkailu.rdf"]["newest"] == newest.timestamp()


def test_bluesky_logs_in_with_an_app_password(serving, tmp_path: Path, kaiku_config) -> None:
    server = serving(Bluesky())
    source = source_of(id="b", spider="bluesky", base_url=server.url, queries=["tunturi"])
    with pytest.raises(CrawlerError, match="KAIKU_BLUESKY_APP_PASSWORD"):
        crawl(source, kaiku_config.brands, tmp_path, KAIKU_BLUESKY_HANDLE="kaiku.bsky.social")
    login = {"KAIKU_BLUESKY_HANDLE": "kaiku.bsky.social", "KAIKU_BLUESKY_APP_PASSWORD": "wrong"}
    summary, writer = crawl(source, kaiku_config.brands, tmp_path, **login)
    assert summary.errors == {"http_401": 1, "login": 1} and writer.mentions == []
    assert not (tmp_path / "state.json").exists()
    login["KAIKU_BLUESKY_APP_PASSWORD"] = "app-pass-word"
    summary, writer = crawl(source, kaiku_config.brands, tmp_path, **login)
    assert server.api_requests()[-5].path == "/xrpc/com.atproto.server.createSession"
    assert len(writer.mentions) == 5 and summary.errors == {}


def test_an_unchanged_feed_answers_304_to_its_etag(serving, tmp_path: Path, kaiku_config) -> None:
    platform = Rss()
    server = serving(platform)
    source = source_of(id="f", spider="rss", start_urls=[f"{server.url}/matkailu/feed"])
    crawl(source, kaiku_config.brands, tmp_path)
    summary, writer = crawl(source, kaiku_config.brands, tmp_path)
    first, second = server.api_requests()
    assert "if-none-match" not in first.headers and second.headers["if-none-match"] == '"feed-v0"'
    assert summary.stats["kaiku/skipped/not_modified"] == 1 and writer.mentions == [] and summary.ok
    platform.add_newer()
    summary, writer = crawl(source, kaiku_config.brands, tmp_path)
    assert len(writer.mentions) == 1 and summary.stats.get("kaiku/skipped/not_modified") is None
    state = json.loads((tmp_path / "state.json").read_text())
    assert state[f"f\x1f{server.url}/matkailu/feed"]["etag"] == '"feed-v1"'


def test_a_parser_bug_is_counted_and_fails_only_its_query(serving, tmp_path: Path, kaiku_config, monkeypatch) -> None:
    from crawler.spiders.hackernews import HackerNewsSpider

    def parse_response(self, response):
        if "broken" in response.url:
            raise RuntimeError("a bug")
        return HackerNewsSpider.__mro__[1].parse_response(self, response)

    monkeypatch.setattr(HackerNewsSpider, "parse_response", parse_response)
    server = serving(HackerNews())
    source = source_of(id="h", spider="hackernews", base_url=server.url, queries=["tunturi", "broken"])
    summary, writer = crawl(source, kaiku_config.brands, tmp_path)
    assert summary.skipped["extract_error"] == 1 and summary.finish_reason == "finished"
    assert len(writer.mentions) == 3
    assert list(json.loads((tmp_path / "state.json").read_text())) == ["h\x1ftunturi"]


def test_youtube_reads_a_whole_channel(serving, tmp_path: Path, kaiku_config) -> None:
    server = serving(YouTube())
    source = source_of(id="y", spider="youtube", base_url=server.url, channel_ids=["UCxyz0000000000000000000"])
    summary, writer = crawl(source, kaiku_config.brands, tmp_path, KAIKU_YOUTUBE_API_KEY=YouTube.key)
    assert {r.params["allThreadsRelatedToChannelId"] for r in server.api_requests()} == {"UCxyz0000000000000000000"}
    assert all("videoId" not in r.params for r in server.api_requests())
    # The thread without a video id (a comment on the channel itself) is read too, linked to the channel.
    assert len(writer.mentions) == 4 and summary.errors == {} and "bad_post" not in summary.skipped
    assert [m.url for m in writer.mentions if "watch?v=" not in m.url] == [
        "https://www.youtube.com/channel/UCxyz0000000000000000000"
    ]
    assert list(json.loads((tmp_path / "state.json").read_text())) == ["y\x1fchannel/UCxyz0000000000000000000:*"]
