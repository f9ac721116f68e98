"""Configured URLs and crawl requests cannot reach internal addresses or non-web schemes."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

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
