"""`rss`: RSS 2.0 and Atom feeds (Google Alerts included), one request per configured feed URL.

A feed has no paging: each fetch returns its latest entries. State per feed is the newest publication
time seen; entries not newer are skipped on the next run (entries without a date are always read; their
stable id makes a re-read overwrite, not duplicate). Feeds are pages of their site, so robots.txt applies.
"""

from __future__ import annotations

import scrapy

from crawler.spiders.api import PlatformSpider, Query


class RssSpider(PlatformSpider):
    name = "rss"
    platform = "rss"
    default_base_url = ""

    def build_queries(self) -> list[Query]:
        return [Query(key=url, params={"url": url}) for url in self.source.start_urls]

    def first_request(self, query: Query) -> scrapy.Request | None:
        return self.request(query.params["url"], query)
