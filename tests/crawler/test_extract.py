"""schema.org review extraction from JSON-LD and microdata, on small pages written for each rule."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.mention import ItemRating
from crawler.extract import extract_reviews
from crawler.extract.jsonld import _repair
from tests.crawler.review_pages import HOTEL, LONG_PAGE_REVIEWS, long_review_page

pytestmark = pytest.mark.unit

URL = "https://reviews.example/hotel/levi?page=1"


def page(head: str = "", body: str = "", lang: str | None = "fi") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return f"<!DOCTYPE html><html{lang_attr}><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


REVIEW = {
    "@type": "Review",
    "author": {"@type": "Person", "name": "Mikko"},
    "datePublished": "2026-11-14",
    "name": "Kamala kokemus",
    "reviewBody": "Kamala kokemus, en suosittele kenellekään.",
    "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5},
}


def test_jsonld_review_with_every_field() -> None:
    data = {"@context": "https://schema.org", **REVIEW, "itemReviewed": {"@type": "Hotel", "name": "Hotelli Revontuli"}}
    result = extract_reviews(page(ld(data)), URL)
    assert result.problems == []
    [review] = result.reviews
    assert review.author == "Mikko"
    assert review.published_at == datetime(2026, 11, 14, tzinfo=UTC)
    assert review.title == "Kamala kokemus"
    assert review.text == "Kamala kokemus, en suosittele kenellekään."
    assert (review.rating, review.rating_max) == (1, 5)
    assert review.lang == "fi"
    assert review.item_reviewed == "Hotelli Revontuli"
    assert review.url.startswith("https://reviews.example/hotel/levi?page=1#review-")
    assert review.markup == "json-ld"


def test_reviews_nested_in_a_hotel_take_its_name() -> None:
    data = {
        "@context": "https://schema.org",
        "@type": "Hotel",
        "name": "Tunturi Inn Rovaniemi",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": 4.1, "reviewCount": 88},
        "review": [REVIEW, {**REVIEW, "reviewBody": "Ihan ok.", "author": "Satu"}],
    }
    result = extract_reviews(page(ld(data)), URL)
    assert [r.item_reviewed for r in result.reviews] == ["Tunturi Inn Rovaniemi"] * 2
    assert [r.author for r in result.reviews] == ["Mikko", "Satu"]


def test_graph_with_id_references() -> None:
    data = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "Hotel",
                "@id": "#hotel",
                "name": "Hotelli Revontuli Levi",
                "review": [{"@id": "#r1"}, {"@id": "#r2"}],
            },
            {**REVIEW, "@id": "#r1", "author": {"@id": "#p1"}},
            {**REVIEW, "@id": "#r2", "itemReviewed": {"@id": "#hotel"}, "reviewBody": "Toinen arvio."},
            {"@type": "Person", "@id": "#p1", "name": "Anu"},
        ],
    }
    result = extract_reviews(page(ld(data)), URL)
    assert [(r.author, r.item_reviewed) for r in result.reviews] == [
        ("Anu", "Hotelli Revontuli Levi"),
        ("Mikko", "Hotelli Revontuli Levi"),
    ]
    # A fragment @id only names the node inside the page; it is not used as the review's address.
    assert all("#review-" in r.url for r in result.reviews)


def test_top_level_array_and_full_iri_types() -> None:
    data = [
        {"@context": "http://schema.org", "@type": "BreadcrumbList", "itemListElement": []},
        {**REVIEW, "@type": "http://schema.org/Review", "itemReviewed": "Revontuli Hotel Helsinki"},
        {**REVIEW, "@type": ["CriticReview"], "reviewBody": "Critic says fine."},
    ]
    result = extract_reviews(page(ld(data)), URL)
    assert [r.text for r in result.reviews] == ["Kamala kokemus, en suosittele kenellekään.", "Critic says fine."]
    assert result.reviews[0].item_reviewed == "Revontuli Hotel Helsinki"


def test_description_is_the_text_when_there_is_no_review_body() -> None:
    data = {**REVIEW, "reviewBody": None, "description": "Helt okej hotell.", "inLanguage": "sv-FI"}
    [review] = extract_reviews(page(ld(data)), URL).reviews
    assert review.text == "Helt okej hotell."
    assert review.lang == "sv"  # the review's inLanguage wins over <html lang>


def test_html_in_the_body_is_stripped_and_whitespace_normalised() -> None:
    data = {**REVIEW, "reviewBody": "<p>Great   stay.</p><p>Room&nbsp;ok &amp; quiet.<br>Would return.</p>\n\n"}
    [review] = extract_reviews(page(ld(data)), URL).reviews
    assert review.text == "Great stay. Room ok & quiet. Would return."


def test_missing_rating_keeps_the_review() -> None:
    data = {key: value for key, value in REVIEW.items() if key != "reviewRating"}
    result = extract_reviews(page(ld(data)), URL)
    [review] = result.reviews
    assert (review.rating, review.rating_max) == (None, None)
    assert result.problems == []


def test_best_rating_ten_and_a_zero_based_scale() -> None:
    ten = {**REVIEW, "reviewRating": {"ratingValue": "8", "bestRating": "10"}}
    zero_based = {
        **REVIEW,
        "reviewBody": "Toinen.",
        "reviewRating": {"ratingValue": 0, "bestRating": 10, "worstRating": 0},
    }
    reviews = extract_reviews(page(ld([ten, zero_based])), URL).reviews
    assert [(r.rating, r.rating_max) for r in reviews] == [(8, 10), (1, 10)]


def test_unreadable_rating_and_date_are_warnings_not_skips() -> None:
    data = {**REVIEW, "datePublished": "eilen", "reviewRating": {"ratingValue": "paljon"}}
    result = extract_reviews(page(ld(data)), URL)
    [review] = result.reviews
    assert review.published_at is None and review.rating is None
    assert sorted(p.code for p in result.problems) == ["bad_date", "bad_rating"]


def test_malformed_jsonld_is_skipped_and_reported() -> None:
    broken = '<script type="application/ld+json">{"@type": "Review", "reviewBody": "kesken",</script>'
    result = extract_reviews(page(broken + ld(REVIEW)), URL)
    assert len(result.reviews) == 1  # the good block on the same page still counts
    assert result.count("malformed_jsonld") == 1
    assert "JSON-LD block 1" in str(result.problems[0])


def test_raw_newlines_inside_strings_are_accepted() -> None:
    raw = '<script type="application/ld+json">{"@type":"Review","reviewBody":"line one\nline two"}</script>'
    [review] = extract_reviews(page(raw), URL).reviews
    assert review.text == "line one line two"


def test_review_without_text_is_skipped_with_a_reason() -> None:
    data = {"@type": "Review", "author": "Vieras", "reviewRating": {"ratingValue": 4}}
    result = extract_reviews(page(ld(data)), URL)
    assert result.reviews == []
    assert [p.code for p in result.problems] == ["no_text"]


MICRODATA = """
<div itemscope itemtype="https://schema.org/Hotel">
  <h1 itemprop="name">Hotelli Tunturi Ylläs</h1>
  <div itemprop="review" itemscope itemtype="https://schema.org/Review">
    <strong itemprop="headline">Paras hotelli</strong>
    <span itemprop="author" itemscope itemtype="https://schema.org/Person">
      <span itemprop="name">Hanna</span></span>
    <time itemprop="datePublished" datetime="2026-11-11T10:00:00+02:00">11.11.</time>
    <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
      <meta itemprop="worstRating" content="1">
      <span itemprop="ratingValue">5</span>/<span itemprop="bestRating">5</span>
    </div>
    <p itemprop="reviewBody">Upea <b>aamiainen</b>.<br>Tulemme uudestaan!</p>
  </div>
  <div itemprop="review" itemscope itemtype="http://schema.org/Review">
    <span itemprop="author">Juha</span><meta itemprop="datePublished" content="2026-10-30">
    <span itemprop="reviewRating" itemscope itemtype="http://schema.org/Rating">
      <span itemprop="ratingValue" content="4,5">★★★★½</span></span>
    <div itemprop="description">Rauhallinen paikka.</div>
  </div>
</div>
"""


def test_microdata_reviews_nested_in_an_item() -> None:
    result = extract_reviews(page(body=MICRODATA), URL)
    assert result.problems == []
    first, second = result.reviews
    assert (first.author, first.title, first.text) == ("Hanna", "Paras hotelli", "Upea aamiainen. Tulemme uudestaan!")
    assert first.published_at == datetime(2026, 11, 11, 8, 0, tzinfo=UTC)
    assert (first.rating, first.rating_max) == (5, 5)
    assert first.item_reviewed == "Hotelli Tunturi Ylläs"
    assert first.markup == "microdata"
    # `content` wins over the visible stars; bestRating defaults to 5; description is the text.
    assert (second.author, second.rating, second.rating_max, second.text) == ("Juha", 4.5, 5, "Rauhallinen paikka.")


def test_microdata_item_reviewed_inside_the_review() -> None:
    body = """<article itemscope itemtype="http://schema.org/Review">
      <div itemprop="itemReviewed" itemscope itemtype="http://schema.org/Hotel">
        <meta itemprop="name" content="Revontuli Hotel Helsinki"></div>
      <p itemprop="reviewBody">Solid choice.</p></article>"""
    [review] = extract_reviews(page(body=body, lang="en-GB"), URL).reviews
    assert (review.item_reviewed, review.lang) == ("Revontuli Hotel Helsinki", "en")


RDFA = """
<div vocab="https://schema.org/" typeof="Hotel" resource="#levi">
  <h1 property="name">Hotelli Revontuli Levi</h1>
  <div property="review" typeof="Review">
    <span property="author" typeof="Person"><span property="name">Aino</span></span>
    <time property="datePublished" datetime="2026-11-02">2.11.</time>
    <div property="reviewRating" typeof="Rating">
      <meta property="worstRating" content="0"><span property="ratingValue">8</span>/
      <span property="bestRating">10</span>
    </div>
    <p property="reviewBody">Sauna oli <em>upea</em>, mutta huone kylmä.</p>
    <a property="url" href="https://reviews.example/r/aino">linkki</a>
  </div>
</div>
<div prefix="schema: http://schema.org/" typeof="schema:Review">
  <span property="schema:author">Pekka</span>
  <span property="schema:itemReviewed" typeof="schema:Hotel" resource="#levi"></span>
  <span property="schema:description">Ei koskaan enää.</span>
  <span property="schema:reviewRating" typeof="schema:Rating">
    <span property="schema:ratingValue" content="1">★</span></span>
</div>
"""


def test_rdfa_reviews_with_vocab_or_prefixes() -> None:
    result = extract_reviews(page(body=RDFA), URL)
    assert result.problems == []
    first, second = result.reviews
    assert [first.markup, second.markup] == ["rdfa", "rdfa"]
    assert (first.author, first.text) == ("Aino", "Sauna oli upea, mutta huone kylmä.")
    assert first.published_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert (first.rating, first.rating_max) == (pytest.approx(8.2), 10)  # 8 on 0..10 mapped onto 1..10
    assert first.item_reviewed == "Hotelli Revontuli Levi"
    assert first.url == "https://reviews.example/r/aino"
    # `schema:` prefixes, the visible stars overridden by content, the item reviewed found through its @id.
    assert (second.author, second.text, second.rating, second.rating_max) == ("Pekka", "Ei koskaan enää.", 1, 5)
    assert second.item_reviewed == "Hotelli Revontuli Levi"


def test_the_reviewed_items_aggregate_rating_goes_with_each_review() -> None:
    hotel = {
        "@context": "https://schema.org",
        "@type": "Hotel",
        "name": "Hotelli Revontuli Levi",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": "8,6", "bestRating": 10, "reviewCount": 512},
        "review": [{"@type": "Review", "reviewBody": "Kylmä huone.", "reviewRating": {"ratingValue": 2}}],
    }
    [review] = extract_reviews(page(ld(hotel)), URL).reviews
    assert review.item_rating == ItemRating(value=8.6, max=10, count=512)
    assert review.as_json("reviews")["item_rating"] == {"value": 8.6, "max": 10, "count": 512}

    # Through @graph references and itemReviewed; ratingCount when there is no reviewCount; microdata alike.
    graph = {
        "@graph": [
            {"@id": "#h", "@type": "Hotel", "name": "Tunturi Inn", "aggregateRating": {"@id": "#agg"}},
            {"@id": "#agg", "@type": "AggregateRating", "ratingValue": 4.2, "ratingCount": "77"},
            {"@type": "Review", "itemReviewed": {"@id": "#h"}, "reviewBody": "Hyvä."},
        ]
    }
    [review] = extract_reviews(page(ld(graph)), URL).reviews
    assert (review.item_reviewed, review.item_rating) == ("Tunturi Inn", ItemRating(value=4.2, max=5, count=77))
    body = """<div itemscope itemtype="https://schema.org/Hotel"><span itemprop="name">Tunturi Inn</span>
      <div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
        <span itemprop="ratingValue">3.9</span> (<span itemprop="reviewCount">41</span>)</div>
      <div itemprop="review" itemscope itemtype="https://schema.org/Review">
        <p itemprop="reviewBody">Ok.</p></div></div>"""
    [review] = extract_reviews(page(body=body), URL).reviews
    assert review.item_rating == ItemRating(value=3.9, max=5, count=41)


def test_an_unreadable_aggregate_rating_is_a_problem_not_a_lost_review() -> None:
    hotel = {"@type": "Hotel", "name": "X", "aggregateRating": {"ratingValue": "viisi"}, "review": [REVIEW]}
    result = extract_reviews(page(ld(hotel)), URL)
    [review] = result.reviews
    assert review.item_rating is None
    assert [p.code for p in result.problems] == ["bad_rating"]
    assert "aggregate rating" in str(result.problems[0])


def test_the_same_review_in_rdfa_and_microdata_is_kept_once() -> None:
    body = """<div itemscope itemtype="https://schema.org/Review"><span itemprop="author">Juha</span>
      <p itemprop="reviewBody">Rauhallinen paikka.</p></div>
      <div vocab="https://schema.org/" typeof="Review"><span property="author">Juha</span>
      <p property="reviewBody">Rauhallinen paikka.</p></div>"""
    result = extract_reviews(page(body=body), URL)
    assert [r.markup for r in result.reviews] == ["microdata"]


def test_the_same_review_in_both_formats_is_kept_once() -> None:
    data = {
        "@type": "Review",
        "author": "Juha",
        "reviewBody": "Rauhallinen paikka.",
        "reviewRating": {"ratingValue": 4},
    }
    body = """<div itemscope itemtype="https://schema.org/Review"><span itemprop="author">Juha</span>
      <p itemprop="reviewBody">Rauhallinen paikka.</p></div>"""
    result = extract_reviews(page(ld(data), body), URL)
    assert [r.markup for r in result.reviews] == ["json-ld"]


def test_review_url_and_identity() -> None:
    own = {**REVIEW, "url": "/reviews/123", "reviewBody": "Oma osoite."}
    reviews = extract_reviews(page(ld([own, REVIEW])), URL).reviews
    assert reviews[0].url == reviews[0].key == "https://reviews.example/reviews/123"
    # Without its own URL, a review's identity does not depend on which page of the listing it is on.
    moved = extract_reviews(page(ld(REVIEW)), "https://reviews.example/hotel/levi?page=2").reviews[0]
    assert moved.key == reviews[1].key
    assert moved.url != reviews[1].url


def test_bytes_are_decoded_by_their_meta_charset() -> None:
    html = page(ld({**REVIEW, "reviewBody": "Hyvä lahja, kiitos."})).replace(
        "charset='utf-8'", "charset='windows-1252'"
    )
    [review] = extract_reviews(html.encode("cp1252"), URL).reviews
    assert review.text == "Hyvä lahja, kiitos."


@pytest.mark.parametrize("html", ["", "   ", b"", "<html><body><p>Ei arvioita.</p></body></html>", "not html at all"])
def test_pages_without_reviews_never_raise(html: str | bytes) -> None:
    result = extract_reviews(html, URL)
    assert result.reviews == []


def test_page_language_falls_back_to_content_language_meta() -> None:
    html = page(ld(REVIEW), lang=None).replace("<head>", '<head><meta http-equiv="Content-Language" content="de-DE">')
    assert extract_reviews(html, URL).reviews[0].lang == "de"


# --- review widgets: microdata with the text in `description` (issue 15) ---------------------------------


@pytest.mark.parametrize(
    "itemtype",
    [
        "https://schema.org/Review",
        "http://schema.org/Review",
        "https://schema.org/Review/",
        "http://schema.org/Review#",
        "https://schema.org/review",
        "https://www.schema.org/Review",
        " https://schema.org/Review ",
    ],
)
def test_every_spelling_of_the_review_type_is_a_review(itemtype: str) -> None:
    body = f"""<div itemscope itemtype="{itemtype}"><meta itemprop="author" content="Anna">
      <div itemprop="description"><p>Hyvä <b>sauna</b>.</p><p>Tulemme uudestaan.</p></div></div>"""
    [review] = extract_reviews(page(body=body), URL).reviews
    assert (review.author, review.text) == ("Anna", "Hyvä sauna. Tulemme uudestaan.")


WIDGET_REVIEW = """<div class="bv-review" itemprop="review" itemscope itemtype="https://schema.org/Review">
  <span itemprop="name">Kylmä huone</span>
  <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
    <meta itemprop="worstRating" content="0"><meta itemprop="ratingValue" content="4">
    <meta itemprop="bestRating" content="10">
  </div>
  <span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">Ville</span></span>
  <meta itemprop="datePublished" content="2025-02-16">
  <div itemprop="description"><p>Patteri ei toiminut.</p></div>
</div>"""


def test_a_review_property_outside_any_item_is_still_read() -> None:
    # The widget's reviews carry itemprop="review", but the page's Product scope closed before them.
    body = f"""<section itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Lahjakortti</h1></section>
      <div id="bv">{WIDGET_REVIEW}</div>"""
    result = extract_reviews(page(body=body), URL)
    assert result.problems == []
    [review] = result.reviews
    assert (review.author, review.title, review.text) == ("Ville", "Kylmä huone", "Patteri ei toiminut.")
    assert (review.rating, review.rating_max) == (pytest.approx(4.6), 10)  # 4 on 0..10 mapped onto 1..10
    assert review.published_at == datetime(2025, 2, 16, tzinfo=UTC)
    assert review.item_reviewed == "Lahjakortti"  # the page's one product

    # The product in JSON-LD serves too; with two products (a related-products strip) it is not guessed.
    product = ld({"@context": "https://schema.org", "@type": "Product", "name": "Lahjakortti 2 yötä"})
    [review] = extract_reviews(page(product, f"<div>{WIDGET_REVIEW}</div>"), URL).reviews
    assert review.item_reviewed == "Lahjakortti 2 yötä"
    other = '<div itemscope itemtype="https://schema.org/Product"><meta itemprop="name" content="Kylpytakki"></div>'
    [review] = extract_reviews(page(product, f"{other}<div>{WIDGET_REVIEW}</div>"), URL).reviews
    assert review.item_reviewed is None


def test_itemref_brings_reviews_elsewhere_on_the_page_into_the_item() -> None:
    body = f"""<article itemscope itemtype="https://schema.org/Recipe" itemref="comments x-missing">
        <h1 itemprop="name">Lohikeitto</h1></article>
      <ol id="comments"><li>{WIDGET_REVIEW}</li></ol>
      <div itemscope itemtype="https://schema.org/Thing" itemref="loop" id="loop">
        <span itemprop="name">Silmukka</span></div>"""
    result = extract_reviews(page(body=body), URL)
    [review] = result.reviews  # once, as the recipe's, not again as a loose item
    assert (review.item_reviewed, review.author) == ("Lohikeitto", "Ville")


def test_replies_nested_in_a_review_are_reviews_of_the_same_item() -> None:
    body = """<article itemscope itemtype="https://schema.org/Recipe"><h1 itemprop="name">Lohikeitto</h1>
      <ol><li itemprop="review" itemscope itemtype="https://schema.org/Review"><meta itemprop="author" content="Sanna">
          <div itemprop="description">Hyvä ohje.</div>
          <ol class="children"><li itemprop="review" itemscope itemtype="http://schema.org/Review">
            <meta itemprop="author" content="Keittiö"><div itemprop="description"><p>Kiitos!</p></div></li></ol>
      </li></ol></article>"""
    reviews = extract_reviews(page(body=body), URL).reviews
    assert [(r.author, r.text, r.item_reviewed) for r in reviews] == [
        ("Sanna", "Hyvä ohje.", "Lohikeitto"),
        ("Keittiö", "Kiitos!", "Lohikeitto"),
    ]


# --- JSON-LD reviews without a rating, with other dates, and with shared addresses (issue 15) ------------


@pytest.mark.parametrize("date_key", ["datePublished", "dateCreated", "uploadDate", "dateModified"])
@pytest.mark.parametrize("rating", [None, {}, {"@type": "Rating"}, {"ratingValue": ""}, {"ratingValue": None}, []])
def test_a_review_without_a_rating_is_kept_with_any_of_its_dates(date_key: str, rating: object) -> None:
    data = {"@type": "Review", "author": "Olli", date_key: "2025-01-11 09:45:00", "reviewBody": "Siisti huone."}
    if rating is not None:
        data["reviewRating"] = rating
    result = extract_reviews(page(ld(data)), URL)
    assert result.problems == []
    [review] = result.reviews
    assert (review.rating, review.rating_max) == (None, None)
    assert review.published_at == datetime(2025, 1, 11, 9, 45, tzinfo=UTC)


def test_the_publication_date_wins_over_creation_and_change() -> None:
    data = {**REVIEW, "dateModified": "2026-12-01", "dateCreated": "2026-11-13", "datePublished": "2026-11-14"}
    assert extract_reviews(page(ld(data)), URL).reviews[0].published_at == datetime(2026, 11, 14, tzinfo=UTC)


def test_untyped_entries_of_a_review_list_are_reviews_but_references_are_not() -> None:
    hotel = {
        "@type": "Hotel",
        "name": "Tunturi Inn",
        "review": [
            {"author": "Pertti", "reviewBody": "Sauna piti varata.", "dateCreated": "2025-01-26"},
            {"@id": "#r2"},
            {"@type": "Person", "name": "not a review"},
        ],
    }
    graph = {"@graph": [hotel, {"@type": "Review", "@id": "#r2", "reviewBody": "Toinen."}]}
    result = extract_reviews(page(ld(graph)), URL)
    assert result.problems == []
    assert [(r.text, r.item_reviewed) for r in result.reviews] == [
        ("Sauna piti varata.", "Tunturi Inn"),
        ("Toinen.", "Tunturi Inn"),
    ]


def test_a_review_that_is_only_a_headline_is_kept() -> None:
    data = {"@type": "Review", "author": "Jussi", "headline": "Ei enää koskaan, laskutusvirhe kahdesti."}
    [review] = extract_reviews(page(ld(data)), URL).reviews
    assert (review.text, review.title) == ("Ei enää koskaan, laskutusvirhe kahdesti.", None)


def test_an_address_shared_by_several_reviews_of_the_page_is_no_reviews_own() -> None:
    canonical = '<link rel="canonical" href="https://reviews.example/hotel/levi">'
    reviews = [
        {**REVIEW, "url": "https://reviews.example/hotel/levi", "author": "A"},  # the product page, on each
        {**REVIEW, "url": "https://reviews.example/hotel/levi", "author": "B"},
        {**REVIEW, "@id": "https://reviews.example/hotel/levi#review", "author": "C"},  # one @id for all
        {**REVIEW, "@id": "https://reviews.example/hotel/levi#review", "author": "D"},
        {**REVIEW, "url": "/r/1", "@id": "https://reviews.example/r/1", "author": "E"},  # its own: kept
    ]
    found = extract_reviews(page(canonical + ld(reviews)), URL).reviews
    assert len({r.key for r in found}) == len({r.url for r in found}) == 5
    assert all(r.url.startswith(f"{URL}#review-") for r in found[:4])
    assert found[0].canonical_url == "https://reviews.example/hotel/levi"
    assert found[4].key == found[4].url == found[4].canonical_url == "https://reviews.example/r/1"
    # A page of one review may well be its address.
    [alone] = extract_reviews(page(canonical + ld(reviews[0])), URL).reviews
    assert alone.key == alone.url == "https://reviews.example/hotel/levi"


def test_identical_reviews_in_one_list_are_two_mentions_with_stable_keys() -> None:
    twin = {"@type": "Review", "author": "Anonymous", "datePublished": "2025-03-01", "reviewBody": "Great!"}
    first = extract_reviews(page(ld([twin, twin, {**twin, "reviewBody": "Ok."}])), URL).reviews
    again = extract_reviews(page(ld([twin, twin, {**twin, "reviewBody": "Ok."}])), URL).reviews
    assert [r.text for r in first] == ["Great!", "Great!", "Ok."]
    assert len({r.key for r in first}) == 3
    assert first[1].key == first[0].key + "-2"
    assert [r.key for r in first] == [r.key for r in again]


def test_json_ld_slips_with_one_meaning_are_repaired_and_reported() -> None:
    blocks = [
        '{"@type": "Review", "reviewBody": "Pilkku lopussa.", "author": "A",}',
        '[{"@type": "Review", "reviewBody": "Pilkku listassa.", "author": "B"},]',
        '{"@type": "Review",\u00a0"reviewBody": "Sitova\u00a0välilyönti jää tekstiin.", "author": "C"}',
        '{"@type": "Review", <!-- wp:plugin --> "reviewBody": "Kommentti keskellä.", "author": "D"}',
        '{"@type": "Review", "reviewBody": "It\\\'s fine, \\"quoted\\" \\u00e4.", "author": "E"}',
        '{"@type": "Review",\x0b"reviewBody": "Ohjausmerkki.", "author": "F"}',
        '{"@type": "Review", "reviewBody": "kesken", "author": "G"',  # truncated: one reading is not there
    ]
    html = page("".join(f'<script type="application/ld+json">{block}</script>' for block in blocks))
    result = extract_reviews(html, URL)
    assert [r.author for r in result.reviews] == ["A", "B", "C", "D", "E", "F"]
    assert result.reviews[2].text == "Sitova välilyönti jää tekstiin."
    assert result.reviews[4].text == 'It\'s fine, "quoted" ä.'
    assert [p.code for p in result.problems] == ["repaired_jsonld"] * 6 + ["malformed_jsonld"]
    assert "trailing commas" in str(result.problems[0]) and "HTML comments" in str(result.problems[3])
    assert "needless backslashes" in str(result.problems[4])


def test_the_same_reviews_in_json_ld_and_microdata_count_once() -> None:
    """Markups of one review differ: a timestamp against a date (a UTC day apart), entities, spacing, an author
    missing from one of them. Two equal short reviews stay two, and a third copy is not swallowed."""
    data = [
        {
            "@type": "Review",
            "author": "Juha",
            "datePublished": "2025-03-01T23:30:00-05:00",
            "reviewBody": "Hyvä & hiljainen.",
        },
        {"@type": "Review", "author": "Anonymous", "datePublished": "2025-03-02", "reviewBody": "Great!"},
        {"@type": "Review", "author": "Anonymous", "datePublished": "2025-03-02", "reviewBody": "Great!"},
        {"@type": "Review", "datePublished": "2025-03-02", "reviewBody": "Ei tekijää JSON-LD:ssä."},
    ]
    body = """
      <div itemscope itemtype="https://schema.org/Review"><meta itemprop="author" content="Juha">
        <meta itemprop="datePublished" content="2025-03-01"><p itemprop="reviewBody">Hyvä &amp;  hiljainen</p></div>
      <div itemscope itemtype="https://schema.org/Review"><meta itemprop="author" content="Anonymous">
        <p itemprop="reviewBody">Great!</p></div>
      <div itemscope itemtype="https://schema.org/Review"><meta itemprop="author" content="Anonymous">
        <p itemprop="reviewBody">Great!</p></div>
      <div itemscope itemtype="https://schema.org/Review"><meta itemprop="author" content="Anonymous">
        <p itemprop="reviewBody">Great!</p></div>
      <div itemscope itemtype="https://schema.org/Review"><meta itemprop="author" content="Maija">
        <p itemprop="reviewBody">Ei tekijää JSON-LD:ssä.</p></div>
      <div itemscope itemtype="https://schema.org/Review"><meta itemprop="author" content="Pekka">
        <p itemprop="reviewBody">Hyvä &amp; hiljainen.</p></div>"""
    reviews = extract_reviews(page(ld(data), body), URL).reviews
    assert [(r.markup, r.author) for r in reviews] == [
        ("json-ld", "Juha"),
        ("json-ld", "Anonymous"),
        ("json-ld", "Anonymous"),
        ("json-ld", None),
        ("microdata", "Anonymous"),  # the third "Great!": only two were in the JSON-LD
        ("microdata", "Pekka"),  # same words, another author
    ]


def test_a_long_page_loses_no_review() -> None:
    """Every way tried of losing one review of a long page (tests/crawler/review_pages.py) in one page."""
    url = "https://tunturi-inn.example/arviot/"
    result = extract_reviews(long_review_page(url), url)
    assert {p.code for p in result.problems} == {"repaired_jsonld"}
    reviews = result.reviews
    assert len(reviews) == len({r.key for r in reviews}) == len({r.url for r in reviews}) == LONG_PAGE_REVIEWS == 80
    assert all(r.item_reviewed == HOTEL for r in reviews)
    by_author = {r.author: r for r in reviews}
    assert by_author["Ketju 60"].text == "Hyvä! (60)"  # the deepest reply of the thread
    assert len(by_author["Pitkä"].text) == 59_999  # no length cap
    assert by_author["Jussi"].text == "Ei enää koskaan."
    assert by_author["Php"].text == "It's fine."
    assert [r.text for r in reviews].count("Great!") == 2
    assert sum(r.markup == "microdata" for r in reviews) == 60  # the five copies of JSON-LD reviews are not counted


def test_a_page_nested_past_the_parsers_limit_is_reported() -> None:
    deep = "<div>" * 2100 + "<p>syvällä</p>" + "</div>" * 2100
    result = extract_reviews(page(ld(REVIEW), deep), URL)
    assert len(result.reviews) == 1  # what came before the limit is read
    assert [p.code for p in result.problems] == ["parse_limit"]
    assert "the rest of the page is unread" in str(result.problems[0])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values, ascii_only=st.booleans())
def test_the_json_ld_repair_never_changes_what_valid_json_says(value: object, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json.loads(_repair(text)[0], strict=False) == value
    # A trailing comma before every closing bracket is the one slip; removing it restores the value.
    slipped = re.sub(r'([}\]])(?=(?:[^"\\]|\\.|"(?:[^"\\]|\\.)*")*$)', r",\1", text)
    if slipped != text and not re.search(r"[\[{],", slipped):  # `[,]` is not a trailing comma
        assert json.loads(_repair(slipped)[0], strict=False) == value


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(
            [
                '<div itemscope itemtype="https://schema.org/Review">',
                '<div itemprop="review" itemscope itemtype="http://schema.org/Review/">',
                '<span itemprop="author" itemscope itemtype="https://schema.org/Person">',
                '<meta itemprop="ratingValue" content="4">',
                '<div itemprop="reviewRating" itemscope itemref="a b">',
                '<p itemprop="description" id="a">',
                '<li itemprop="review" id="b" itemscope itemref="b">',
                '<script type="application/ld+json">{"@type": "Review", "review": [{"name": "x"},]',
                "</script>",
                "</div>",
                "</span>",
                "Hyvä & <b>huono</b>",
                "<!--",
                "\x00",
            ]
        ),
        max_size=30,
    )
)
def test_any_mix_of_review_markup_never_raises(parts: list[str]) -> None:
    result = extract_reviews(page(body="".join(parts)), URL)
    assert len({r.key for r in result.reviews}) == len(result.reviews)
    assert all(r.text for r in result.reviews)
