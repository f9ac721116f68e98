"""Which parser reads which source's responses: the one table shared by the spiders and `kaiku parse`."""

from __future__ import annotations

from collections.abc import Callable

from crawler.extract.appstore import parse_reviews
from crawler.extract.bluesky import parse_search
from crawler.extract.hackernews import parse_hits
from crawler.extract.mastodon import parse_statuses
from crawler.extract.posts import PostPage
from crawler.extract.reddit import parse_listing
from crawler.extract.rss import parse_feed
from crawler.extract.youtube import parse_comment_threads

Parser = Callable[[bytes | str, str], PostPage]

PARSERS: dict[str, Parser] = {
    "rss": parse_feed,
    "mastodon": parse_statuses,
    "bluesky": parse_search,
    "reddit": parse_listing,
    "hackernews": parse_hits,
    "appstore": parse_reviews,
    "youtube": parse_comment_threads,
}
