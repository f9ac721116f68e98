"""Whole crawls through Scrapy against sites served on loopback, with a fake classifier and writer.

`run_crawl` runs several times in this one test process: that it can is part of what is tested.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.stand_ins import CollectingWriter, KeywordClassifier
from cli.demo.server import DemoSite, serve_site
from core.config import KaikuConfig, Source, source_of
from crawler.context import CrawlContext
from crawler.runner import CrawlSummary, run_crawl
from indexer.errors import EngineUnavailable
from tests.crawler.conftest import PAGES
from tests.crawler.review_pages import LONG_PAGE_REVIEWS, long_review_page

pytestmark = pytest.mark.integration

DEMO_PAGES = {
    "index.html",
    "tietoa.html",
    "lukijoiden-kokemuksia.html",
    "merituuli-spa.html",
    "revontuli-levi.html",
    "revontuli-levi-2.html",
    "revontuli-helsinki.html",
    "revontuli-helsinki-2.html",
    "tunturi-yllas.html",
    "tunturi-yllas-2.html",
    "tunturi-inn-rovaniemi.html",
}


def demo_source(config: KaikuConfig, site: DemoSite, **changes) -> Source:
    return config.source("demo-reviews").model_copy(update={"start_urls": [site.url + "/"], **changes})


@pytest.fixture(scope="module")
def demo_crawl(
    demo_site: DemoSite, kaiku_config: KaikuConfig
) -> tuple[CrawlSummary, KeywordClassifier, CollectingWriter]:
    classifier, writer = KeywordClassifier(), CollectingWriter()
    summary = run_crawl(
        demo_source(kaiku_config, demo_site),
        CrawlContext(kaiku_config.brands, classifier, writer),
        extra_settings={"KAIKU_BATCH_SIZE": 8},
        allow_private_urls=True,
    )
    return summary, classifier, writer


def test_every_page_is_requested_once_including_rel_next_pages(demo_crawl) -> None:
    summary, _, writer = demo_crawl
    assert summary.finish_reason == "finished"
    assert summary.stats["kaiku/pages/parsed"] == len(DEMO_PAGES) == summary.pages
    # robots.txt + 11 pages + the plain-text price list; nothing twice.
    assert summary.requests == summary.responses == len(DEMO_PAGES) + 2
    pages = {m.url.split("/")[-1].split("#")[0] for m in writer.mentions}
    assert {"revontuli-levi-2.html", "revontuli-helsinki-2.html", "tunturi-yllas-2.html"} <= pages  # only via rel=next


def test_skips_and_drops_are_counted_by_reason(demo_crawl) -> None:
    summary, _, _ = demo_crawl
    stats = summary.stats
    assert stats["kaiku/skipped/malformed_jsonld"] == 1
    assert stats["kaiku/skipped/non_html"] == 1  # hinnasto.txt
    assert stats["kaiku/skipped/no_reviews"] == 2  # the index and the about page
    assert stats["kaiku/skipped/no_text"] == 1  # a rating without words
    assert stats["kaiku/dropped/no_brand"] == 2  # Merituuli Spa
    assert stats["kaiku/dropped/excluded"] == 1  # "revontulet näkyivät" on the spa page
    assert stats["kaiku/reviews"] == 32
    assert summary.dropped == {"excluded": 1, "no_brand": 2}
    assert summary.errors == {} and summary.index_failed == {}
    assert summary.ok


def test_matching_mentions_are_scored_and_written_once(demo_crawl) -> None:
    summary, classifier, writer = demo_crawl
    mentions = writer.mentions
    assert summary.items == summary.indexed == summary.scored == len(mentions) == 29
    assert len({m.id for m in mentions}) == 29
    assert all(len(batch) <= 8 for batch in classifier.batches)
    assert summary.brands == {"revontuli": 15, "tunturi": 14}
    assert not any("merituuli" in m.url for m in mentions)
    # The malformed page's valid microdata review still made it.
    assert any(m.url.split("#")[0].endswith("/lukijoiden-kokemuksia.html") for m in mentions)
    assert all(m.model is not None and m.model.id == "test-keywords" for m in mentions)


def test_the_tails_and_the_comfort_zone(demo_crawl) -> None:
    _, _, writer = demo_crawl
    by_author = {m.author: m for m in writer.mentions}
    furious = by_author["Mikko Heikkinen"]
    assert (furious.lang, furious.rating, furious.experience, furious.brand) == ("fi", 1.0, "anger", "revontuli")
    delighted = by_author["Emily & James Carter"]
    assert (delighted.lang, delighted.rating, delighted.rating_max, delighted.experience) == (
        "en",
        10.0,
        10.0,
        "delight",
    )
    assert delighted.brand == "tunturi"
    comfort = [m for m in writer.mentions if m.rating is not None and m.rating_max == 5 and 3 <= m.rating <= 4]
    assert len(comfort) >= 8 and all(m.experience == "comfort" for m in comfort)


def test_languages_declared_wrong_are_corrected(demo_crawl) -> None:
    summary, _, writer = demo_crawl
    by_author = {m.author: m for m in writer.mentions}
    assert by_author["Päivi"].lang == "fi"  # Finnish review on an English page
    assert by_author["Aino L."].lang == "fi"
    assert by_author["Annika S."].lang == "sv"  # from the review's own inLanguage
    assert by_author["Sarah O'Connor"].lang == "en"
    assert summary.stats["kaiku/lang/overridden"] == 2


def test_a_second_crawl_in_the_same_process_respects_max_pages(demo_site: DemoSite, kaiku_config: KaikuConfig) -> None:
    writer = CollectingWriter()
    summary = run_crawl(
        demo_source(kaiku_config, demo_site, max_pages=3),
        CrawlContext(kaiku_config.brands, KeywordClassifier(), writer),
        allow_private_urls=True,
    )
    assert summary.pages == 3
    assert summary.stats["kaiku/skipped/max_pages"] >= 1
    assert summary.indexed == len(writer.mentions)


def test_a_source_can_narrow_the_brands(demo_site: DemoSite, kaiku_config: KaikuConfig) -> None:
    writer = CollectingWriter()
    summary = run_crawl(
        demo_source(kaiku_config, demo_site, brands=["tunturi"]),
        CrawlContext(kaiku_config.brands, KeywordClassifier(), writer),
        allow_private_urls=True,
    )
    assert {m.brand for m in writer.mentions} == {"tunturi"}
    assert summary.dropped["no_brand"] > 2


def test_an_unreachable_engine_fails_the_summary_not_the_crawl(demo_site: DemoSite, kaiku_config: KaikuConfig) -> None:
    writer = CollectingWriter(error=EngineUnavailable("engine at http://127.0.0.1:9 is not reachable"))
    summary = run_crawl(
        demo_source(kaiku_config, demo_site),
        CrawlContext(kaiku_config.brands, KeywordClassifier(), writer),
        allow_private_urls=True,
    )
    assert summary.finish_reason == "finished"
    assert summary.index_failed == {"EngineUnavailable": 29}
    assert not summary.ok
    assert "index failures: EngineUnavailable 29" in summary.format()


@pytest.fixture
def rough_site(tmp_path: Path) -> Iterator[DemoSite]:
    """A site with a dead link, a robots.txt refusal and a page whose markup is not a review at all."""
    (tmp_path / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.html").write_text("<html><body>no</body></html>", encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<html lang="en"><body><a href="/missing.html">gone</a> <a href="/private/secret.html">private</a>'
        ' <a href="/review.html">review</a> <a href="https://elsewhere.example/">offsite</a></body></html>',
        encoding="utf-8",
    )
    (tmp_path / "review.html").write_text(
        '<html lang="en"><body><div itemscope itemtype="https://schema.org/Review">'
        '<span itemprop="itemReviewed">Tunturi Inn Rovaniemi</span>'
        '<p itemprop="reviewBody">Fine for a night.</p></div>'
        '<script type="application/ld+json">{"@type": "Review", "reviewBody": </script></body></html>',
        encoding="utf-8",
    )
    site = serve_site(port=0, directory=tmp_path)
    yield site
    site.stop()


def test_bad_links_are_counted_and_the_crawl_goes_on(rough_site: DemoSite, kaiku_config: KaikuConfig) -> None:
    source = source_of(id="rough", spider="reviews", start_urls=[rough_site.url + "/"])
    writer = CollectingWriter()
    summary = run_crawl(
        source,
        CrawlContext(kaiku_config.brands, KeywordClassifier(), writer),
        extra_settings={"RETRY_TIMES": 0},
        allow_private_urls=True,
    )
    assert summary.errors == {"http_404": 1}
    assert summary.stats["robotstxt/forbidden"] == 1
    assert summary.skipped["ignored_request"] == 1
    assert summary.skipped["malformed_jsonld"] == 1
    assert [m.text for m in writer.mentions] == ["Fine for a night."]
    assert summary.ok  # one dead link does not fail a crawl that read pages


def test_a_site_that_is_down_is_not_ok(kaiku_config: KaikuConfig) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = source_of(id="down", spider="reviews", start_urls=[f"http://127.0.0.1:{port}/"])
    summary = run_crawl(
        source,
        CrawlContext(kaiku_config.brands, KeywordClassifier(), CollectingWriter()),
        extra_settings={"RETRY_TIMES": 0},
        allow_private_urls=True,
    )
    assert summary.pages == 0
    assert summary.errors and not summary.ok


@pytest.fixture
def numbered_pages_site(tmp_path: Path) -> Iterator[DemoSite]:
    """A hotel's reviews over three pages linked by page numbers only (no rel=next), and a login link."""

    def review_page(number: int, text: str, next_link: str) -> str:
        return (
            '<html lang="fi"><body><a href="/kirjaudu.html">Kirjaudu</a>'
            '<div itemscope itemtype="https://schema.org/Review">'
            '<span itemprop="itemReviewed">Tunturi Inn Rovaniemi</span>'
            f'<p itemprop="reviewBody">{text}</p></div> <span>Sivu {number}</span> {next_link}</body></html>'
        )

    (tmp_path / "index.html").write_text('<html><body><a href="/tunturi.html">Tunturi</a></body></html>')
    (tmp_path / "tunturi.html").write_text(review_page(1, "Hyvä sijainti.", '<a href="/tunturi-sivu-2.html">2</a>'))
    (tmp_path / "tunturi-sivu-2.html").write_text(
        review_page(2, "Siisti huone.", '<a href="tunturi-sivu-3.html">3</a>')
    )
    (tmp_path / "tunturi-sivu-3.html").write_text(review_page(3, "Hidas vastaanotto.", ""))
    (tmp_path / "kirjaudu.html").write_text("<html><body>login</body></html>")
    site = serve_site(port=0, directory=tmp_path)
    yield site
    site.stop()


def test_configured_patterns_follow_pagination_without_rel_next(
    numbered_pages_site: DemoSite, kaiku_config: KaikuConfig
) -> None:
    plain = source_of(id="numbered", spider="reviews", start_urls=[numbered_pages_site.url + "/"])
    writer = CollectingWriter()
    run_crawl(plain, CrawlContext(kaiku_config.brands, KeywordClassifier(), writer), allow_private_urls=True)
    assert [m.text for m in writer.mentions] == ["Hyvä sijainti."]  # page 2 is linked from a non-start page only

    paged = plain.model_copy(update={"follow": [r"-sivu-\d+\.html$"]})
    writer = CollectingWriter()
    summary = run_crawl(paged, CrawlContext(kaiku_config.brands, KeywordClassifier(), writer), allow_private_urls=True)
    assert sorted(m.text for m in writer.mentions) == ["Hidas vastaanotto.", "Hyvä sijainti.", "Siisti huone."]
    # index, tunturi and its two further pages; the login page is linked from every page but never fetched.
    assert summary.pages == 4


def test_follow_patterns_are_checked_and_belong_to_the_reviews_spider() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"not a regular expression: '\(sivu'"):
        source_of(id="bad", spider="reviews", start_urls=["https://example.fi/"], follow=["(sivu"])
    with pytest.raises(ValidationError, match="follow"):
        source_of(id="rss", spider="rss", start_urls=["https://example.fi/feed"], follow=["page"])


WIDGET_PAGES = {  # page -> reviews on it
    "bazaarvoice_style.html": 7,
    "wordpress_recipe_comments.html": 6,
    "site_reviews_style.html": 8,
}


@pytest.fixture
def widget_site(tmp_path: Path) -> Iterator[DemoSite]:
    """Review-widget markup (issue 15) and the long page built to lose reviews, served as one site."""
    links = [*WIDGET_PAGES, "pitka-sivu.html"]
    (tmp_path / "index.html").write_text(
        "<html><body>" + "".join(f'<a href="/{name}">{name}</a> ' for name in links) + "</body></html>"
    )
    for name in WIDGET_PAGES:
        (tmp_path / name).write_bytes((PAGES / name).read_bytes())
    site = serve_site(port=0, directory=tmp_path)
    (tmp_path / "pitka-sivu.html").write_text(long_review_page(f"{site.url}/pitka-sivu.html"), encoding="utf-8")
    yield site
    site.stop()


def test_review_widgets_and_a_long_page_lose_no_mention(widget_site: DemoSite, kaiku_config: KaikuConfig) -> None:
    source = source_of(id="widgets", spider="reviews", start_urls=[widget_site.url + "/"])
    writer = CollectingWriter()
    summary = run_crawl(source, CrawlContext(kaiku_config.brands, KeywordClassifier(), writer), allow_private_urls=True)
    expected = sum(WIDGET_PAGES.values()) + LONG_PAGE_REVIEWS
    assert summary.stats["kaiku/reviews"] == expected == 101
    assert summary.indexed == len({m.id for m in writer.mentions}) == expected  # no id shared, nothing dropped
    assert summary.dropped == {} and summary.errors == {} and summary.ok
    assert summary.stats["kaiku/warnings/repaired_jsonld"] == 5
    pages = {name: sum(m.url.split("#")[0].endswith(name) for m in writer.mentions) for name in WIDGET_PAGES}
    assert pages == WIDGET_PAGES
    assert summary.brands == {"revontuli": 13, "tunturi": 8 + LONG_PAGE_REVIEWS}
    by_author = {m.author: m for m in writer.mentions}
    assert (by_author["Disappointed"].rating, by_author["Disappointed"].experience) == (1.0, "anger")
    assert by_author["Tiina"].rating is None
    headline_only = [m for m in writer.mentions if m.author == "Jussi"]  # one on the plugin page, one on the long page
    assert sorted(m.text for m in headline_only) == ["Ei enää koskaan, laskutusvirhe kahdesti.", "Ei enää koskaan."]
