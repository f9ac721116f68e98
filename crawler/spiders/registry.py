"""Every spider by name: the one list that the crawl runner, `kaiku parse` and the politeness defaults read.

Each spider class declares, once, its name (the tag of its source model in the config: core/config.py
`Source`), its source model, its default request budget (crawler/politeness.py) and the parser that reads
its responses offline too. tests/crawler/test_spider_registry.py checks that this registry, the config's
sources and `core.mention.SourceName` name the same spiders, and that no other module lists them.
"""

from __future__ import annotations

from typing import Any

from core.mention import SourceName
from crawler.spiders.appstore import AppStoreSpider
from crawler.spiders.bluesky import BlueskySpider
from crawler.spiders.hackernews import HackerNewsSpider
from crawler.spiders.mastodon import MastodonSpider
from crawler.spiders.platform import PlatformSpider
from crawler.spiders.reddit import RedditSpider
from crawler.spiders.reviews import ReviewsSpider
from crawler.spiders.rss import RssSpider
from crawler.spiders.youtube import YouTubeSpider

SpiderClass = type[ReviewsSpider] | type[PlatformSpider[Any]]

SPIDERS: dict[SourceName, SpiderClass] = {
    spider.name: spider
    for spider in (
        ReviewsSpider,
        RssSpider,
        MastodonSpider,
        BlueskySpider,
        RedditSpider,
        HackerNewsSpider,
        AppStoreSpider,
        YouTubeSpider,
    )
}
