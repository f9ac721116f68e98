"""The brand-matching rule of crawler/brands.py, case by case."""

from __future__ import annotations

import pytest

from core.config import Brand, KaikuConfig
from crawler.brands import BrandMatcher, fold

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def matcher(kaiku_config: KaikuConfig) -> BrandMatcher:
    return BrandMatcher(kaiku_config.brands)  # Revontuli Hotels and Tunturi Inn from configs/brands.yaml


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        ("Yövyimme Hotelli Revontulessa kolme yötä.", ["revontuli"]),  # -i -> -e- stem change
        ("Revontuli-hotellin aamiainen oli hyvä.", ["revontuli"]),  # hyphen splits words
        ("Revontuli-hotelliin emme palaa.", ["revontuli"]),
        ("HOTELLI TUNTURISSA oli kivaa", ["tunturi"]),  # case
        ("Stayed at the Tunturi Inn.", ["tunturi"]),
        ("Tunturi Inn:ssä oli kivaa", ["tunturi"]),  # colon ending is its own word
        ("Revontuli Hotelsissa ja Tunturi-hotellissa", ["revontuli", "tunturi"]),
        ("First Tunturi Inn, then Revontuli Hotel.", ["tunturi", "revontuli"]),  # order of appearance
    ],
)
def test_names_and_inflected_forms_match(matcher: BrandMatcher, text: str, brands: list[str]) -> None:
    assert matcher.match(text).brands == brands


@pytest.mark.parametrize(
    "text",
    [
        "Tunturi Innissä",  # "Inn" is shorter than 5 letters: whole word only
        "Revontulihotelli",  # a compound is not the two words
        "hotelli revontulikierros",  # ending longer than 6 letters: another word
        "Revontuli oli kaunis",  # one word of a two-word name
        "Merituuli Spa",
        "xhotelli revontuli",  # word boundary at the start
    ],
)
def test_near_misses_do_not_match(matcher: BrandMatcher, text: str) -> None:
    assert matcher.match(text).brands == []


def test_accents_and_case_fold_away() -> None:
    assert fold("Hotelli MÄKI") == fold("hotelli maki")
    matcher = BrandMatcher([Brand(id="cafe", name="Café Éclair")])
    assert matcher.match("Kävimme CAFE ECLAIRISSA").brands == ["cafe"]
    assert matcher.match("Kävimme Café Éclairissa").brands == ["cafe"]


def test_exclusion_removes_a_brand_named_only_in_the_text(matcher: BrandMatcher) -> None:
    result = matcher.match("Illalla revontulet näkyivät, komeammin kuin Hotelli Revontulessa.")
    assert result.brands == []
    assert result.excluded == {"revontuli": "revontulet näkyivät"}


def test_exclusion_leaves_other_brands(matcher: BrandMatcher) -> None:
    result = matcher.match("Revontulet näkyivät! Hotelli Revontuli ja Tunturi Inn olivat molemmat täynnä.")
    assert result.brands == ["tunturi"]
    assert "revontuli" in result.excluded


def test_the_reviewed_item_is_the_primary_brand_and_exclusions_do_not_apply(matcher: BrandMatcher) -> None:
    result = matcher.match(
        "Parempi kuin Tunturi Inn. Illalla revontulet näkyivät pihalta.", item_reviewed="Hotelli Revontuli Levi"
    )
    assert result.brands == ["revontuli", "tunturi"]
    assert result.primary == "revontuli"
    assert result.excluded == {}


def test_terms_and_aliases_count_and_empty_terms_are_ignored() -> None:
    brand = Brand(id="x", name="Xyz Oy", aliases=["---"], terms=["kaiku palvelu"])
    matcher = BrandMatcher([brand])
    assert matcher.match("Kaiku palvelussa oli vikaa").brands == ["x"]
    assert matcher.match("--- ---").brands == []
