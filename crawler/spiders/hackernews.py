"""`hackernews`: Algolia's HN Search API, `search_by_date` (newest first), stories and comments.

One query per term, `tags=(story,comment)` (or the configured `tags`), `hitsPerPage=100`, paged with
`page` while `page + 1 < nbPages` (Algolia serves at most 1,000 hits per query). A repeated run adds
`numericFilters=created_at_i>T`, T being the newest creation time seen. No key; no documented limit
beyond 10,000 requests an hour per IP.
"""

from __future__ import annotations

import scrapy
from scrapy.http import Response

from core.config import HackerNewsSource, spider_of
from crawler.extract.hackernews import parse_hits
from crawler.extract.posts import PostPage
from crawler.politeness import Budget
from crawler.spiders.platform import PlatformSpider, Query

PAGE_SIZE = 100
PATH = "/api/v1/search_by_date"


class HackerNewsSpider(PlatformSpider[HackerNewsSource]):
    name = spider_of(HackerNewsSource)
    source_model = HackerNewsSource
    parser = staticmethod(parse_hits)
    # Algolia API: 10,000 requests per hour per IP (hn.algolia.com/api).
    budget = Budget(100, None, "10000 requests / hour per IP")
    default_base_url = "https://hn.algolia.com"
    custom_settings = {"ROBOTSTXT_OBEY": False}  # an API, governed by its rate limits, not a page for robots

    def build_queries(self) -> list[Query]:
        return [Query(key=q, params={"q": q}) for q in self.source.queries]

    def _request(self, query: Query, page: str | None = None) -> scrapy.Request | None:
        tags = self.source.tags or ["story", "comment"]
        since = query.state.get("newest")
        params = {
            "query": query.params["q"],
            "tags": f"({','.join(tags)})" if len(tags) > 1 else tags[0],
            "hitsPerPage": PAGE_SIZE,
            "numericFilters": f"created_at_i>{int(since)}" if since is not None else None,
            "page": page,
        }
        return self.request(self.url(PATH, params), query)

    def first_request(self, query: Query) -> scrapy.Request | None:
        return self._request(query)

    def next_request(self, response: Response, page: PostPage, query: Query) -> scrapy.Request | None:
        return self._request(query, page=page.next_cursor) if page.next_cursor and page.size else None
