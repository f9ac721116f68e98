"""Per-source request budgets: how fast and how much a crawl may ask of each platform.

A source may set `requests_per_minute` and `max_requests` in sources.yaml; otherwise the spider's default
applies (the `budget` each spider class declares), chosen to stay inside the platform's documented limit (with
room for other clients behind the same address). The rate becomes Scrapy's DOWNLOAD_DELAY, which AutoThrottle
never goes below; the count is enforced by crawler/middlewares.py `RequestBudgetMiddleware`.
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


# Web pages and feeds: no published limit; one request a second is the customary polite rate.
WEB_PAGES = Budget(60, None, "none published; 1 request/s is customary")


def budget_for(default: Budget, requests_per_minute: float | None = None, max_requests: int | None = None) -> Budget:
    """A spider's default budget (its `budget`) with whatever the source configured over it."""
    return Budget(
        requests_per_minute or default.requests_per_minute,
        max_requests if max_requests is not None else default.max_requests,
        default.documented if requests_per_minute is None and max_requests is None else "configured",
    )
