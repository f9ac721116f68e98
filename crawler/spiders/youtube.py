"""`youtube`: comments of configured videos and channels, YouTube Data API v3 `commentThreads.list`.

`/youtube/v3/commentThreads?part=snippet&videoId=…&searchTerms=…&maxResults=100&order=time&textFormat=plainText`,
paged with `pageToken` = the response's `nextPageToken`. One query per (video, search term); without
`queries` every comment of the video is read. A channel in `channel_ids` is read the same way with
`allThreadsRelatedToChannelId` instead of `videoId`: comments on every video of the channel.
The API key (`KAIKU_YOUTUBE_API_KEY`) travels in the `X-Goog-Api-Key` header rather than the URL, so it
stays out of logs. Quota: 10,000 units a day, one unit
per request; a repeated run stops paging at the first comment not newer than the newest one seen.
"""

from __future__ import annotations

import scrapy
from scrapy.http import Response

from core.config import YouTubeSource, spider_of
from crawler.extract.posts import PostPage
from crawler.extract.youtube import parse_comment_threads
from crawler.politeness import Budget
from crawler.spiders.platform import PlatformSpider, Query

PAGE_SIZE = 100
KEY = "KAIKU_YOUTUBE_API_KEY"
PATH = "/youtube/v3/commentThreads"


class YouTubeSpider(PlatformSpider[YouTubeSource]):
    name = spider_of(YouTubeSource)
    source_model = YouTubeSource
    parser = staticmethod(parse_comment_threads)
    # Data API: 10,000 quota units a day per project; commentThreads.list costs 1 unit. Four crawls a day.
    budget = Budget(60, 2500, "10000 units / day; commentThreads.list = 1 unit")
    default_base_url = "https://www.googleapis.com"
    credentials_required = (KEY,)
    custom_settings = {"ROBOTSTXT_OBEY": False}  # an API, governed by its quota, not a page for robots

    def build_queries(self) -> list[Query]:
        terms: list[str | None] = list(self.source.queries) or [None]
        targets = [("video", video) for video in self.source.video_ids]
        targets += [("channel", channel) for channel in self.source.channel_ids]
        return [
            Query(
                key=f"{value}:{term or '*'}" if kind == "video" else f"channel/{value}:{term or '*'}",
                params={kind: value, **({"q": term} if term else {})},
            )
            for kind, value in targets
            for term in terms
        ]

    def _request(self, query: Query, token: str | None = None) -> scrapy.Request | None:
        params = {
            "part": "snippet",
            "videoId": query.params.get("video"),
            "allThreadsRelatedToChannelId": query.params.get("channel"),
            "searchTerms": query.params.get("q"),
            "maxResults": PAGE_SIZE,
            "order": "time",
            "textFormat": "plainText",
            "pageToken": token,
        }
        return self.request(self.url(PATH, params), query, headers={"X-Goog-Api-Key": self.credential(KEY) or ""})

    def first_request(self, query: Query) -> scrapy.Request | None:
        return self._request(query)

    def next_request(self, response: Response, page: PostPage, query: Query) -> scrapy.Request | None:
        return self._request(query, token=page.next_cursor) if page.next_cursor and page.size else None
