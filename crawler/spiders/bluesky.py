"""`bluesky`: `app.bsky.feed.searchPosts` (sort=latest, limit=100) for each query, with cursor paging.

The search cursor dies after about 10,000 results: the API then answers without a `cursor` although
more posts match. So when a page with posts comes back without a cursor, the spider asks again with
`until` = the oldest `createdAt` on it, which continues the walk back in time; the walk ends at an
empty page (one extra request per query; a page size cannot tell the two cases apart, since the
service may return fewer posts than `limit` mid-way). A repeated run sends
`since` = the newest `createdAt` seen.

Search needs an authenticated session since 2025. With `KAIKU_BLUESKY_HANDLE` and
`KAIKU_BLUESKY_APP_PASSWORD` the spider logs in first (`com.atproto.server.createSession`, which returns a
short-lived `accessJwt`), so a scheduled crawl always has a fresh token; else it sends
`KAIKU_BLUESKY_TOKEN` as it is. The requests go to `base_url` (default the bsky.social PDS, which proxies
to the AppView).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from core.config import BlueskySource, spider_of
from crawler import stats as keys
from crawler.extract.bluesky import parse_search
from crawler.extract.posts import PostPage
from crawler.politeness import Budget
from crawler.spiders.platform import PlatformSpider, Query

PAGE_SIZE = 100  # the API's maximum
TOKEN = "KAIKU_BLUESKY_TOKEN"
HANDLE, APP_PASSWORD = "KAIKU_BLUESKY_HANDLE", "KAIKU_BLUESKY_APP_PASSWORD"
LOGIN = "/xrpc/com.atproto.server.createSession"
PATH = "/xrpc/app.bsky.feed.searchPosts"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


class BlueskySpider(PlatformSpider[BlueskySource]):
    name = spider_of(BlueskySource)
    source_model = BlueskySource
    parser = staticmethod(parse_search)
    # AppView: 3,000 requests per 5 minutes per IP (docs.bsky.app, rate limits).
    budget = Budget(300, None, "3000 requests / 5 min per IP")
    default_base_url = "https://bsky.social"
    custom_settings = {"ROBOTSTXT_OBEY": False}  # an API, governed by its rate limits, not a page for robots

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token: str | None = None

    def required_credentials(self) -> tuple[str, ...]:
        if self.credential(HANDLE) or self.credential(APP_PASSWORD):
            return (HANDLE, APP_PASSWORD)  # one without the other is a mistake
        return (TOKEN,)

    def opening_requests(self) -> Iterator[scrapy.Request]:
        handle, password = self.credential(HANDLE), self.credential(APP_PASSWORD)
        if not (handle and password):
            self.token = self.credential(TOKEN)
            yield from super().opening_requests()
            return
        yield scrapy.Request(
            f"{self.base_url}{LOGIN}",
            method="POST",
            body=json.dumps({"identifier": handle, "password": password}),
            headers={"Content-Type": "application/json"},
            callback=self.logged_in,
            errback=self.login_failed,
            dont_filter=True,
        )

    def logged_in(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            self.token = str(json.loads(response.body)["accessJwt"])
        except (ValueError, KeyError, TypeError):
            self.logger.error("no accessJwt in the createSession response from %s", response.url)
            self.login_failed(None)
            return
        yield from super().opening_requests()

    def login_failed(self, failure: Any) -> None:
        for query in self.queries:
            query.failed = True
        if failure is not None:
            self.on_error(failure)
        self.crawler.stats.inc_value(f"{keys.ERRORS}login")

    def build_queries(self) -> list[Query]:
        return [Query(key=q, params={"q": q}) for q in self.source.queries]

    def _request(self, query: Query, cursor: str | None = None, until: str | None = None) -> scrapy.Request | None:
        since = query.state.get("newest")
        params = {
            "q": query.params["q"],
            "sort": "latest",
            "limit": PAGE_SIZE,
            "since": _iso(since) if since is not None else None,
            "until": until,
            "cursor": cursor,
        }
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.request(self.url(PATH, params), query, headers=headers, meta={"until": until})

    def first_request(self, query: Query) -> scrapy.Request | None:
        return self._request(query)

    def next_request(self, response: Response, page: PostPage, query: Query) -> scrapy.Request | None:
        until = response.meta.get("until")
        if page.next_cursor and page.size:
            return self._request(query, cursor=page.next_cursor, until=until)
        dates = [post.published_at for post in page.posts if post.published_at]
        if not dates:
            return None  # an empty page: the results ran out, not the cursor
        oldest = _iso(min(dates).timestamp())
        if until is not None and oldest >= until:
            return None  # no progress back in time: stop rather than loop
        self.crawler.stats.inc_value("kaiku/bluesky/requeried_until")
        return self._request(query, until=oldest)
