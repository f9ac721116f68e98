"""The live objects of one crawl (brands, classifier, writer, store), handed to its components on the Crawler.

Scrapy settings carry plain values only: Scrapy copies them for every crawler, and a copy of a loaded model or
an open store client would double its memory or fail outright. So the runner attaches one `CrawlContext` to the
Crawler before the crawl starts, and every component reads it in `from_crawler`, the way Scrapy extensions
receive the crawler itself. A crawler started without one (`scrapy crawl` with crawler/settings.py) gets an
empty context, and the components that need its objects switch themselves off (`NotConfigured`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scrapy.crawler import Crawler

from core.config import Brand
from core.experience import DEFAULT_THRESHOLDS, ExperienceThresholds
from core.polarity import SentimentClassifier
from core.store import MentionLookup, MentionWriter

_ATTRIBUTE = "kaiku_context"


@dataclass(frozen=True)
class CrawlContext:
    brands: Sequence[Brand]  # the brands the crawl listens for
    classifier: SentimentClassifier | None = None  # scores each batch of mentions
    writer: MentionWriter | None = None  # stores them
    # The store the writer writes to, where the caller has one: near-duplicates already stored and each brand's
    # norm are read from it. None: near-duplicates are looked for within the crawl only, and the experience
    # class is absolute.
    store: MentionLookup | None = None
    thresholds: ExperienceThresholds = DEFAULT_THRESHOLDS  # the experience rule's (core/experience.py)

    def attach(self, crawler: Crawler) -> None:
        setattr(crawler, _ATTRIBUTE, self)

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlContext:
        """The context attached to `crawler`, else an empty one."""
        context = getattr(crawler, _ATTRIBUTE, None)
        return context if isinstance(context, CrawlContext) else cls(brands=())
