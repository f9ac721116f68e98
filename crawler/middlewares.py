"""Downloader middlewares: polite retries, a request budget, and responses too broken to read.

- `BackoffRetryMiddleware` replaces Scrapy's RetryMiddleware: 429 and 5xx answers are retried after the
  server's `Retry-After` (seconds or an HTTP date; the whole site pauses meanwhile), else after an exponential
  backoff; a server that asks for a longer wait than `KAIKU_RETRY_MAX_DELAY` is not retried (counted, the
  crawl goes on).
- `RequestBudgetMiddleware` stops sending requests once a crawl has used `KAIKU_MAX_REQUESTS` (the per-source
  budget, crawler/politeness.py).
- `ResponseCheckMiddleware` skips, with a counted reason, responses that cannot be read as what they claim:
  too large (`DOWNLOAD_MAXSIZE`), cut short (fewer bytes than Content-Length), binary where text was
  promised, or text that does not decode in its declared encoding (UTF-8 mislabelled as Latin-1 is the
  common case and is repaired, counted as a warning).

A skipped response reaches the spider's errback as `SkippedResponse` (an IgnoreRequest), already counted
under `kaiku/skipped/<reason>`; spiders must not count it again.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, NotConfigured, ResponseDataLossError
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from crawler import stats as keys

logger = logging.getLogger(__name__)

DEFAULT_BACKOFF_BASE = 2.0  # seconds before the first retry without Retry-After; doubles each time
DEFAULT_RETRY_MAX_DELAY = 300.0  # a server asking for a longer pause is asked again on the next scheduled crawl


class SkippedResponse(IgnoreRequest):
    """A response skipped for a counted reason (see the module docstring)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}{': ' + detail if detail else ''}")


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry (same settings: RETRY_TIMES, RETRY_EXCEPTIONS, `dont_retry`), plus waits between tries.

    The wait happens inside the download, so the request keeps its place in the downloader while it waits
    (the other sites of a crawl go on); it is counted in `kaiku/retry/waited_ms`.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)  # RETRY_HTTP_CODES: 429, 5xx (and 408) by default
        self.backoff_base = settings.getfloat("KAIKU_BACKOFF_BASE", DEFAULT_BACKOFF_BASE)
        self.max_delay = settings.getfloat("KAIKU_RETRY_MAX_DELAY", DEFAULT_RETRY_MAX_DELAY)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        stats = self.crawler.stats
        assert stats is not None
        tries = request.meta.get("retry_times", 0)
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        delay = asked if asked is not None else self.backoff_base * 2**tries
        if delay > self.max_delay:
            stats.inc_value(f"{keys.ERRORS}retry_after_too_long")
            logger.warning("%s asks to wait %.0fs (more than %.0fs); not retried", request.url, delay, self.max_delay)
            return response
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,  # type: ignore[arg-type]
            reason=f"http_{response.status}",
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
        )
        if retry is None:
            return response
        stats.inc_value(keys.RETRY_WAITED, round(delay * 1000))
        logger.info("HTTP %d from %s: retrying in %.1fs", response.status, request.url, delay)
        if asked is not None:
            self._pause_site(request, delay)
        await _sleep(delay)
        return retry

    def _pause_site(self, request: Request, seconds: float) -> None:
        """The server asked for a pause, not just this request: hold the site's other requests for as long.

        Scrapy's download slot (one per site) sends its next request no sooner than `slot.delay` after the last;
        raising that delay for the asked time pauses the site. It is put back afterwards unless something else
        (AutoThrottle) changed it meanwhile.
        """
        downloader = getattr(self.crawler.engine, "downloader", None)
        slot = getattr(downloader, "slots", {}).get(request.meta.get("download_slot"))
        if slot is None or seconds <= slot.delay:
            return
        before = slot.delay
        slot.delay = seconds

        def restore() -> None:
            if slot.delay == seconds:
                slot.delay = before

        deferLater(reactor, seconds, restore)

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        retry = super().process_exception(request, exception)
        if isinstance(retry, Request):
            delay = self.backoff_base * 2 ** request.meta.get("retry_times", 0)
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(keys.RETRY_WAITED, round(delay * 1000))
            await _sleep(delay)
        return retry


class RequestBudgetMiddleware:
    """Refuses requests beyond the crawl's budget (`KAIKU_MAX_REQUESTS`; retries and robots.txt count too)."""

    def __init__(self, budget: int, crawler: Crawler) -> None:
        self.budget = budget
        self.crawler = crawler
        self.sent = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestBudgetMiddleware:
        budget = crawler.settings.getint("KAIKU_MAX_REQUESTS", 0)
        if budget <= 0:
            raise NotConfigured("no request budget")
        return cls(budget, crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if self.sent >= self.budget:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"{keys.SKIPPED}request_budget")
            raise SkippedResponse("request_budget", f"{self.budget} requests used")
        self.sent += 1


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):  # LookupError: an encoding name Python does not know
        return False
    return True


class ResponseCheckMiddleware:
    """Turns unreadable responses into counted skips (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResponseCheckMiddleware:
        return cls(crawler)

    def _skip(self, reason: str, request: Request, detail: str = "") -> SkippedResponse:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{keys.SKIPPED}{reason}")
        logger.info("skipped %s (%s%s)", request.url, reason, f": {detail}" if detail else "")
        return SkippedResponse(reason, detail)

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        if isinstance(exception, DownloadCancelledError):  # DOWNLOAD_MAXSIZE reached (or announced)
            raise self._skip("oversized", request, str(exception))
        if isinstance(exception, ResponseDataLossError):  # DOWNLOAD_FAIL_ON_DATALOSS: fewer bytes than announced
            raise self._skip("truncated", request)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if not isinstance(response, TextResponse) or response.status >= 300 or not response.body:
            return response
        body = response.body
        if b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 has NULs
            raise self._skip("binary_body", request, "NUL bytes in a text response")
        encoding = response.encoding
        if _decodes(body, encoding):
            single_byte = encoding.replace("-", "").replace("_", "").lower() in ("cp1252", "iso88591", "latin1")
            # Non-ASCII bytes that form valid UTF-8 are UTF-8 mislabelled: real Latin-1 text practically never is.
            if single_byte and not body.isascii() and _decodes(body, "utf-8"):
                return self._repaired(response, encoding)
            return response
        if _decodes(body, "utf-8"):
            return self._repaired(response, encoding)
        # Read with replacement characters, "Mäki" would become "M�ki": wrong brand matches, wrong sentiment.
        raise self._skip("bad_encoding", request, f"neither valid {encoding} nor UTF-8")

    def _repaired(self, response: TextResponse, declared: str) -> TextResponse:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{keys.WARNINGS}encoding_repaired")
        logger.info("%s declared %s but is UTF-8; read as UTF-8", response.url, declared)
        return response.replace(encoding="utf-8")
