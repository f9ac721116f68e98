"""How every spider counts a request that failed: by reason, so a crawl's summary says what went wrong."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from crawler import stats as keys


def count_failed_request(spider: Any, failure: Any) -> None:
    """`kaiku/errors/http_<status>` or `kaiku/errors/<exception>`, logged; a refused request is a skip, not an error."""
    if failure.check(HttpError):
        reason = f"http_{failure.value.response.status}"
    elif failure.check(IgnoreRequest):  # robots.txt, offsite, the URL guard
        spider.crawler.stats.inc_value(keys.SKIPPED_IGNORED)
        return
    else:
        reason = failure.type.__name__
    spider.crawler.stats.inc_value(f"{keys.ERRORS}{reason}")
    spider.logger.warning("request failed (%s): %s", reason, failure.request.url)
