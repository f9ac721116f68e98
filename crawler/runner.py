"""Running one configured source: `run_crawl(source, CrawlContext(brands, classifier, writer, store))`.

The crawl runs in this process, on the reactor thread of crawler/reactor.py, and the call blocks until
it has finished (every buffered mention scored and written). It can be called any number of times in
one process, from any thread but the reactor's, and concurrently from several threads.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro

from core.config import Brand, Source
from crawler import stats as keys
from crawler.context import CrawlContext
from crawler.errors import CrawlerError
from crawler.politeness import budget_for
from crawler.reactor import call_in_reactor, ensure_reactor, reactor_setting
from crawler.spiders.registry import SPIDERS
from crawler.url_guard import UnsafeURL, check_urls


@dataclass
class CrawlSummary:
    """What one crawl did, from its Scrapy stats; `stats` keeps all of them for anything not summarised."""

    source_id: str
    spider: str
    finish_reason: str | None = None
    requests: int = 0  # HTTP requests sent, robots.txt and retries included
    retries: int = 0  # of those, retries (429/5xx answers and failed connections)
    responses: int = 0
    pages: int = 0  # HTML pages read
    reviews: int = 0  # reviews found on them
    items: int = 0  # mentions that passed brand match, language and duplicate checks
    scored: int = 0
    indexed: int = 0
    spooled: int = 0
    replayed: int = 0
    brands: dict[str, int] = field(default_factory=dict)
    experience: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    index_failed: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_stats(cls, source_id: str, spider: str, stats: Mapping[str, Any]) -> CrawlSummary:
        raw = dict(stats)
        errors = keys.with_prefix(raw, keys.ERRORS)
        errors.update({f"spider_exception/{k}": v for k, v in keys.with_prefix(raw, "spider_exceptions/").items()})
        return cls(
            source_id=source_id,
            spider=spider,
            finish_reason=raw.get("finish_reason"),
            requests=int(raw.get("downloader/request_count", 0)),
            retries=int(raw.get("retry/count", 0)),
            responses=int(raw.get("downloader/response_count", 0)),
            pages=int(raw.get(keys.PAGES_PARSED, 0)),
            reviews=int(raw.get(keys.REVIEWS, 0)),
            items=int(raw.get("item_scraped_count", 0)),
            scored=int(raw.get(keys.SCORED, 0)),
            indexed=int(raw.get(keys.INDEXED, 0)),
            spooled=int(raw.get(keys.SPOOLED, 0)),
            replayed=int(raw.get(keys.REPLAYED, 0)),
            brands=keys.with_prefix(raw, keys.BRAND),
            experience=keys.with_prefix(raw, keys.EXPERIENCE),
            skipped=keys.with_prefix(raw, keys.SKIPPED),
            warnings=keys.with_prefix(raw, keys.WARNINGS),
            dropped=keys.with_prefix(raw, keys.DROPPED),
            index_failed=keys.with_prefix(raw, keys.INDEX_FAILED),
            errors=errors,
            elapsed_s=float(raw.get("elapsed_time_seconds", 0.0)),
            stats={key: value for key, value in raw.items()},
        )

    @property
    def ok(self) -> bool:
        """False when mentions failed to score or index, or when not one page could be read.

        A failed request among many (a dead link) is reported in `errors` but does not fail the crawl:
        a scheduled crawl of a real site would otherwise fail forever over one broken link.
        """
        nothing_read = self.pages == 0 and self.responses == 0
        return not self.index_failed and "score_failed" not in self.errors and not nothing_read

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stats"] = {
            key: value if isinstance(value, int | float | str) else str(value) for key, value in self.stats.items()
        }
        return data

    def format(self) -> str:
        def counts(values: dict[str, int]) -> str:
            return ", ".join(f"{name} {count}" for name, count in values.items()) or "none"

        finish = self.finish_reason or "unknown"
        lines = [
            f"spider {self.spider} (source {self.source_id}): {finish} in {self.elapsed_s:.1f}s",
            f"  requests {self.requests} ({self.retries} retries), responses {self.responses}, "
            f"pages read {self.pages}, reviews found {self.reviews}",
            f"  items {self.items} (by brand: {counts(self.brands)}), scored {self.scored} ({counts(self.experience)})",
            f"  indexed {self.indexed}, index failures: {counts(self.index_failed)}",
            f"  skipped: {counts(self.skipped)}",
            f"  dropped: {counts(self.dropped)}",
            f"  errors: {counts(self.errors)}",
        ]
        if self.spooled or self.replayed:
            lines.append(
                f"  spooled {self.spooled} (engine unreachable; replayed in order when it is back), "
                f"replayed from earlier outages {self.replayed}"
            )
        if self.warnings:
            lines.append(f"  warnings: {counts(self.warnings)}")
        return "\n".join(lines)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def select_brands(source: Source, brands: Sequence[Brand]) -> list[Brand]:
    """The brands a source listens for: those it names, or every brand when it names none."""
    if not source.brands:
        return list(brands)
    known = {brand.id: brand for brand in brands}
    missing = [brand_id for brand_id in source.brands if brand_id not in known]
    if missing:
        raise CrawlerError(f"source {source.id} names unknown brands: {', '.join(missing)}")
    return [known[brand_id] for brand_id in source.brands]


def crawl_settings(source: Source, extra_settings: Mapping[str, Any] | None = None) -> Settings:
    """crawler/settings.py, then the source's politeness, then `extra_settings` over everything."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("TWISTED_REACTOR", reactor_setting(), priority="project")
    budget = budget_for(SPIDERS[source.spider].budget, source.requests_per_minute, source.max_requests)
    urls = source.endpoint_urls()  # empty when a platform source uses the platform's public API
    if urls and all(_is_loopback(url) for url in urls) and source.requests_per_minute is None:
        # Politeness protects other people's servers; a site on this machine (the demo, tests) has none to protect.
        settings.set("DOWNLOAD_DELAY", 0, priority="project")
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="project")
    else:
        # AutoThrottle slows down from here when the site does, never below it.
        delay = max(budget.delay_s, settings.getfloat("DOWNLOAD_DELAY"))
        settings.set("DOWNLOAD_DELAY", delay, priority="project")
        settings.set("AUTOTHROTTLE_START_DELAY", max(delay, settings.getfloat("AUTOTHROTTLE_START_DELAY")), "project")
    if budget.max_requests is not None:
        settings.set("KAIKU_MAX_REQUESTS", budget.max_requests, priority="project")
    if extra_settings:
        settings.update(dict(extra_settings), priority="cmdline")
    return settings


def run_crawl(
    source: Source,
    context: CrawlContext,
    extra_settings: Mapping[str, Any] | None = None,
    allow_private_urls: bool = False,
) -> CrawlSummary:
    """Crawl `source`, keep mentions of the context's brands (narrowed to `source.brands` when it names any),
    score them with its classifier and write them with its writer; block until done and return what happened.

    `extra_settings` are Scrapy settings applied last (e.g. {"LOG_LEVEL": "DEBUG"}, {"DOWNLOAD_DELAY": 0}).
    `allow_private_urls` lets the crawl reach loopback and private addresses (crawler/url_guard.py; the shell
    passes KAIKU_ALLOW_PRIVATE_URLS). Raises CrawlerError when the crawl cannot start (an unsafe configured URL
    included); failures during the crawl are counted in the summary.
    """
    spider_class = SPIDERS.get(source.spider)
    if spider_class is None:
        raise CrawlerError(f"source {source.id}: unknown spider {source.spider!r}")
    try:
        check_urls(source.endpoint_urls(), allow_private_urls)
    except UnsafeURL as exc:
        raise CrawlerError(f"source {source.id}: {exc}") from exc
    context = replace(context, brands=select_brands(source, context.brands))
    ensure_reactor()  # before crawl_settings: the settings must name the reactor that actually runs
    settings = crawl_settings(source, {"KAIKU_ALLOW_PRIVATE_URLS": allow_private_urls, **(extra_settings or {})})
    started: list[Crawler] = []

    def start() -> Any:
        runner = CrawlerRunner(settings)
        crawler = runner.create_crawler(spider_class)
        context.attach(crawler)  # before crawl(): the components read it when they are built
        started.append(crawler)
        deferred = runner.crawl(crawler, **spider_class.crawl_arguments(source))
        return deferred.addCallback(lambda _: crawler)

    def stop() -> None:
        for crawler in started:
            deferred_from_coro(crawler.stop_async())

    try:
        crawler = call_in_reactor(start, on_interrupt=stop)
    except CrawlerError:
        raise
    except Exception as exc:
        raise CrawlerError(f"crawl of source {source.id} failed: {type(exc).__name__}: {exc}") from exc
    return CrawlSummary.from_stats(source.id, spider_class.name, crawler.stats.get_stats())
