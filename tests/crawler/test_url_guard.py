"""Configured URLs and crawl requests cannot reach internal addresses or non-web schemes."""

from __future__ import annotations

import ipaddress

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawler.context import CrawlContext
from crawler.url_guard import UnsafeURL, UrlGuardMiddleware, check_url, internal_reason
from tests.crawler.conftest import FakeStats

pytestmark = pytest.mark.unit

PUBLIC = {"reviews.example": ["93.184.216.34"], "dual.example": ["2606:2800:220:1:248:1893:25c8:1946"]}
REBOUND = {"rebind.example": ["93.184.216.34", "10.0.0.7"]}  # one of its addresses is internal


def resolve(host: str) -> list[str]:
    return {**PUBLIC, **REBOUND}.get(host, [])


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("ftp://reviews.example/x", "scheme 'ftp'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "scheme 'gopher'"),
        ("http:///no-host", "has no host"),
        ("https://user:secret@reviews.example/", "carries credentials"),
        ("http://127.0.0.1:9200/_cat/indices", "loopback"),
        ("http://localhost/admin", "localhost"),
        ("http://admin.localhost/", "localhost"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://rebind.example/", "10.0.0.7, a private address"),
    ],
)
def test_unsafe_urls_are_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(UnsafeURL, match=why.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        check_url(url, allow_private=False, resolve=resolve)


@pytest.mark.parametrize("url", ["https://reviews.example/hotel?page=2", "http://dual.example/", "https://8.8.8.8/"])
def test_public_http_urls_pass(url: str) -> None:
    check_url(url, allow_private=False, resolve=resolve)


def test_the_setting_allows_private_addresses_but_never_other_schemes() -> None:
    check_url("http://127.0.0.1:8765/", allow_private=True, resolve=resolve)
    check_url("http://169.254.169.254/", allow_private=True, resolve=resolve)
    with pytest.raises(UnsafeURL, match="scheme"):
        check_url("file:///etc/passwd", allow_private=True, resolve=resolve)


def test_internal_reason_knows_public_from_internal() -> None:
    assert internal_reason("93.184.216.34") is None
    assert internal_reason("100.64.0.1") == "not globally routable"  # carrier-grade NAT
    assert internal_reason("fd00::1") == "private"
    assert internal_reason("fe80::1%eth0") == "link-local"


def test_middleware_drops_and_counts_internal_requests_such_as_redirect_targets() -> None:
    stats = FakeStats()
    guard = UrlGuardMiddleware(allow_private=False, stats=stats)
    guard._resolve = resolve  # type: ignore[method-assign]
    assert guard.process_request(Request("https://reviews.example/page-2")) is None
    with pytest.raises(IgnoreRequest, match="link-local"):
        guard.process_request(Request("http://169.254.169.254/latest/meta-data/"))
    assert stats.values == {"kaiku/skipped/unsafe_url": 1}
    allowing = UrlGuardMiddleware(allow_private=True, stats=stats)
    assert allowing.process_request(Request("http://127.0.0.1:8765/")) is None


@pytest.mark.integration
def test_a_crawl_refuses_an_internal_source_url_before_it_starts(kaiku_config) -> None:
    from core.config import source_of
    from crawler.errors import CrawlerError
    from crawler.runner import run_crawl

    source = source_of(id="metadata", spider="reviews", start_urls=["http://169.254.169.254/latest/meta-data/"])
    with pytest.raises(CrawlerError, match="source metadata: .*link-local"):
        run_crawl(source, CrawlContext(kaiku_config.brands, None, None), allow_private_urls=False)


@pytest.mark.integration
def test_links_and_redirects_to_internal_addresses_are_not_followed(kaiku_config, monkeypatch) -> None:
    """A public site whose page links to, and redirects to, its own host names that resolve to internal
    addresses (the DNS form of the attack, which passes the offsite filter): nothing internal is fetched.

    The test controls the guard's resolver; an HTTP proxy on loopback serves the site and records every request
    that reaches it.
    """
    import http.server
    import threading
    from urllib.parse import urlsplit

    from bench.stand_ins import CollectingWriter, KeywordClassifier
    from core.config import source_of
    from crawler import url_guard
    from crawler.runner import run_crawl

    fetched: list[str] = []

    class SiteAndProxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the base class's name
            fetched.append(self.path)
            if urlsplit(self.path).path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://metadata.site.example/latest/meta-data/")
                self.end_headers()
                return
            body = (
                b'<html><body><a href="/redirect">next</a> <a href="http://admin.site.example/">admin</a>'
                b' <a href="http://lan.site.example/">lan</a></body></html>'
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SiteAndProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{server.server_address[1]}")
    addresses = {
        "site.example": ["93.184.216.34"],
        "admin.site.example": ["127.0.0.1"],
        "lan.site.example": ["10.0.0.7"],
        "metadata.site.example": ["169.254.169.254"],
    }
    monkeypatch.setattr(url_guard, "resolve_host", lambda host: addresses.get(host, []))
    try:
        source = source_of(id="hostile", spider="reviews", start_urls=["http://site.example/"])
        summary = run_crawl(
            source,
            CrawlContext(kaiku_config.brands, KeywordClassifier(), CollectingWriter()),
            extra_settings={"ROBOTSTXT_OBEY": False},
            allow_private_urls=False,
        )
    finally:
        server.shutdown()
    assert sorted(urlsplit(path).path for path in fetched) == ["/", "/redirect"], fetched
    assert all(urlsplit(path).hostname == "site.example" for path in fetched)
    assert summary.skipped["unsafe_url"] == 3  # two links and the redirect target


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://localhost./", "localhost"),
        ("http://localhost.localdomain/", "localhost"),
        ("http://ip6-localhost/", "localhost"),
        ("http://LOCALHOST6/", "localhost"),
        ("http://admin.localhost./", "localhost"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
        ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4 of the metadata service
        ("http://[2002:c0a8:1::]/", "private"),  # 6to4 of 192.168.0.1
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback"),  # Teredo, client 127.0.0.1 (inverted)
        ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", "private"),  # Teredo, client 10.0.0.1
    ],
)
def test_loopback_names_and_ipv4_inside_ipv6_are_refused_without_dns(url: str, why: str) -> None:
    with pytest.raises(UnsafeURL, match=why):
        check_url(url, allow_private=False, resolve=lambda host: [])  # nothing resolves: names alone decide


def test_6to4_and_teredo_of_public_addresses_pass() -> None:
    assert internal_reason("2002:5db8:d822::1") is None  # 6to4 of 93.184.216.34
    assert internal_reason("2001:0:4136:e378:8000:63bf:a247:27cb") is None  # Teredo, client 93.184.216.52


def test_a_response_from_an_internal_address_is_discarded() -> None:
    from scrapy.http import HtmlResponse

    stats = FakeStats()
    guard = UrlGuardMiddleware(allow_private=False, stats=stats)
    request = Request("https://rebind.example/")
    public = HtmlResponse(
        request.url, body=b"<p>ok</p>", request=request, ip_address=ipaddress.ip_address("93.184.216.34")
    )
    assert guard.process_response(request, public) is public
    internal = HtmlResponse(request.url, body=b"<p>x</p>", request=request, ip_address=ipaddress.ip_address("10.0.0.7"))
    with pytest.raises(IgnoreRequest, match="answered from 10.0.0.7, a private address"):
        guard.process_response(request, internal)
    assert stats.values == {"kaiku/skipped/unsafe_url": 1}
    assert UrlGuardMiddleware(allow_private=True, stats=stats).process_response(request, internal) is internal


@pytest.mark.integration
def test_dns_rebinding_nothing_is_sent_to_the_internal_address(kaiku_config, monkeypatch) -> None:
    """The guard's lookup says public, the connection-time lookup says loopback (as a rebinding DNS server would
    answer the second time): the reactor's resolver drops that answer, and the site on loopback receives no
    request at all. `localhost` (resolved from /etc/hosts when connecting) stands for the rebinding name; the
    name rule is lifted so that only addresses decide."""
    import http.server
    import threading

    from bench.stand_ins import CollectingWriter, KeywordClassifier
    from crawler import url_guard
    from crawler.runner import run_crawl

    received: list[str] = []

    class Recording(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the base class's name
            received.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>Hotelli Revontuli oli kamala</body></html>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(url_guard, "LOOPBACK_NAMES", frozenset())
    monkeypatch.setattr(url_guard, "resolve_host", lambda host: ["93.184.216.34"])
    monkeypatch.setattr(url_guard, "_guarded_hosts", set())  # other tests crawl loopback names, allowed
    monkeypatch.setattr("crawler.runner.check_urls", lambda urls, allow_private: None)  # as if it said public
    writer = CollectingWriter()
    try:
        start = f"http://localhost:{server.server_address[1]}/"
        source = kaiku_config.source("demo-reviews").model_copy(update={"start_urls": [start]})
        summary = run_crawl(source, CrawlContext(kaiku_config.brands, KeywordClassifier(), writer),
                            extra_settings={"ROBOTSTXT_OBEY": False, "RETRY_ENABLED": False},
                            allow_private_urls=False)  # fmt: skip
        assert received == [], "a request reached the internal address"
        assert summary.indexed == 0 and writer.mentions == []
        # The same crawl allowed to reach private addresses does connect: the guard made the difference. (The
        # host stays guarded in this process once a guarded crawl asked for it: forget it first.)
        url_guard._guarded_hosts.clear()
        run_crawl(source, CrawlContext(kaiku_config.brands, KeywordClassifier(), CollectingWriter()),
                  extra_settings={"ROBOTSTXT_OBEY": False}, allow_private_urls=True)  # fmt: skip
        assert received == ["/"]
    finally:
        server.shutdown()
