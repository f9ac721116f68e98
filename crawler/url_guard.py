"""Where a crawl may go: http(s) only, and no private or internal addresses unless a setting allows them.

A monitoring service fetches URLs its users configure, and follows links and redirects found on pages that
strangers write. Without this check a source URL or a crafted redirect could make the crawler read the
cloud metadata service (169.254.169.254), an admin page on localhost or anything else on the internal
network, and index the answer. Every configured URL is checked before a crawl starts, and every request
the crawl makes (links, pagination, redirects) is checked again by `UrlGuardMiddleware`, after resolving its
host name. Names that are loopback by convention are refused without asking DNS (they may not resolve here
and still do elsewhere), and IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo) are judged by it.
A name can resolve to a public address when checked and to a private one when connected (DNS rebinding), so
the reactor's name resolver (`GuardedNameResolver`, installed by crawler/reactor.py) drops internal answers
for every host a guarded crawl asked for, at connection time: nothing is sent there. And each response is
checked again against the address the download actually connected to (`ip_address`), and discarded, never
parsed nor indexed, when that one is internal. `KAIKU_ALLOW_PRIVATE_URLS=true` lifts the
address rule for development and tests, which crawl sites on loopback; the scheme rule always holds.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer, provider

from crawler import stats as keys
from crawler.errors import CrawlerError

ALLOWED_SCHEMES = frozenset({"http", "https"})
# Host names that mean this machine on common systems (/etc/hosts of Debian, Red Hat, Alpine), with or without
# the root label's trailing dot; "*.localhost" is loopback by RFC 6761.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "localhost6", "localhost6.localdomain6",
                            "ip6-localhost", "ip6-loopback"})  # fmt: skip
Resolver = Callable[[str], list[str]]
logger = logging.getLogger(__name__)
# Hosts that a crawl refusing internal addresses has asked for: the reactor's resolver drops internal answers
# for them. The reactor is shared by every crawl of the process, and a crawl that allows private addresses
# (development, tests) does not add its hosts; one host asked for by both kinds gets the stricter rule.
_guarded_hosts: set[str] = set()
_guarded_lock = threading.Lock()


def guard_host(host: str) -> None:
    with _guarded_lock:
        _guarded_hosts.add(host.lower().rstrip("."))


def _is_guarded(host: str) -> bool:
    with _guarded_lock:
        return host.lower().rstrip(".") in _guarded_hosts


class UnsafeURL(CrawlerError, ValueError):
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
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 forms that deliver to an IPv4 address: ::ffff:a.b.c.d, 2002:AABB:CCDD:: (6to4) and Teredo
        # (2001:0::/32, whose client address is stored inverted; either end may be the internal one).
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        for inner in filter(None, embedded):
            reason = internal_reason(str(inner))
            if reason:
                return f"{reason} (inside {ip})"
        if ip.teredo or ip.sixtofour:
            return None  # relayed to a public IPv4 address: judged by it, as above
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
        name = host.lower().rstrip(".")
        if name in LOOPBACK_NAMES or name.endswith(".localhost"):
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
            if not self.allow_private:
                guard_host(urlsplit(request.url).hostname or "")
        except UnsafeURL as exc:
            self.stats.inc_value(f"{keys.SKIPPED}unsafe_url")
            spider_logger = getattr(spider, "logger", None)
            if spider_logger is not None:
                spider_logger.warning("not fetched: %s", exc)
            raise IgnoreRequest(str(exc)) from exc

    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        """Judge the address actually connected to: the name may have resolved differently at connection time."""
        connected = getattr(response, "ip_address", None)
        # Through a proxy the connection goes to the proxy, which resolves the name itself: only the check
        # before the request applies.
        if self.allow_private or connected is None or request.meta.get("proxy"):
            return response
        reason = internal_reason(str(connected))
        if reason is None:
            return response
        self.stats.inc_value(f"{keys.SKIPPED}unsafe_url")
        message = f"{request.url!r} was answered from {connected}, a {reason} address (DNS rebinding?); discarded"
        spider_logger = getattr(spider, "logger", None)
        if spider_logger is not None:
            spider_logger.warning("not used: %s", message)
        raise IgnoreRequest(message)


@provider(IResolutionReceiver)
class _PublicAnswersOnly:
    """Passes on the addresses a name resolved to, except internal ones."""

    # Any, not the interfaces: zope interfaces are not types to mypy (their methods lack `self`).
    def __init__(self, receiver: Any, host: str) -> None:
        self._receiver = receiver
        self._host = host

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802 - Twisted's interface
        self._receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802
        host = getattr(address, "host", None)
        reason = internal_reason(host) if host else None
        if reason is None:
            self._receiver.addressResolved(address)
        else:
            logger.warning("not connecting to %s: it resolved to %s, a %s address (DNS rebinding?)",
                           self._host, host, reason)  # fmt: skip

    def resolutionComplete(self) -> None:  # noqa: N802
        self._receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedNameResolver:
    """The reactor's name resolver with internal answers dropped for guarded hosts: a connection can only go
    where the URL guard would have let it, whatever the name resolves to by then."""

    def __init__(self, resolver: Any) -> None:
        self._resolver = resolver

    def resolveHostName(  # noqa: N802 - Twisted's interface
        self,
        resolutionReceiver: Any,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Any = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> Any:
        receiver = _PublicAnswersOnly(resolutionReceiver, hostName) if _is_guarded(hostName) else resolutionReceiver
        return self._resolver.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)


def install_guarded_resolver(reactor: Any) -> None:
    if not isinstance(reactor.nameResolver, GuardedNameResolver):
        reactor.installNameResolver(GuardedNameResolver(reactor.nameResolver))
