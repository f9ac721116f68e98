"""Where a crawl may go: http(s) only, and no private or internal addresses unless a setting allows them.

A monitoring service fetches URLs its users configure, and follows links and redirects found on pages that
strangers write. Without this check a source URL or a crafted redirect could make the crawler read the
cloud metadata service (169.254.169.254), an admin page on localhost or anything else on the internal
network, and index the answer. Every configured URL is checked before a crawl starts, and every request
the crawl makes (links, pagination, redirects) is checked again by `UrlGuardMiddleware`, after resolving its
host name. `KAIKU_ALLOW_PRIVATE_URLS=true` lifts the address rule for development and tests, which crawl
sites on loopback; the scheme rule always holds.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from crawler import stats as keys

ALLOWED_SCHEMES = frozenset({"http", "https"})
Resolver = Callable[[str], list[str]]


class UnsafeURL(ValueError):
    """A URL Kaiku will not fetch; the message says why."""


def resolve_host(host: str) -> list[str]:
    """Every address a host name resolves to; [] when it does not resolve (the request will fail on its own)."""
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return []


def internal_reason(address: str) -> str | None:
    """Why an address is not on the public internet, or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),  # includes the cloud metadata service 169.254.169.254
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return reason
    return None if ip.is_global else "not globally routable"


def check_url(url: str, allow_private: bool, resolve: Resolver = resolve_host) -> None:
    """Raise UnsafeURL unless `url` is http(s), has a host, carries no credentials and (unless allowed) is public."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise UnsafeURL(f"{url!r} is not a valid URL: {exc}") from exc
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURL(f"{url!r}: scheme {parts.scheme or '(none)'!r} is not allowed; use http or https")
    if not host:
        raise UnsafeURL(f"{url!r} has no host")
    if parts.username or parts.password:
        raise UnsafeURL(f"{url!r} carries credentials; give them through the environment instead")
    if allow_private:
        return
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            raise UnsafeURL(f"{url!r} points at localhost (set KAIKU_ALLOW_PRIVATE_URLS=true to allow)") from None
        addresses = resolve(host)
    for address in addresses:
        reason = internal_reason(address)
        if reason:
            raise UnsafeURL(
                f"{url!r} resolves to {address}, a {reason} address (set KAIKU_ALLOW_PRIVATE_URLS=true to allow)"
            )


def check_urls(urls: Iterable[str], allow_private: bool, resolve: Resolver = resolve_host) -> None:
    for url in urls:
        check_url(url, allow_private, resolve)


class UrlGuardMiddleware:
    """Downloader middleware: drops (and counts) any request to a URL `check_url` refuses."""

    def __init__(self, allow_private: bool, stats: Any) -> None:
        self.allow_private = allow_private
        self.stats = stats
        self._resolve = lru_cache(maxsize=4096)(resolve_host)  # one lookup per host per crawl

    @classmethod
    def from_crawler(cls, crawler: Any) -> UrlGuardMiddleware:
        return cls(crawler.settings.getbool("KAIKU_ALLOW_PRIVATE_URLS", False), crawler.stats)

    def process_request(self, request: Any, spider: Any = None) -> None:
        try:
            check_url(request.url, self.allow_private, self._resolve)
        except UnsafeURL as exc:
            self.stats.inc_value(f"{keys.SKIPPED}unsafe_url")
            spider_logger = getattr(spider, "logger", None)
            if spider_logger is not None:
                spider_logger.warning("not fetched: %s", exc)
            raise IgnoreRequest(str(exc)) from exc
