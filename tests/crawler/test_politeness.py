"""Politeness and bad input, through whole Scrapy crawls against a local HTTP server with scripted answers.

The server answers each path from a list of scripted responses, one per request (the last one repeats), so a
test can serve "429 with Retry-After, then 200" and count what the crawler asked for.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.stand_ins import CollectingWriter, KeywordClassifier
from core.config import KaikuConfig, source_of
from crawler.context import CrawlContext
from crawler.middlewares import retry_after_seconds
from crawler.politeness import budget_for
from crawler.runner import crawl_settings, run_crawl
from crawler.spiders.mastodon import MastodonSpider
from crawler.spiders.reddit import RedditSpider
from crawler.spiders.youtube import YouTubeSpider

# Short backoff so tests are quick; a small DOWNLOAD_MAXSIZE so "oversized" needs only 80 kB.
FAST = {"KAIKU_BACKOFF_BASE": 0.05, "KAIKU_DETECT_LANGUAGE": False, "DOWNLOAD_MAXSIZE": 50_000}


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    content_length: int | None = None  # announce a different length than sent (truncation)
    delay_s: float = 0.0  # answer this much later (a slow site)


def review_html(text: str, hotel: str = "Tunturi Inn Ylläs") -> str:
    data = {"@type": "Review", "itemReviewed": {"@type": "Hotel", "name": hotel}, "reviewBody": text}
    script = json.dumps(data, ensure_ascii=False)
    return f'<html><head><script type="application/ld+json">{script}</script></head><body></body></html>'


class ScriptedSite:
    def __init__(self, routes: dict[str, list[Answer]]) -> None:
        self.routes = routes
        self.hits: dict[str, list[float]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site.hits.setdefault(self.path, []).append(time.monotonic())
                answers = site.routes.get(self.path) or [Answer(404, b"not found")]
                answer = answers[min(len(site.hits[self.path]) - 1, len(answers) - 1)]
                time.sleep(answer.delay_s)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                length = answer.content_length if answer.content_length is not None else len(answer.body)
                self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer.body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[type[ScriptedSite]]:
    started: list[ScriptedSite] = []

    class Factory(ScriptedSite):
        def __init__(self, routes: dict[str, list[Answer]]) -> None:
            super().__init__(routes)
            started.append(self)

    yield Factory
    for site in started:
        site.stop()


def page(text: str) -> list[Answer]:
    return [Answer(body=review_html(text).encode())]


def crawl(site: ScriptedSite, config: KaikuConfig, start: str = "/", **source_fields):
    source = source_of(id="scripted", spider="reviews", start_urls=[site.url + start], **source_fields)
    writer = CollectingWriter()
    summary = run_crawl(
        source, CrawlContext(config.brands, KeywordClassifier(), writer), extra_settings=FAST, allow_private_urls=True
    )
    return summary, writer


@pytest.mark.unit
def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds(formatdate(1_000_030, usegmt=True), now=1_000_000) == pytest.approx(30, abs=1)
    assert retry_after_seconds(formatdate(999_000, usegmt=True), now=1_000_000) == 0.0  # a date in the past
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


@pytest.mark.integration
def test_429_with_retry_after_is_waited_out_then_the_page_is_read(scripted, kaiku_config: KaikuConfig) -> None:
    site = scripted(
        {
            "/": [
                Answer(429, b"slow down", {"Retry-After": "1", "Content-Type": "text/plain"}),
                Answer(body=review_html("Tunturi Inn oli mukava ja hiljainen paikka.").encode()),
            ]
        }
    )
    summary, writer = crawl(site, kaiku_config)
    assert [m.text for m in writer.mentions] == ["Tunturi Inn oli mukava ja hiljainen paikka."]
    first, second = site.hits["/"]
    assert second - first >= 0.95  # the server's Retry-After, not the 0.05 s backoff
    assert summary.retries == 1 and summary.stats["kaiku/retry/waited_ms"] == 1000
    assert summary.errors == {} and summary.ok
    assert "(1 retries)" in summary.format()


@pytest.mark.integration
def test_retry_after_pauses_the_whole_site_not_just_that_request(scripted, kaiku_config) -> None:
    slow = [f"/p{i}" for i in range(5)]  # each takes 0.2 s: without a pause they would be asked for during the wait
    routes = {
        "/": links_to(*slow, "/busy"),  # Scrapy's queue is last-in first-out: /busy is asked for first
        **{p: [Answer(body=review_html(f"Tunturi Inn {p}.").encode(), delay_s=0.2)] for p in slow},
        "/busy": [Answer(429, b"", {"Retry-After": "1", "Content-Type": "text/plain"}), *page("Tunturi Inn busy.")],
    }
    site = scripted(routes)
    summary, writer = crawl(site, kaiku_config)
    assert len(writer.mentions) == 6 and summary.retries == 1
    asked_at = site.hits["/busy"][0]
    during = [p for p, times in site.hits.items() for t in times if asked_at + 0.1 < t < asked_at + 0.95]
    # Without the pause three or four of the slow pages are asked for in that second. With it, at most the one
    # Scrapy may send in the moment between the 429 leaving the download handler and the middleware seeing it
    # (on a loaded machine that moment can be longer than 0.1 s).
    assert len(during) <= 1, during


@pytest.mark.integration
def test_5xx_without_retry_after_backs_off_exponentially_then_gives_up(scripted, kaiku_config) -> None:
    site = scripted({"/": [Answer(503, b"down", {"Content-Type": "text/plain"})]})
    summary, _ = crawl(site, kaiku_config)
    hits = site.hits["/"]
    assert len(hits) == 3  # RETRY_TIMES = 2
    assert summary.stats["kaiku/retry/waited_ms"] == 50 + 100  # 0.05 s, then 0.1 s
    assert hits[2] - hits[1] >= hits[1] - hits[0] >= 0.045
    assert summary.errors == {"http_503": 1}


@pytest.mark.integration
def test_a_retry_after_longer_than_the_limit_is_not_waited_for(scripted, kaiku_config) -> None:
    site = scripted({"/": [Answer(429, b"", {"Retry-After": "3600", "Content-Type": "text/plain"})]})
    summary, _ = crawl(site, kaiku_config)
    assert len(site.hits["/"]) == 1
    assert summary.errors == {"retry_after_too_long": 1, "http_429": 1}


def links_to(*paths: str) -> list[Answer]:
    return [Answer(body=("<html><body>" + "".join(f'<a href="{p}">x</a>' for p in paths) + "</body></html>").encode())]


@pytest.mark.integration
def test_broken_responses_are_counted_by_reason_and_the_crawl_goes_on(scripted, kaiku_config) -> None:
    latin1 = "Tunturi Innissä oli hyvä sauna ja ystävällinen henkilökunta."
    site = scripted(
        {
            "/": links_to("/big.html", "/cut.html", "/latin1-as-utf8.html", "/utf8-as-latin1.html", "/nul.html", "/ok"),
            "/big.html": [Answer(body=review_html("Tunturi Inn " + "iso " * 20_000).encode())],
            "/cut.html": [Answer(body=b"<html><body>Tunturi Inn", content_length=5000)],
            "/latin1-as-utf8.html": [Answer(body=review_html(latin1).encode("latin-1"))],
            "/utf8-as-latin1.html": [
                Answer(
                    body=review_html("Tunturi Inn: ystävällinen vastaanotto.").encode(),
                    headers={"Content-Type": "text/html; charset=iso-8859-1"},
                )
            ],
            "/nul.html": [Answer(body=b"<html>\x00\x00\x01\x02 Tunturi Inn</html>")],
            "/ok": page("Tunturi Inn, ihan ok."),
        }
    )
    summary, writer = crawl(site, kaiku_config, max_pages=20)
    assert summary.skipped == {
        "oversized": 1,
        "truncated": 1,
        "bad_encoding": 1,
        "binary_body": 1,
        "no_reviews": 1,  # the index page
    }
    assert summary.warnings == {"encoding_repaired": 1}
    texts = sorted(m.text for m in writer.mentions)
    assert texts == ["Tunturi Inn, ihan ok.", "Tunturi Inn: ystävällinen vastaanotto."]  # the repaired one reads right
    assert summary.errors == {} and summary.ok


@pytest.mark.integration
def test_the_request_budget_stops_the_crawl_and_is_counted(scripted, kaiku_config) -> None:
    paths = [f"/r{i}" for i in range(8)]
    site = scripted({"/": links_to(*paths), **{p: page(f"Tunturi Inn arvio {p}.") for p in paths}})
    summary, writer = crawl(site, kaiku_config, max_requests=4)
    assert summary.requests == 4  # robots.txt, the index and two reviews
    assert summary.skipped["request_budget"] == 6
    assert len(writer.mentions) == 2


@pytest.mark.unit
def test_budgets_default_to_the_platform_limit_and_configured_values_win(kaiku_config) -> None:
    assert budget_for(YouTubeSpider.budget).max_requests == 2500
    assert budget_for(MastodonSpider.budget).delay_s == 2.0  # 30 a minute: half the rate of the documented 300 / 5 min
    assert budget_for(RedditSpider.budget, 90, 50).requests_per_minute == 90
    remote = source_of(id="r", spider="reviews", start_urls=["https://reviews.example/"], requests_per_minute=20)
    settings = crawl_settings(remote)
    assert settings.getfloat("DOWNLOAD_DELAY") == 3.0 and settings.getbool("AUTOTHROTTLE_ENABLED")
    local = source_of(id="l", spider="reviews", start_urls=["http://127.0.0.1:1/"])
    assert crawl_settings(local).getfloat("DOWNLOAD_DELAY") == 0


@pytest.mark.unit
@given(
    st.binary(max_size=300) | st.text(max_size=100).map(lambda t: t.encode("utf-8")),
    st.sampled_from(["utf-8", "iso-8859-1", "windows-1252", "utf-16", "shift_jis", "x-unknown", ""]),
)
@settings(max_examples=300, deadline=None)
def test_the_response_check_never_fails_with_anything_but_a_counted_skip(body: bytes, charset: str) -> None:
    from types import SimpleNamespace

    from scrapy.http import HtmlResponse, Request

    from crawler.middlewares import ResponseCheckMiddleware, SkippedResponse
    from tests.crawler.conftest import FakeStats

    middleware = ResponseCheckMiddleware(SimpleNamespace(stats=FakeStats()))  # type: ignore[arg-type]
    content_type = f"text/html; charset={charset}" if charset else "text/html"
    response = HtmlResponse("http://site.test/", body=body, headers={"Content-Type": content_type})
    try:
        out = middleware.process_response(Request("http://site.test/"), response)
    except SkippedResponse as skip:
        assert middleware.crawler.stats.values == {f"kaiku/skipped/{skip.reason}": 1}
        return
    assert isinstance(out.text, str)  # what the spider reads decodes
