"""Near-duplicates (crawler/dedup.py): the signature, the in-crawl memory, a pair marked end to end in the engine."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.stand_ins import CollectingWriter, KeywordClassifier
from cli.demo.server import DemoSite, serve_site
from core.config import KaikuConfig, source_of
from core.mention import Mention
from core.store import DuplicateCandidate
from crawler.context import CrawlContext
from crawler.dedup import BANDS, DEFAULT_THRESHOLD, MIN_CHARS, IndexedTexts, SeenTexts, signature
from crawler.runner import run_crawl
from indexer.admin import ensure_index
from indexer.es_store import ElasticsearchMentionStore
from indexer.queries import MentionFilters, search_mentions
from indexer.sqlite_store import SQLiteMentionStore
from indexer.writer import BulkWriter

REVIEW = (
    "Yövyimme Tunturi Innissä kolme yötä helmikuussa. Huone oli siisti ja hiljainen, aamiainen runsas ja "
    "henkilökunta ystävällistä. Sauna lämpeni joka ilta ja hiihtoladut alkoivat ovelta. Tulemme uudelleen."
)
COPY = REVIEW.replace("kolme", "neljä") + " Lähetetty iPhonesta"
OTHER = (
    "Tunturi Inn oli pettymys: huone haisi tupakalta, suihku ei toiminut ja vastaanotossa ei vastattu "
    "puhelimeen. Aamiaiselta loppui kahvi jo kahdeksalta. Emme tule takaisin, vaikka sijainti on hyvä."
)


@pytest.mark.unit
def test_a_lightly_edited_copy_is_similar_and_another_review_is_not() -> None:
    original, copy, other = signature(REVIEW), signature(COPY), signature(OTHER)
    assert original is not None and copy is not None and other is not None
    assert original.similarity(copy) >= DEFAULT_THRESHOLD
    assert original.similarity(other) < 0.3
    assert set(original.bands()) & set(copy.bands())  # LSH shows the pair


@pytest.mark.unit
def test_case_accents_and_punctuation_do_not_matter_and_signatures_are_stable() -> None:
    a = signature(REVIEW)
    b = signature(REVIEW.upper().replace("ö", "o").replace(".", " !"))
    assert a is not None and b is not None and a.similarity(b) == 1.0
    # Bands are stored in the index: the same text must give the same bands in every process, forever.
    assert a.bands()[0] == signature(REVIEW).bands()[0]  # type: ignore[union-attr]
    assert len(a.bands()) == BANDS and len(set(a.bands())) == BANDS


@pytest.mark.unit
def test_short_texts_are_not_signed() -> None:
    assert signature("Great stay!") is None
    assert signature("x" * (MIN_CHARS - 1)) is None


@pytest.mark.unit
def test_seen_texts_point_to_the_first_copy_and_never_to_the_mention_itself() -> None:
    seen = SeenTexts()
    first, second, third = signature(REVIEW), signature(COPY), signature(COPY + " Kiitos!")
    assert first and second and third
    assert seen.find("a", first, first.bands()) is None
    seen.add("a", "a", first, first.bands())
    assert seen.find("a", first, first.bands()) is None  # the same mention again (a re-crawl) is not a copy
    assert seen.find("b", second, second.bands()) == "a"
    seen.add("b", "a", second, second.bands())
    assert seen.find("c", third, third.bands()) == "a"  # a copy of a copy points at the first


@pytest.mark.unit
@given(st.text(min_size=MIN_CHARS, max_size=300))
@settings(max_examples=100, deadline=None)
def test_any_text_signs_without_error_and_is_identical_to_itself(text: str) -> None:
    sig = signature(text)
    if sig is not None:
        assert sig.similarity(sig) == 1.0


class CandidatesInOrder:
    """A store that answers with these candidates, in this order (Elasticsearch orders them by score, not time)."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        self.candidates = candidates

    def near_duplicate_candidates(self, bands_by_mention: Any, limit: int) -> dict[str, list[DuplicateCandidate]]:
        return {mention_id: self.candidates for mention_id in bands_by_mention}


candidates = st.lists(
    st.builds(
        DuplicateCandidate,
        st.sampled_from(["a", "b", "c", "new"]),
        st.sampled_from([REVIEW, COPY, OTHER, "short"]),
        st.sampled_from([None, None, "a", "c", "new"]),
        st.sampled_from(["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00.500000+00:00", "2026-02-01T00:00:00Z"]),
    ),
    max_size=8,
)


@pytest.mark.unit
@given(candidates)
@settings(max_examples=200, deadline=None)
def test_the_stored_root_is_the_earliest_similar_copy_whatever_order_the_store_answers_in(
    found: list[DuplicateCandidate],
) -> None:
    sig = signature(REVIEW)
    assert sig is not None
    similar = [
        (c.filed_at, c.near_duplicate_of or c.id)
        for c in found
        if (c.near_duplicate_of or c.id) != "new"
        and (other := signature(c.text)) is not None
        and sig.similarity(other) >= DEFAULT_THRESHOLD
    ]
    expected = min(similar)[1] if similar else None  # earliest filed, then the smallest root
    assert IndexedTexts(CandidatesInOrder(found)).find("new", sig, sig.bands()) == expected


@pytest.mark.unit
def test_the_pipeline_marks_a_copy_within_the_crawl_and_the_index_lookup_can_be_switched_off() -> None:
    from types import SimpleNamespace

    from scrapy.settings import Settings

    from crawler.context import CrawlContext
    from crawler.items import MentionItem
    from crawler.pipelines import NearDuplicatePipeline
    from tests.crawler.conftest import FakeStats

    never = SimpleNamespace(near_duplicate_candidates=lambda *args: pytest.fail("the index must not be asked"))
    crawler = SimpleNamespace(settings=Settings({"KAIKU_DEDUP_LOOKUP_INDEX": False}), stats=FakeStats())
    CrawlContext((), store=never).attach(crawler)  # type: ignore[arg-type]
    pipeline = NearDuplicatePipeline.from_crawler(crawler)  # type: ignore[arg-type]
    now = datetime(2026, 11, 22, tzinfo=UTC)
    first = pipeline.process_item(MentionItem(id="a", source="reviews", url="u1", text=REVIEW, crawled_at=now))
    copy = pipeline.process_item(MentionItem(id="b", source="reviews", url="u2", text=COPY, crawled_at=now))
    short = pipeline.process_item(MentionItem(id="c", source="reviews", url="u3", text="Great!", crawled_at=now))
    assert (first.near_duplicate_of, copy.near_duplicate_of, short.near_duplicate_of) == (None, "a", None)
    assert len(first.dedup_bands) == BANDS and short.dedup_bands == []
    assert crawler.stats.values == {"kaiku/near_duplicates/crawl": 1}


# --- End to end: a crawl into the real local engine ----------------------------------------------------------------


def review_page(title: str, body: str, author: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "Review",
        "itemReviewed": {"@type": "Hotel", "name": "Tunturi Inn Ylläs"},
        "author": {"@type": "Person", "name": author},
        "datePublished": "2026-02-14",
        "reviewRating": {"@type": "Rating", "ratingValue": 4},
        "name": title,
        "reviewBody": body,
    }
    return (
        f'<html lang="fi"><head><script type="application/ld+json">{json.dumps(data)}</script></head>'
        f"<body><h1>{title}</h1></body></html>"
    )


@pytest.fixture
def copy_site(tmp_path: Path) -> Iterator[DemoSite]:
    """Two sites in one: the same review pasted on two pages with a small edit, and an unrelated review."""
    (tmp_path / "index.html").write_text(
        '<html><body><a href="/a.html">a</a> <a href="/b.html">b</a> <a href="/c.html">c</a></body></html>',
        encoding="utf-8",
    )
    (tmp_path / "a.html").write_text(review_page("Hieno loma", REVIEW, "Maija"), encoding="utf-8")
    (tmp_path / "b.html").write_text(review_page("Hieno loma!", COPY, "maija_k"), encoding="utf-8")
    (tmp_path / "c.html").write_text(review_page("Ei enää", OTHER, "Pekka"), encoding="utf-8")
    site = serve_site(port=0, directory=tmp_path)
    yield site
    site.stop()


def indexed(es: Elasticsearch, alias: str) -> dict[str, dict]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, query={"match_all": {}}, size=100)["hits"]["hits"]
    return {hit["_source"]["author"]: hit["_source"] for hit in hits}


@pytest.mark.integration
def test_a_near_duplicate_pair_is_marked_in_the_engine_and_a_second_crawl_adds_nothing(
    copy_site: DemoSite, kaiku_config: KaikuConfig, es: Elasticsearch, alias: str, tmp_path: Path
) -> None:
    ensure_index(es, alias)
    writer = BulkWriter(es, alias)
    source = source_of(id="copies", spider="reviews", start_urls=[copy_site.url + "/"])
    settings_ = {"KAIKU_DETECT_LANGUAGE": False}
    first = run_crawl(
        source,
        CrawlContext(kaiku_config.brands, KeywordClassifier(), writer, ElasticsearchMentionStore(es, alias)),
        extra_settings=settings_,
        allow_private_urls=True,
    )
    assert first.indexed == 3 and first.stats["kaiku/near_duplicates/crawl"] == 1
    docs = indexed(es, alias)
    assert len(docs) == 3
    original, copy, other = docs["Maija"], docs["maija_k"], docs["Pekka"]
    marked, first_seen = (copy, original) if copy["near_duplicate_of"] else (original, copy)
    assert marked["near_duplicate_of"] == first_seen["id"]
    assert other["near_duplicate_of"] is None
    assert len(original["dedup_bands"]) == BANDS

    # Second crawl of the unchanged site: same ids overwrite, nothing new, and the marks stay as they were.
    second = run_crawl(
        source,
        CrawlContext(kaiku_config.brands, KeywordClassifier(), writer, ElasticsearchMentionStore(es, alias)),
        extra_settings=settings_,
        allow_private_urls=True,
    )
    assert second.indexed == 3
    again = indexed(es, alias)
    assert len(again) == 3
    assert {a: d["near_duplicate_of"] for a, d in again.items()} == {a: d["near_duplicate_of"] for a, d in docs.items()}

    # A third copy appearing later on another site is found through the index alone.
    (tmp_path / "late").mkdir()
    (tmp_path / "late" / "index.html").write_text(
        review_page("Loma", COPY.replace("helmikuussa", "maaliskuussa"), "M. K."), encoding="utf-8"
    )
    with serve_site(port=0, directory=tmp_path / "late") as late_site:
        late = source_of(id="late", spider="reviews", start_urls=[late_site.url + "/"])
        third = run_crawl(
            late,
            CrawlContext(kaiku_config.brands, KeywordClassifier(), writer, ElasticsearchMentionStore(es, alias)),
            extra_settings=settings_,
            allow_private_urls=True,
        )
    assert third.stats["kaiku/near_duplicates/index"] == 1
    assert indexed(es, alias)["M. K."]["near_duplicate_of"] == first_seen["id"]

    # What the API serves has the mark but not the bands (an internal lookup field).
    page = search_mentions(es, alias, MentionFilters(brand="tunturi"), size=10)
    assert page.count == 4 and sum(1 for m in page.data if m["near_duplicate_of"]) == 2
    assert all("dedup_bands" not in m for m in page.data)


# --- One store request per page ------------------------------------------------------------------------------------


def made_up_review(seed: int) -> str:
    """A review of words of random letters: no two seeds share more than a few shingles."""
    rng = random.Random(seed)
    made_up = ["".join(rng.choices("abdefghijklmnoprstuvy", k=rng.randint(4, 9))) for _ in range(14)]
    return f"Tunturi Inn: {' '.join(made_up)}."


def hotel_page(bodies: list[str]) -> str:
    """One hotel page holding several reviews, as review sites list them (schema.org Hotel with `review`)."""
    data = {
        "@context": "https://schema.org",
        "@type": "Hotel",
        "name": "Tunturi Inn Ylläs",
        "review": [
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": f"Arvioija {n}"},
                "datePublished": "2026-02-14",
                "reviewRating": {"@type": "Rating", "ratingValue": 4},
                "reviewBody": body,
            }
            for n, body in enumerate(bodies)
        ],
    }
    return f'<html lang="fi"><head><script type="application/ld+json">{json.dumps(data)}</script></head></html>'


class CountingLookups:
    """Wraps a real store and records the mentions of each near-duplicate request it is sent."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.requests: list[int] = []

    def near_duplicate_candidates(self, bands_by_mention: Any, limit: int) -> Any:
        self.requests.append(len(bands_by_mention))
        return self.store.near_duplicate_candidates(bands_by_mention, limit)

    def polarity_nets(self, brands: Any, start: Any, end: Any, limit: int) -> list[float]:
        return self.store.polarity_nets(brands, start, end, limit)


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["elasticsearch", "embedded"])
def test_a_page_of_reviews_costs_one_lookup_and_copies_are_still_marked(
    kind: str, kaiku_config: KaikuConfig, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "elasticsearch":  # the local engine over HTTP: one msearch per request
        store: Any = ElasticsearchMentionStore(request.getfixturevalue("es"), request.getfixturevalue("alias"))
    else:
        store = SQLiteMentionStore(tmp_path / "mentions.sqlite3")
    store.ensure_ready()
    earlier = made_up_review(100)
    sig = signature(earlier)
    assert sig is not None
    stored = Mention(
        id="stored-earlier", brand="tunturi", source="reviews", url="https://elsewhere.example/1", text=earlier,
        published_at=datetime(2026, 1, 2, tzinfo=UTC), crawled_at=datetime(2026, 1, 2, tzinfo=UTC),
        dedup_bands=sig.bands(),
    )  # fmt: skip
    store.write([stored])
    store.refresh()
    bodies = [made_up_review(n) for n in range(12)]
    bodies[5] = earlier.replace(".", ". Lähetetty iPhonesta.")  # a copy of a mention in the store
    bodies[9] = bodies[2] + " Suosittelen."  # a copy of a review earlier on the same page
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(hotel_page(bodies), encoding="utf-8")

    lookups = CountingLookups(store)
    writer = CollectingWriter()
    with serve_site(port=0, directory=tmp_path / "site") as site:
        source = source_of(id="one-page", spider="reviews", start_urls=[site.url + "/"])
        summary = run_crawl(
            source,
            CrawlContext(kaiku_config.brands, KeywordClassifier(), writer, lookups),
            extra_settings={"KAIKU_DETECT_LANGUAGE": False},
            allow_private_urls=True,
        )
    assert summary.reviews == 12 and len(writer.mentions) == 12
    assert lookups.requests == [12], "one request for the whole page, asking about every review on it"
    marks = {m.text: m.near_duplicate_of for m in writer.mentions}
    by_text = {m.text: m.id for m in writer.mentions}
    assert marks[bodies[5]] == "stored-earlier"
    assert marks[bodies[9]] == by_text[bodies[2]]
    assert sum(1 for root in marks.values() if root) == 2
    assert summary.stats["kaiku/near_duplicates/index"] == 1 and summary.stats["kaiku/near_duplicates/crawl"] == 1
