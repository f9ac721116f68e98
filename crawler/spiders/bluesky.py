"""`bluesky`: `app.bsky.feed.searchPosts` (sort=latest, limit=100) for each query, with cursor paging.

The search cursor dies after about 10,000 results: the API then answers without a `cursor` although
more posts match. So when a page with posts comes back without a cursor, the spider asks again with
`until` = the oldest `createdAt` on it, which continues the walk back in time; the walk ends at an
empty page (one extra request per query; a page size cannot tell the two cases apart, since the
service may return fewer posts than `limit` mid-way). A repeated run sends
`since` = the newest `createdAt` seen. Search needs an authenticated session since 2025: the access token
comes from `KAIKU_BLUESKY_TOKEN`, the requests go to `base_url` (default the bsky.social PDS, which
proxies to the AppView).
"""

from __future__ import annotations

from datetime import UTC, datetime

import scrapy
from scrapy.http import Response

from crawler.extract.posts import PostPage
from crawler.spiders.api import PlatformSpider, Query

PAGE_SIZE = 100  # the API's maximum
TOKEN = "KAIKU_BLUESKY_TOKEN"
PATH = "/xrpc/app.bsky.feed.searchPosts"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


class BlueskySpider(PlatformSpider):
    name = "bluesky"
    platform = "bluesky"
    default_base_url = "https://bsky.social"
    credentials_required = (TOKEN,)
    custom_settings = {"ROBOTSTXT_OBEY": False}  # an API, governed by its rate limits, not a page for robots

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
        headers = {"Authorization": f"Bearer {self.credential(TOKEN)}"}
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
