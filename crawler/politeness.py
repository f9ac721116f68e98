"""Per-source request budgets: how fast and how much a crawl may ask of each platform.

A source may set `requests_per_minute` and `max_requests` in sources.yaml; otherwise the spider's default
below applies, chosen to stay inside the platform's documented limit (with room for other clients behind the
same address). The rate becomes Scrapy's DOWNLOAD_DELAY, which AutoThrottle never goes below; the count is
enforced by crawler/middlewares.py `RequestBudgetMiddleware`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    requests_per_minute: float
    max_requests: int | None  # per crawl; None = bounded only by the spider's own limits (max_pages, paging)
    documented: str  # the platform's limit the default is derived from

    @property
    def delay_s(self) -> float:
        return 60.0 / self.requests_per_minute


DEFAULT_BUDGETS: dict[str, Budget] = {
    # Web pages: no published limit; one request a second is the customary polite rate.
    "reviews": Budget(60, None, "none published; 1 request/s is customary"),
    "rss": Budget(60, None, "none published; 1 request/s is customary"),
    # Mastodon: 300 requests per 5 minutes per IP for unauthenticated API calls (docs.joinmastodon.org, rate limits).
    "mastodon": Budget(30, None, "300 requests / 5 min per IP"),
    # Bluesky AppView: 3,000 requests per 5 minutes per IP (docs.bsky.app, rate limits).
    "bluesky": Budget(300, None, "3000 requests / 5 min per IP"),
    # Reddit Data API: 100 queries per minute per OAuth client; far less without OAuth (support.reddithelp.com).
    "reddit": Budget(10, None, "100 QPM with OAuth; ~10 QPM without"),
    # HN Algolia API: 10,000 requests per hour per IP (hn.algolia.com/api).
    "hackernews": Budget(100, None, "10000 requests / hour per IP"),
    # App Store customer-reviews RSS: no published limit; 10 pages per storefront at most.
    "appstore": Budget(20, None, "none published"),
    # YouTube Data API: 10,000 quota units a day per project; commentThreads.list costs 1 unit. Four crawls a day.
    "youtube": Budget(60, 2500, "10000 units / day; commentThreads.list = 1 unit"),
}
FALLBACK = DEFAULT_BUDGETS["reviews"]


def budget_for(spider: str, requests_per_minute: float | None = None, max_requests: int | None = None) -> Budget:
    """The spider's default budget with whatever the source configured over it."""
    default = DEFAULT_BUDGETS.get(spider, FALLBACK)
    return Budget(
        requests_per_minute or default.requests_per_minute,
        max_requests if max_requests is not None else default.max_requests,
        default.documented if requests_per_minute is None and max_requests is None else "configured",
    )
