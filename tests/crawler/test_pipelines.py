"""The item pipelines one by one, with fake stats, classifier and writer (no Scrapy engine)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import Settings

from bench.stand_ins import CollectingWriter, KeywordClassifier
from core.config import KaikuConfig
from core.language import decide_language
from crawler.context import CrawlContext
from crawler.items import MentionItem
from crawler.pipelines import BrandMatchPipeline, DuplicatePipeline, LanguagePipeline, ScoreAndIndexPipeline
from indexer.errors import EngineUnavailable
from tests.crawler.conftest import FakeStats

pytestmark = pytest.mark.unit


def item(text: str, item_reviewed: str | None = "Hotelli Revontuli Levi", n: int = 0, **fields) -> MentionItem:
    return MentionItem(
        id=f"id-{n}",
        source="reviews",
        url=f"http://site.test/p#r{n}",
        text=text,
        crawled_at=datetime(2026, 11, 22, tzinfo=UTC),
        item_reviewed=item_reviewed,
        **fields,
    )


def crawler(context: CrawlContext | None = None, **settings) -> SimpleNamespace:
    crawler = SimpleNamespace(settings=Settings(settings), stats=FakeStats())
    if context is not None:
        context.attach(crawler)  # type: ignore[arg-type]  # a stand-in for scrapy's Crawler
    return crawler


def test_brand_match_records_brand_and_query(kaiku_config: KaikuConfig) -> None:
    pipeline = BrandMatchPipeline.from_crawler(crawler(CrawlContext(kaiku_config.brands)))
    out = pipeline.process_item(item("Parempi kuin Tunturi Inn."))
    assert (out.brand, out.brands_matched, out.query_id) == ("revontuli", ["revontuli", "tunturi"], "revontuli")
    assert pipeline.stats.values == {"kaiku/brand/revontuli": 1}


def test_brand_match_drops_with_a_counted_reason(kaiku_config: KaikuConfig) -> None:
    pipeline = BrandMatchPipeline(kaiku_config.brands, FakeStats())
    with pytest.raises(DropItem, match="no_brand"):
        pipeline.process_item(item("Ihana kylpylä", item_reviewed="Merituuli Spa Hanko"))
    with pytest.raises(DropItem, match="excluded"):
        pipeline.process_item(item("Revontulet näkyivät, ei kuin Hotelli Revontulessa", item_reviewed="Merituuli Spa"))
    assert pipeline.stats.values == {"kaiku/dropped/no_brand": 1, "kaiku/dropped/excluded": 1}


def test_components_switch_off_without_their_dependency() -> None:
    with pytest.raises(NotConfigured):
        BrandMatchPipeline.from_crawler(crawler())
    with pytest.raises(NotConfigured):
        ScoreAndIndexPipeline.from_crawler(crawler(CrawlContext((), writer=CollectingWriter())))
    with pytest.raises(NotConfigured):
        ScoreAndIndexPipeline.from_crawler(crawler(CrawlContext((), classifier=KeywordClassifier())))
    with pytest.raises(NotConfigured):
        LanguagePipeline.from_crawler(crawler(KAIKU_DETECT_LANGUAGE=False))


def test_language_override_only_when_confident() -> None:
    finnish = "Ihan tavallinen kaupunkihotelli. Aamiainen oli hyvä, mutta huone oli viileä ja sängyt kovat."
    overridden = decide_language(finnish, "en")
    assert (overridden.lang, overridden.overridden) == ("fi", True)
    kept = decide_language("Great stay!", "fi")  # too short to be sure: the page's word stands
    assert (kept.lang, kept.overridden) == ("fi", False)
    filled = decide_language("The breakfast was fine, nothing special, as expected.", None)
    assert (filled.lang, filled.overridden) == ("en", False)


def test_language_pipeline_records_declared_and_detected() -> None:
    pipeline = LanguagePipeline.from_crawler(crawler())
    out = pipeline.process_item(item("Hyvä hotelli, mutta pysäköinti maksoi yllättävän paljon.", lang="en"))
    assert (out.lang, out.lang_declared, out.lang_detected) == ("fi", "en", "fi")
    assert pipeline.stats.values == {"kaiku/lang/overridden": 1}


def test_language_is_detected_when_undeclared_and_a_right_declaration_is_kept() -> None:
    pipeline = LanguagePipeline.from_crawler(crawler())
    undeclared = pipeline.process_item(item("The breakfast was fine, the room was quiet and the staff kind.", n=1))
    assert (undeclared.lang, undeclared.lang_declared, undeclared.lang_detected) == ("en", None, "en")
    kept = pipeline.process_item(item("Aamiainen oli hyvä ja huone hiljainen.", lang="fi", n=2, brand="revontuli"))
    assert (kept.lang, kept.lang_declared) == ("fi", "fi")
    assert pipeline.stats.values == {"kaiku/lang/detected_only": 1}
    mention = kept.to_mention()  # both are stored, so a wrong declaration can be audited in the index
    assert (mention.lang, mention.lang_declared, mention.lang_detected) == ("fi", "fi", "fi")


def test_duplicates_are_dropped() -> None:
    pipeline = DuplicatePipeline(FakeStats())
    pipeline.process_item(item("a", n=1))
    with pytest.raises(DropItem):
        pipeline.process_item(item("a again", n=1))
    assert pipeline.stats.values == {"kaiku/dropped/duplicate": 1}


def branded(n: int, text: str = "Ihan ok.", **fields) -> MentionItem:
    return item(text, n=n, brand="revontuli", brands_matched=["revontuli"], query_id="revontuli", **fields)


def test_score_and_index_batches_and_passes_each_item_once() -> None:
    classifier, writer, stats = KeywordClassifier(), CollectingWriter(), FakeStats()
    pipeline = ScoreAndIndexPipeline(classifier, writer, stats, batch_size=2)
    items = [branded(0, "Kamala kokemus", rating=1.0, rating_max=5.0), *(branded(n) for n in range(1, 5))]
    returned = [pipeline.process_item(i) for i in items]
    assert returned == items  # handed on at once, in order
    pipeline.close_spider()
    assert [len(batch) for batch in classifier.batches] == [2, 2, 1]
    assert [m.id for m in writer.mentions] == [i.id for i in items]  # each written exactly once
    first = writer.mentions[0]
    assert first.experience == "anger" and first.polarity is not None and first.polarity.negative > 0.9
    assert first.model is not None and first.model.id == "test-keywords"
    assert "rating 1/5" in (first.experience_reason or "")
    assert items[0].experience == "anger"  # the item itself is updated in place
    assert stats.values["kaiku/indexed"] == 5 and stats.values["kaiku/scored"] == 5


def test_a_batch_the_model_cannot_score_is_indexed_unscored() -> None:
    writer, stats = CollectingWriter(), FakeStats()
    pipeline = ScoreAndIndexPipeline(KeywordClassifier(fail=True), writer, stats, batch_size=10)
    pipeline.process_item(branded(1))
    pipeline.close_spider()
    assert [m.polarity for m in writer.mentions] == [None]
    assert stats.values["kaiku/errors/score_failed"] == 1 and stats.values["kaiku/indexed"] == 1


def test_index_failures_are_counted_by_reason() -> None:
    stats = FakeStats()
    writer = CollectingWriter(reject={"id-2": "mapper_parsing_exception: failed to parse [rating]"})
    pipeline = ScoreAndIndexPipeline(KeywordClassifier(), writer, stats)
    for n in (1, 2):
        pipeline.process_item(branded(n))
    pipeline.close_spider()
    assert stats.values["kaiku/indexed"] == 1
    assert stats.values["kaiku/index_failed/mapper_parsing_exception"] == 1


def test_an_unreachable_engine_is_counted_not_raised() -> None:
    stats = FakeStats()
    pipeline = ScoreAndIndexPipeline(KeywordClassifier(), CollectingWriter(error=EngineUnavailable("down")), stats)
    pipeline.process_item(branded(1))
    pipeline.close_spider()
    assert stats.values["kaiku/index_failed/EngineUnavailable"] == 1
    assert "kaiku/indexed" not in stats.values


def test_configured_thresholds_reach_the_scoring_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import Settings as KaikuSettings
    from kaiku.wiring import experience_thresholds

    monkeypatch.setenv("KAIKU_EXPERIENCE_TEXT_ANGER", "0.95")
    thresholds = experience_thresholds(KaikuSettings())
    assert thresholds.text_anger == 0.95
    writer = CollectingWriter()
    pipeline = ScoreAndIndexPipeline.from_crawler(
        crawler(CrawlContext((), KeywordClassifier(), writer, thresholds=thresholds))  # type: ignore[arg-type]
    )
    pipeline.process_item(branded(0, "Kamala kokemus"))  # P(negative) 0.92: anger by default, not at 0.95
    pipeline.close_spider()
    assert writer.mentions[0].experience == "comfort"
    assert writer.mentions[0].experience_reason == "no rating; no tail reached (negative 0.92, positive 0.03)"
