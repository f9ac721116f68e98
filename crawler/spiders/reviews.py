"""`reviews`: schema.org reviews (JSON-LD, microdata, RDFa) from review pages, following pagination.

Which links it follows (and why so few): `rel=next` from every page, because that is how review
listings paginate, and links matching the source's `follow` patterns from every page, for sites whose
pagination has no `rel=next`; and every same-domain link of a start page, because a start page is
usually an index of review pages. Following every link of every page would spend `max_pages` on navigation,
login and image pages of a real site. `max_pages` bounds the requests this spider makes, start URLs
included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import LinkExtractor
from w3lib.url import canonicalize_url

from core.config import ReviewsSource, Source, spider_of
from core.mention import SourceName
from crawler import stats as keys
from crawler.extract import extract_reviews
from crawler.items import MentionItem
from crawler.middlewares import SkippedResponse
from crawler.politeness import WEB_PAGES
from crawler.spiders.failures import count_failed_request

DEFAULT_MAX_PAGES = 100


def _as_list(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Spider arguments arrive as lists from code and as comma-separated strings from `scrapy crawl -a`."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]


def _hostname(domain: str) -> str:
    """`example.com`, `example.com:8080` or `http://example.com/` -> `example.com` (Scrapy matches hosts only)."""
    if "//" not in domain:
        domain = f"//{domain}"
    return (urlsplit(domain).hostname or "").lower()


class ReviewsSpider(scrapy.Spider):
    name: SourceName = spider_of(ReviewsSource)
    source_model = ReviewsSource
    parser = staticmethod(extract_reviews)
    budget = WEB_PAGES

    def __init__(
        self,
        start_urls: str | list[str] | None = None,
        allowed_domains: str | list[str] | None = None,
        max_pages: int | str = DEFAULT_MAX_PAGES,
        follow: str | list[str] | None = None,
        source_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.start_urls = _as_list(start_urls)
        if not self.start_urls:
            raise ValueError("the reviews spider needs at least one start URL")
        domains = [_hostname(d) for d in _as_list(allowed_domains)] or [_hostname(u) for u in self.start_urls]
        self.allowed_domains = sorted({d for d in domains if d})
        self.max_pages = int(max_pages)
        if self.max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, got {max_pages!r}")
        self.source_id = source_id or self.name
        self._scheduled: set[str] = set()
        self._links = LinkExtractor(unique=True)
        patterns = _as_list(follow)
        self._pagination = LinkExtractor(allow=patterns, unique=True) if patterns else None

    @classmethod
    def crawl_arguments(cls, source: Source) -> dict[str, Any]:
        """What `run_crawl` passes to the spider for this source."""
        if not isinstance(source, ReviewsSource):
            raise ValueError(f"source {source.id} is for the {source.spider} spider, not {cls.name}")
        return {
            "start_urls": list(source.start_urls),
            "allowed_domains": list(source.allowed_domains),
            "max_pages": source.max_pages,
            "follow": list(source.follow),
            "source_id": source.id,
        }

    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            request = self._page_request(url, depth=0, dont_filter=True)
            if request is not None:
                yield request

    def parse(self, response: Response, depth: int = 0) -> Iterator[Any]:
        stats = self.crawler.stats
        if not isinstance(response, HtmlResponse):
            stats.inc_value(keys.SKIPPED_NON_HTML)
            content_type = (response.headers.get("Content-Type") or b"?").decode("latin-1")
            self.logger.info("not HTML (%s): %s", content_type, response.url)
            return
        stats.inc_value(keys.PAGES_PARSED)
        yield from self._reviews(response)
        yield from self._follow(response, depth)

    def _reviews(self, response: HtmlResponse) -> Iterator[MentionItem]:
        stats = self.crawler.stats
        try:
            result = extract_reviews(response.text, response.url)
        except Exception:  # noqa: BLE001 - one bad page must not end the crawl; counted and logged
            stats.inc_value(keys.SKIPPED_EXTRACT_ERROR)
            self.logger.exception("extraction failed on %s", response.url)
            return
        for problem in result.problems:
            stats.inc_value(keys.problem_key(problem.code))
            self.logger.info("%s: %s", response.url, problem)
        if not result.reviews:
            stats.inc_value(keys.SKIPPED_NO_REVIEWS)
            return
        stats.inc_value(keys.PAGES_WITH_REVIEWS)
        for review in result.reviews:
            stats.inc_value(keys.REVIEWS)
            yield MentionItem.from_record(review, self.name)

    def _follow(self, response: HtmlResponse, depth: int) -> Iterator[scrapy.Request]:
        urls = [response.urljoin(href) for href in self._rel_next(response)]
        if self._pagination is not None:
            urls += [link.url for link in self._pagination.extract_links(response)]
        if depth == 0:
            urls += [link.url for link in self._links.extract_links(response)]
        for url in urls:
            if not self._on_allowed_host(url):
                continue
            request = self._page_request(url, depth=depth + 1)
            if request is not None:
                yield request

    def _on_allowed_host(self, url: str) -> bool:
        # By host name, as Scrapy's offsite filter does (its url_is_from_any_domain also compares the port).
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return parts.scheme in ("http", "https") and any(
            host == domain or host.endswith(f".{domain}") for domain in self.allowed_domains
        )

    @staticmethod
    def _rel_next(response: HtmlResponse) -> list[str]:
        hrefs = []
        for element in response.xpath("//link[@rel][@href] | //a[@rel][@href]"):
            if "next" in (element.attrib.get("rel") or "").lower().split():
                hrefs.append(element.attrib["href"].strip())
        return hrefs

    def _page_request(self, url: str, depth: int, dont_filter: bool = False) -> scrapy.Request | None:
        page = canonicalize_url(url, keep_fragments=False)
        if page in self._scheduled:
            return None
        if len(self._scheduled) >= self.max_pages:
            self.crawler.stats.inc_value(keys.SKIPPED_MAX_PAGES)
            return None
        self._scheduled.add(page)
        return scrapy.Request(
            url, callback=self.parse, errback=self.on_error, cb_kwargs={"depth": depth}, dont_filter=dont_filter
        )

    def on_error(self, failure: Any) -> None:
        """Count a failed request by reason; the crawl goes on with the other pages."""
        if failure.check(SkippedResponse):
            return  # counted by crawler/middlewares.py under kaiku/skipped/<reason>
        count_failed_request(self, failure)
