"""`appstore`: App Store customer reviews, the iTunes JSON feed, every page of every storefront.

`/{country}/rss/customerreviews/page={n}/id={app}/sortby=mostrecent/json`, n = 1…10 (Apple serves at most
10 pages of 50), until a page comes back empty. One query per (storefront, app); `countries` defaults
to `us`. Review ids grow with time: a repeated run stops at the first review not newer than the newest
id seen. The feed has no review date (newer feeds carry `updated`, read when present).

App reviews seldom name the app's brand; when the source lists exactly one brand (`brands: [x]`), the
reviews are taken to be about that brand (it is what the brand matcher reads as `item_reviewed`).
"""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy.http import Response

from core.config import AppStoreSource, spider_of
from crawler.context import CrawlContext
from crawler.extract.appstore import parse_reviews
from crawler.extract.posts import PostPage, PostRecord
from crawler.politeness import Budget
from crawler.spiders.platform import PlatformSpider, Query

MAX_PAGE = 10


class AppStoreSpider(PlatformSpider[AppStoreSource]):
    name = spider_of(AppStoreSource)
    source_model = AppStoreSource
    parser = staticmethod(parse_reviews)
    # Customer-reviews RSS: no published limit; 10 pages per storefront at most.
    budget = Budget(20, None, "none published")
    default_base_url = "https://itunes.apple.com"
    custom_settings = {"ROBOTSTXT_OBEY": False}  # a feed API, not a page for robots

    def build_queries(self) -> list[Query]:
        return [
            Query(key=f"{country}/{app}", params={"country": country, "app": app})
            for country in self.source.countries or ["us"]
            for app in self.source.app_ids
        ]

    def marker(self, post: PostRecord) -> Any:
        return int(post.local_id) if post.local_id and post.local_id.isdigit() else None

    def _app_name(self) -> str | None:
        brands = CrawlContext.of(self.crawler).brands
        return brands[0].name if len(self.source.brands) == 1 and len(brands) == 1 else None

    def parse_response(self, response: Response) -> PostPage:
        return parse_reviews(response.body, response.url, app_name=self._app_name())

    def _request(self, query: Query, number: int) -> scrapy.Request | None:
        country, app = query.params["country"], query.params["app"]
        path = f"/{country}/rss/customerreviews/page={number}/id={app}/sortby=mostrecent/json"
        return self.request(self.url(path, {}), query, meta={"page": number})

    def first_request(self, query: Query) -> scrapy.Request | None:
        return self._request(query, 1)

    def next_request(self, response: Response, page: PostPage, query: Query) -> scrapy.Request | None:
        number = int(response.meta.get("page", 1))
        return self._request(query, number + 1) if page.size and number < MAX_PAGE else None
