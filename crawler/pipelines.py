"""Item pipelines: brand match -> language -> duplicates -> near-duplicates -> sentiment + index (docs/design.md §3).

Each component is built in `from_crawler` from the crawl's `CrawlContext` (brands, classifier, writer, store:
crawler/context.py) and plain settings, and raises `NotConfigured` when its dependency is missing, which switches
it off instead of failing the crawl.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector

from core.config import Brand
from core.defaults import BASELINE_DAYS, BASELINE_MIN_HISTORY, BATCH_SIZE
from core.experience import DEFAULT_THRESHOLDS, Baseline, ExperienceThresholds
from core.language import DEFAULT_LANGUAGES, DEFAULT_MIN_CONFIDENCE, decide_language
from core.mention import Mention, ModelInfo
from core.polarity import SentimentClassifier
from core.scoring import score_batch
from core.store import MentionWriter
from crawler import stats as keys
from crawler.baselines import BrandBaselines
from crawler.brands import BrandMatcher
from crawler.context import CrawlContext
from crawler.dedup import DEFAULT_THRESHOLD as DEFAULT_DEDUP_THRESHOLD
from crawler.dedup import IndexedTexts, PageTexts, SeenTexts
from crawler.items import MentionItem

logger = logging.getLogger(__name__)


def _drop(stats: StatsCollector, reason: str, item: MentionItem, detail: str = "") -> DropItem:
    stats.inc_value(f"{keys.DROPPED}{reason}")
    # DEBUG: dropping what matches no brand is the normal case on a review site, not a warning.
    return DropItem(f"{reason}{': ' + detail if detail else ''} ({item.url})", log_level="DEBUG")


class BrandMatchPipeline:
    """Keeps mentions of a configured brand; records the primary brand, all matches and the query id."""

    def __init__(self, brands: Sequence[Brand], stats: StatsCollector) -> None:
        self.matcher = BrandMatcher(brands)
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrandMatchPipeline:
        brands = CrawlContext.of(crawler).brands
        if not brands:
            raise NotConfigured("the crawl context names no brands")
        return cls(brands, crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, MentionItem):
            return item
        match = self.matcher.match(item.scoring_text, item.item_reviewed)
        if not match.brands:
            if match.excluded:
                detail = ", ".join(f"{brand} by {term!r}" for brand, term in match.excluded.items())
                raise _drop(self.stats, "excluded", item, detail)
            raise _drop(self.stats, "no_brand", item)
        item.brand = match.primary
        item.brands_matched = match.brands
        item.query_id = match.primary_query  # the brand id (name/aliases/terms) or "<brand id>/<query name>"
        self.stats.inc_value(f"{keys.BRAND}{item.brand}")
        return item


class LanguagePipeline:
    """Checks the declared language against lingua's detection (see core/language.py for the rule)."""

    def __init__(self, languages: tuple[str, ...], min_confidence: float, high_accuracy: bool, stats: StatsCollector):
        self.languages = languages
        self.min_confidence = min_confidence
        self.high_accuracy = high_accuracy
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LanguagePipeline:
        settings = crawler.settings
        if not settings.getbool("KAIKU_DETECT_LANGUAGE", True):
            raise NotConfigured("KAIKU_DETECT_LANGUAGE is off")
        languages = tuple(settings.getlist("KAIKU_LANGUAGES", list(DEFAULT_LANGUAGES)))
        return cls(
            languages,
            settings.getfloat("KAIKU_LANG_MIN_CONFIDENCE", DEFAULT_MIN_CONFIDENCE),
            settings.getbool("KAIKU_LANG_HIGH_ACCURACY", True),
            crawler.stats,
        )

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, MentionItem):
            return item
        # The detector is built on the first item, not in from_crawler: a crawl that finds nothing
        # should not pay for loading the language models.
        decision = decide_language(
            item.scoring_text,
            item.lang,
            languages=self.languages,
            min_confidence=self.min_confidence,
            high_accuracy=self.high_accuracy,
        )
        item.lang_declared = item.lang
        item.lang_detected = decision.detected
        item.lang_confidence = round(decision.confidence, 4)
        item.lang = decision.lang
        if item.lang_declared is None and decision.lang is not None:
            self.stats.inc_value(keys.LANG_UNDECLARED)
        if decision.overridden:
            self.stats.inc_value(keys.LANG_OVERRIDDEN)
            logger.debug("language %s -> %s (p=%.2f): %s", item.lang_declared, item.lang, decision.confidence, item.url)
        return item


class DuplicatePipeline:
    """Drops a mention already seen in this crawl (same review reached through two URLs)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DuplicatePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, MentionItem):
            return item
        if item.id in self.seen:
            raise _drop(self.stats, "duplicate", item)
        self.seen.add(item.id)
        return item


class PageTextsMiddleware:
    """Spider middleware: the mentions of one response share a `crawler.dedup.PageTexts`.

    NearDuplicatePipeline then asks the store about a whole page at once (one request, an `msearch` on
    Elasticsearch) instead of once per mention. The response's output is gathered before it is passed on, so the
    page is complete when its first mention reaches the pipeline.
    """

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterator[Any]:
        yield from _share_page(list(result))

    async def process_spider_output_async(self, response: Any, result: AsyncIterable[Any]) -> AsyncIterator[Any]:
        for each in _share_page([each async for each in result]):
            yield each


def _share_page(output: list[Any]) -> list[Any]:
    page = PageTexts([each for each in output if isinstance(each, MentionItem)])
    for item in page.items:
        item.page = page
    return output


class NearDuplicatePipeline:
    """Marks a near-copy of a mention seen earlier, in this crawl or in the index (crawler/dedup.py).

    Nothing is dropped: a copy is still a mention on its own page, but `near_duplicate_of` lets reports count
    it once. Every mention long enough to sign gets its LSH bands, so later copies can find it in the index.
    A copy within the crawl is found first; the store is asked only about the others, one request per page
    (PageTextsMiddleware), or per mention for items that come without a page.
    """

    def __init__(self, stats: StatsCollector, indexed: IndexedTexts | None, threshold: float) -> None:
        self.stats = stats
        self.indexed = indexed
        self.threshold = threshold
        self.seen = SeenTexts(threshold)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDuplicatePipeline:
        settings = crawler.settings
        store = CrawlContext.of(crawler).store
        lookup = settings.getbool("KAIKU_DEDUP_LOOKUP_INDEX", True)
        indexed = IndexedTexts(store) if store is not None and lookup else None
        return cls(crawler.stats, indexed, settings.getfloat("KAIKU_DEDUP_THRESHOLD", DEFAULT_DEDUP_THRESHOLD))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, MentionItem):
            return item
        page = item.page if item.page is not None else PageTexts([item])
        signed = page.signed(item)
        if signed is None:
            return item
        sig, bands = signed
        item.dedup_bands = bands
        root, where = self.seen.find(item.id, sig, bands), "crawl"
        if root is None and self.indexed is not None:
            try:
                root, where = page.indexed_root(item, self.indexed, self.threshold, self.seen), "index"
            except Exception as exc:  # noqa: BLE001 - an engine hiccup must not lose the mention; counted
                logger.warning("near-duplicate lookup failed for %s: %s", item.url, exc)
                self.stats.inc_value(f"{keys.ERRORS}dedup_lookup_{type(exc).__name__}")
        if root is not None:
            item.near_duplicate_of = root
            self.stats.inc_value(f"{keys.NEAR_DUPLICATES}{where}")
        self.seen.add(item.id, root or item.id, sig, bands)
        return item


class ScoreAndIndexPipeline:
    """Sentiment and indexing as one buffered stage.

    Why one stage: the model is only efficient on batches, so mentions have to wait in a buffer. Were
    sentiment and indexing two pipelines, the second would receive each item before the first had
    scored it. Here `process_item` hands every item on at once (so Scrapy counts and passes on each
    exactly once), and each full batch, and the rest when the spider closes, is scored with
    `score_batch` (ratings included), written with one bulk request, and the buffered items are
    updated in place with their scores.

    Scoring and writing run in the reactor thread and pause downloading while they do; with batches
    of ~32 that is a fraction of the crawl's politeness delay.

    A batch the classifier cannot score is indexed without scores (counted as `kaiku/errors/score_failed`)
    rather than lost: unscored mentions can be scored again later. A batch the engine refuses is counted
    under `kaiku/index_failed/<reason>` and logged.
    """

    def __init__(
        self,
        classifier: SentimentClassifier,
        writer: MentionWriter,
        stats: StatsCollector,
        batch_size: int = BATCH_SIZE,
        baselines: BrandBaselines | None = None,
        thresholds: ExperienceThresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"KAIKU_BATCH_SIZE must be at least 1, got {batch_size}")
        self.classifier = classifier
        self.writer = writer
        self.stats = stats
        self.batch_size = batch_size
        self.baselines = baselines  # each brand's norm, when the crawl has a store to read it from
        self.thresholds = thresholds
        self.buffer: list[MentionItem] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScoreAndIndexPipeline:
        settings, context = crawler.settings, CrawlContext.of(crawler)
        if context.classifier is None:
            raise NotConfigured("the crawl context has no classifier")
        if context.writer is None:
            raise NotConfigured("the crawl context has no writer")
        baselines = None
        if context.store is not None:  # each brand's norm for the relative experience class, read once per crawl
            baselines = BrandBaselines(
                context.store,
                list(context.brands),
                min_history=settings.getint("KAIKU_BASELINE_MIN_HISTORY", BASELINE_MIN_HISTORY),
                days=settings.getint("KAIKU_BASELINE_DAYS", BASELINE_DAYS),
            )
        batch_size = settings.getint("KAIKU_BATCH_SIZE", BATCH_SIZE)
        return cls(context.classifier, context.writer, crawler.stats, batch_size, baselines, context.thresholds)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, MentionItem):
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()
        settle = getattr(self.writer, "settle", None)
        if settle is not None and not settle():  # a store that acknowledges before its writes are durable
            logger.warning("some written mentions are not confirmed durable yet; they stay spooled for the next run")

    def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if batch:
            self._score(batch)
            self._index(batch)

    def _score(self, batch: list[MentionItem]) -> None:
        try:
            scored = score_batch(
                self.classifier,
                [item.scoring_text for item in batch],
                [(item.rating, item.rating_max) for item in batch],
                self.thresholds,
                baselines=[self._baseline(item) for item in batch] if self.baselines is not None else None,
            )
        except Exception:  # noqa: BLE001 - the mentions are still indexed, unscored; see the class docstring
            logger.exception("sentiment scoring failed for %d mentions; indexing them unscored", len(batch))
            self.stats.inc_value(f"{keys.ERRORS}score_failed", len(batch))
            return
        model_id = getattr(self.classifier, "model_id", None)
        model = (
            ModelInfo(id=model_id, version=getattr(self.classifier, "model_version", None) or "") if model_id else None
        )
        for item, result in zip(batch, scored, strict=True):
            item.polarity = result.polarity
            item.experience = result.experience
            item.experience_reason = result.reason
            item.model = model
            self.stats.inc_value(f"{keys.EXPERIENCE}{result.experience}")
        self.stats.inc_value(keys.SCORED, len(batch))

    def _baseline(self, item: MentionItem) -> Baseline | None:
        return self.baselines.for_brand(item.brand) if self.baselines is not None and item.brand else None

    def _index(self, batch: list[MentionItem]) -> None:
        mentions: list[Mention] = []
        for item in batch:
            try:
                mentions.append(item.to_mention())
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                logger.error("mention %s cannot be indexed: %s", item.id, exc)
                self.stats.inc_value(f"{keys.INDEX_FAILED}invalid_mention")
        if not mentions:
            return
        try:
            report = self.writer.write(mentions)
        except Exception as exc:  # noqa: BLE001 - e.g. EngineUnavailable: counted, logged, crawl goes on
            logger.error("writing %d mentions failed: %s", len(mentions), exc)
            self.stats.inc_value(f"{keys.INDEX_FAILED}{type(exc).__name__}", len(mentions))
            return
        self.stats.inc_value(keys.INDEXED, report.indexed)
        self.stats.inc_value(keys.SPOOLED, report.spooled)
        self.stats.inc_value(keys.REPLAYED, report.replayed)
        if report.retryable:  # a writer without a spool cannot keep them
            self.stats.inc_value(f"{keys.INDEX_FAILED}engine_busy", len(report.retryable))
        for mention_id, reason in report.failed:
            logger.error("mention %s was not indexed: %s", mention_id, reason)
            self.stats.inc_value(f"{keys.INDEX_FAILED}{reason.split(':', 1)[0].strip() or 'error'}")
