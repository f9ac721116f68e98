"""`PlatformSpider`: what the seven platform spiders share (paging, incremental state, counting, errors).

A subclass declares its name (the tag of its source model in the config), its source model, its parser
(crawler/extract/), which `kaiku parse` uses too, and its default request budget; it lists its queries (one
per configured search term, hashtag, app…: each has its own incremental state), builds the first request of
a query and, from a parsed page, the next one. This class does the rest:

- every post becomes a `MentionItem` (source = the spider's name) unless it is not newer than what the
  last successful run saw (`marker`); a page that reaches
  already-seen posts ends its query's paging (`kaiku/skipped/seen_before` counts them);
- problems of the parser are counted (`kaiku/skipped/<code>` or `kaiku/warnings/<code>`) and a response
  that is not the documented shape fails its query for this run (its state is not advanced);
- a failed request (after Scrapy's retries, 429 included) is counted under `kaiku/errors/http_<status>`
  and fails its query too;
- `max_pages` bounds the requests of each query;
- when the crawl finishes, the new state of every query that did not fail is saved (crawler/state.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from core.config import ApiSource, RssSource, Source
from core.mention import SourceName
from crawler import stats as keys
from crawler.errors import CrawlerError
from crawler.extract.posts import BAD_POST, MALFORMED_PAYLOAD, NO_TEXT, PostPage, PostRecord
from crawler.items import MentionItem
from crawler.politeness import Budget
from crawler.spiders.failures import count_failed_request
from crawler.state import CrawlState

# A page of API results or a feed counts as a page read (`kaiku/pages/parsed`), and each post read from it
# as a review found (`kaiku/reviews`), so that the crawl summary reads the same for every spider.
POSTS_SEEN_BEFORE = "kaiku/skipped/seen_before"  # posts not newer than the last successful run's newest
STATE_SAVED = "kaiku/state/saved"  # queries whose state this run advanced
# Parser problems that lose something (counted under kaiku/skipped/); any other code is a warning.
SKIP_PROBLEMS = frozenset({MALFORMED_PAYLOAD, BAD_POST, NO_TEXT})

# Scrapy settings that carry credentials into a crawl; `credential_settings` fills them from kaiku Settings.
CREDENTIALS = {
    "KAIKU_MASTODON_TOKEN": "mastodon_token",
    "KAIKU_BLUESKY_TOKEN": "bluesky_token",
    "KAIKU_BLUESKY_HANDLE": "bluesky_handle",
    "KAIKU_BLUESKY_APP_PASSWORD": "bluesky_app_password",
    "KAIKU_REDDIT_CLIENT_ID": "reddit_client_id",
    "KAIKU_REDDIT_CLIENT_SECRET": "reddit_client_secret",
    "KAIKU_YOUTUBE_API_KEY": "youtube_api_key",
}


def credential_settings(settings: Any) -> dict[str, Any]:
    """Scrapy settings for the credentials and the state file of `core.settings.Settings`."""
    values: dict[str, Any] = {name: getattr(settings, attribute) for name, attribute in CREDENTIALS.items()}
    values["KAIKU_STATE_PATH"] = str(settings.resolved_crawl_state_path)
    return values


@dataclass
class Query:
    """One thing a source asks the platform, with the state its last successful run left."""

    key: str  # the state key: stable, human-readable ("tag:kaiku", "r/finland:Kaiku")
    params: dict[str, str] = field(default_factory=dict)  # spider-specific parts (the term, the tag, the app id)
    state: dict[str, Any] = field(default_factory=dict)
    newest: Any = None  # the newest marker seen in this run
    extra: dict[str, Any] = field(default_factory=dict)  # other state a spider keeps (a feed's ETag)
    pages: int = 0
    failed: bool = False


DEFAULT_MAX_PAGES = 100  # a feed's pages (it has no `max_pages` to configure: a feed is one page)
SourceT = TypeVar("SourceT", bound=RssSource | ApiSource)


class PlatformSpider(scrapy.Spider, Generic[SourceT]):
    name: SourceName  # the mention's `source`: the tag of `source_model`
    source_model: ClassVar[type[RssSource | ApiSource]]
    budget: ClassVar[Budget]
    default_base_url: ClassVar[str]
    credentials_required: ClassVar[tuple[str, ...]] = ()  # Scrapy settings (named as their env variables)

    def __init__(self, source: SourceT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if source.spider != self.name:
            raise ValueError(f"source {source.id} is for the {source.spider} spider, not {self.name}")
        self.source: SourceT = source
        self.source_id = source.id
        self.base_url = self.default_base_url
        self.max_pages = DEFAULT_MAX_PAGES
        if isinstance(source, ApiSource):
            self.base_url = source.base_url or self.default_base_url
            self.max_pages = source.max_pages
        self.queries: list[Query] = []
        self.store: CrawlState | None = None

    @classmethod
    def crawl_arguments(cls, source: Source) -> dict[str, Any]:
        """What `run_crawl` passes to the spider for this source: the whole source."""
        return {"source": source}

    # --- what a subclass provides -------------------------------------------------------------------

    @staticmethod
    def parser(body: bytes | str, url: str) -> PostPage:
        """The platform's parser (crawler/extract/), a pure function; `kaiku parse` calls it too."""
        raise NotImplementedError

    def build_queries(self) -> list[Query]:
        raise NotImplementedError

    def first_request(self, query: Query) -> scrapy.Request | None:
        raise NotImplementedError

    def next_request(self, response: Response, page: PostPage, query: Query) -> scrapy.Request | None:
        """The request for the page after `page`, or None when the platform says there is none."""
        return None

    def marker(self, post: PostRecord) -> Any:
        """What orders posts newest-first and is kept as state: the publication time by default."""
        return post.published_at.timestamp() if post.published_at else None

    # --- the common machinery ---------------------------------------------------------------------------

    def credential(self, name: str) -> str | None:
        value = self.settings.get(name)
        return str(value) if value else None

    def url(self, path: str, params: dict[str, Any]) -> str:
        present = {name: value for name, value in params.items() if value is not None and value != ""}
        return f"{self.base_url}{path}?{urlencode(present)}" if present else f"{self.base_url}{path}"

    def request(self, url: str, query: Query, **kwargs: Any) -> scrapy.Request | None:
        if query.pages >= self.max_pages:
            self.crawler.stats.inc_value(keys.SKIPPED_MAX_PAGES)
            return None
        query.pages += 1
        meta = {"query": query, **kwargs.pop("meta", {})}
        return scrapy.Request(url, callback=self.parse, errback=self.on_error, meta=meta, dont_filter=True, **kwargs)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PlatformSpider:
        """Checks credentials and reads the state here, so that a problem stops the crawl before it starts
        (raised from `run_crawl` as a CrawlerError) instead of being logged from `start`."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        missing = [name for name in spider.required_credentials() if not spider.credential(name)]
        if missing:
            names = ", ".join(missing)  # the Scrapy setting has the name of its environment variable
            raise CrawlerError(f"source {spider.source_id}: the {spider.name} spider needs {names} in the environment")
        state_path = spider.settings.get("KAIKU_STATE_PATH")
        spider.store = CrawlState(Path(state_path)) if state_path else None
        spider.queries = spider.build_queries()
        for query in spider.queries:
            query.state = spider.store.get(spider.source_id, query.key) if spider.store else {}
        return spider

    def required_credentials(self) -> tuple[str, ...]:
        return self.credentials_required

    async def start(self) -> AsyncIterator[Any]:
        for request in self.opening_requests():
            yield request

    def opening_requests(self) -> Iterator[scrapy.Request]:
        for query in self.queries:
            request = self.first_request(query)
            if request is not None:
                yield request

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        query: Query = response.meta["query"]
        stats = self.crawler.stats
        stats.inc_value(keys.PAGES_PARSED)
        try:
            page = self.parse_response(response)
        except Exception:  # noqa: BLE001 - the parsers never raise by design; a bug must not end the crawl
            stats.inc_value(keys.SKIPPED_EXTRACT_ERROR)
            self.logger.exception("parsing failed on %s", response.url)
            query.failed = True
            return
        for problem in page.problems:
            stats.inc_value(f"{keys.SKIPPED if problem.code in SKIP_PROBLEMS else keys.WARNINGS}{problem.code}")
            self.logger.info("%s: %s", response.url, problem)
        if page.count(MALFORMED_PAYLOAD):
            query.failed = True  # the next run asks for this range again
            return
        seen_before = query.state.get("newest")
        reached_old = False
        for post in page.posts:
            stats.inc_value(keys.REVIEWS)
            marker = self.marker(post)
            if marker is not None and (query.newest is None or marker > query.newest):
                query.newest = marker
            if seen_before is not None and marker is not None and marker <= seen_before:
                stats.inc_value(POSTS_SEEN_BEFORE)
                reached_old = True
                continue
            yield MentionItem.from_record(post, self.name)
        if reached_old:
            return
        request = self.next_request(response, page, query)
        if request is not None:
            yield request

    def parse_response(self, response: Response) -> PostPage:
        return self.parser(response.body, response.url)

    def on_error(self, failure: Any) -> None:
        """Count a failed request by reason and fail its query (its state stays where it was)."""
        query = failure.request.meta.get("query")
        if isinstance(query, Query):
            query.failed = True
        count_failed_request(self, failure)

    def closed(self, reason: str) -> None:
        if self.store is None or reason != "finished":
            return
        updates = {}
        for query in self.queries:
            if query.failed:
                continue
            state = {**query.state, **query.extra}
            previous = query.state.get("newest")
            if query.newest is not None and (previous is None or query.newest > previous):
                state["newest"] = query.newest
            if state != query.state:
                updates[query.key] = state
        self.store.update(self.source_id, updates)
        self.crawler.stats.set_value(STATE_SAVED, len(updates))
