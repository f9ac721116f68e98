"""`mastodon`: hashtag timelines and status search on one instance (`base_url`, default mastodon.social).

- `hashtags`: `/api/v1/timelines/tag/:tag?limit=40`, paged by the `Link: <…max_id=…>; rel="next"` header;
  a repeated run sends `since_id` = the newest status id seen, so the instance returns only newer ones.
- `queries`: `/api/v2/search?type=statuses&q=…&limit=40`, paged by `max_id` = the oldest id of the page
  until a page comes back empty;
  search of statuses needs a token (`KAIKU_MASTODON_TOKEN`), which is also sent to timelines when set.
Limit: 300 requests per 5 minutes per account or IP; `max_pages` (per hashtag or query) keeps far below.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response

from core.config import MastodonSource, spider_of
from crawler.extract.mastodon import link_next, parse_statuses
from crawler.extract.posts import PostPage, PostRecord
from crawler.politeness import Budget
from crawler.spiders.platform import PlatformSpider, Query

PAGE_SIZE = 40  # the API's maximum for both endpoints
TOKEN = "KAIKU_MASTODON_TOKEN"


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    params = [(key, val) for key, val in parse_qsl(parts.query) if key != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(params)))


class MastodonSpider(PlatformSpider[MastodonSource]):
    name = spider_of(MastodonSource)
    source_model = MastodonSource
    parser = staticmethod(parse_statuses)
    # 300 requests per 5 minutes per IP for unauthenticated API calls (docs.joinmastodon.org, rate limits).
    budget = Budget(30, None, "300 requests / 5 min per IP")
    default_base_url = "https://mastodon.social"
    custom_settings = {"ROBOTSTXT_OBEY": False}  # an API, governed by its rate limits, not a page for robots

    def required_credentials(self) -> tuple[str, ...]:
        return (TOKEN,) if self.source.queries else ()

    def build_queries(self) -> list[Query]:
        tags = [Query(key=f"tag:{tag.lstrip('#')}", params={"tag": tag.lstrip("#")}) for tag in self.source.hashtags]
        return tags + [Query(key=f"search:{q}", params={"q": q}) for q in self.source.queries]

    def marker(self, post: PostRecord) -> Any:
        return int(post.local_id) if post.local_id and post.local_id.isdigit() else None

    def _headers(self) -> dict[str, str]:
        token = self.credential(TOKEN)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def first_request(self, query: Query) -> scrapy.Request | None:
        since = query.state.get("newest")
        if "tag" in query.params:
            url = self.url(
                f"/api/v1/timelines/tag/{quote(query.params['tag'], safe='')}",
                {"limit": PAGE_SIZE, "since_id": since},
            )
        else:
            url = self.url("/api/v2/search", {"q": query.params["q"], "type": "statuses", "limit": PAGE_SIZE})
        return self.request(url, query, headers=self._headers())

    def next_request(self, response: Response, page: PostPage, query: Query) -> scrapy.Request | None:
        if page.size == 0:
            return None
        since = query.state.get("newest")
        if "tag" in query.params:
            header = response.headers.get("Link")
            url = link_next(header.decode("latin-1") if header else None)
            if url and since is not None:
                url = _with_param(url, "since_id", str(since))  # instances leave it out of their Link URLs
        elif page.next_cursor:  # until an empty page: an instance may return fewer than `limit` mid-way
            url = _with_param(response.url, "max_id", page.next_cursor)
        else:
            url = None
        return self.request(url, query, headers=self._headers()) if url else None
