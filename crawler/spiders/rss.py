"""`rss`: RSS 2.0, RSS 1.0 (RDF) and Atom feeds (Google Alerts included), one request per configured feed URL.

A feed has no paging: each fetch returns its latest entries. State per feed is the newest publication
time seen; entries not newer are skipped on the next run (entries without a date are always read; their
stable id makes a re-read overwrite, not duplicate). The feed's `ETag` and `Last-Modified` are kept too
and sent back (`If-None-Match`, `If-Modified-Since`): an unchanged feed answers 304 with no body
(`kaiku/skipped/not_modified`). Feeds are pages of their site, so robots.txt applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from core.config import RssSource, spider_of
from crawler.extract.rss import parse_feed
from crawler.politeness import WEB_PAGES
from crawler.spiders.platform import PlatformSpider, Query

NOT_MODIFIED = "kaiku/skipped/not_modified"  # feeds that answered 304: nothing new since the last run
VALIDATORS = {"etag": ("ETag", "If-None-Match"), "last_modified": ("Last-Modified", "If-Modified-Since")}


class RssSpider(PlatformSpider[RssSource]):
    name = spider_of(RssSource)
    source_model = RssSource
    parser = staticmethod(parse_feed)
    budget = WEB_PAGES
    default_base_url = ""

    def build_queries(self) -> list[Query]:
        return [Query(key=url, params={"url": url}) for url in self.source.start_urls]

    def first_request(self, query: Query) -> scrapy.Request | None:
        headers = {ask: query.state[key] for key, (_, ask) in VALIDATORS.items() if query.state.get(key)}
        return self.request(query.params["url"], query, headers=headers, meta={"handle_httpstatus_list": [304]})

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if response.status == 304:
            self.crawler.stats.inc_value(NOT_MODIFIED)
            return
        query: Query = response.meta["query"]
        for key, (header, _) in VALIDATORS.items():
            value = response.headers.get(header)
            query.extra[key] = value.decode("latin-1") if value else None
        yield from super().parse(response, **kwargs)
