"""`reddit`: search listings, `/search.json` or `/r/<sub>/search.json?restrict_sr=on`, sort=new, limit=100,
paged with `after`.

With `KAIKU_REDDIT_CLIENT_ID` and `KAIKU_REDDIT_CLIENT_SECRET` set, the spider first gets an application
token (OAuth client credentials: POST `token_url`, default https://www.reddit.com/api/v1/access_token,
basic auth) and sends it to `base_url` (default https://oauth.reddit.com; 100 requests a minute).
Without them it reads the public JSON at https://www.reddit.com (10 requests a minute). A repeated run
stops paging at the first post not newer than the newest one seen.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from core.config import RedditSource, spider_of
from crawler import stats as keys
from crawler.extract.posts import PostPage
from crawler.extract.reddit import parse_listing
from crawler.politeness import Budget
from crawler.spiders.platform import PlatformSpider, Query

PAGE_SIZE = 100
CLIENT_ID, CLIENT_SECRET = "KAIKU_REDDIT_CLIENT_ID", "KAIKU_REDDIT_CLIENT_SECRET"
PUBLIC, OAUTH = "https://www.reddit.com", "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"


class RedditSpider(PlatformSpider[RedditSource]):
    name = spider_of(RedditSource)
    source_model = RedditSource
    parser = staticmethod(parse_listing)
    # Data API: 100 queries per minute per OAuth client; far less without OAuth (support.reddithelp.com).
    budget = Budget(10, None, "100 QPM with OAuth; ~10 QPM without")
    default_base_url = PUBLIC
    custom_settings = {"ROBOTSTXT_OBEY": False}  # an API, governed by its rate limits, not a page for robots

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token: str | None = None

    def required_credentials(self) -> tuple[str, ...]:
        # One without the other is a mistake, not a choice of the public API.
        has = [name for name in (CLIENT_ID, CLIENT_SECRET) if self.credential(name)]
        return (CLIENT_ID, CLIENT_SECRET) if has else ()

    def build_queries(self) -> list[Query]:
        if not self.source.subreddits:
            return [Query(key=q, params={"q": q}) for q in self.source.queries]
        return [
            Query(key=f"r/{sub}:{q}", params={"q": q, "sub": sub})
            for sub in self.source.subreddits
            for q in self.source.queries
        ]

    def opening_requests(self) -> Iterator[scrapy.Request]:
        client_id, secret = self.credential(CLIENT_ID), self.credential(CLIENT_SECRET)
        if not (client_id and secret):
            yield from super().opening_requests()
            return
        if not self.source.base_url:
            self.base_url = OAUTH
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        yield scrapy.Request(
            self.source.token_url or TOKEN_URL,
            method="POST",
            body="grant_type=client_credentials",
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            callback=self.got_token,
            errback=self.token_failed,
            dont_filter=True,
        )

    def got_token(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            self.token = str(json.loads(response.body)["access_token"])
        except (ValueError, KeyError, TypeError):
            self.crawler.stats.inc_value(f"{keys.ERRORS}oauth_token")
            self.logger.error("no access_token in the token response from %s", response.url)
            for query in self.queries:
                query.failed = True
            return
        yield from super().opening_requests()

    def token_failed(self, failure: Any) -> None:
        for query in self.queries:
            query.failed = True
        self.on_error(failure)
        self.crawler.stats.inc_value(f"{keys.ERRORS}oauth_token")

    def _request(self, query: Query, after: str | None = None) -> scrapy.Request | None:
        sub = query.params.get("sub")
        path = f"/r/{sub}/search.json" if sub else "/search.json"
        params = {
            "q": query.params["q"],
            "sort": "new",
            "t": "all",
            "limit": PAGE_SIZE,
            "restrict_sr": "on" if sub else None,
            "raw_json": 1,
            "after": after,
        }
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.request(self.url(path, params), query, headers=headers)

    def first_request(self, query: Query) -> scrapy.Request | None:
        return self._request(query)

    def next_request(self, response: Response, page: PostPage, query: Query) -> scrapy.Request | None:
        return self._request(query, after=page.next_cursor) if page.next_cursor and page.size else None
