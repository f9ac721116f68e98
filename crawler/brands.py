"""Which configured brands a mention talks about.

The rule (docs/crawler.md has examples):

1. Text and terms are compared case- and accent-insensitively (Unicode NFKD, marks dropped, casefolded;
   so "Hotelli Revontuli" = "hotelli revontuli" and "Mäki" = "maki") and split into words at anything
   that is not a letter or digit ("Revontuli-hotelli" is the two words "revontuli hotelli").
2. A term matches a run of consecutive words. Every word of the term but the last must be equal.
3. The last word may carry a Finnish inflection ending when it has at least 5 letters: the text's word
   must start with the term word (its final vowel may change: revontuli -> revontulessa, hotelli ->
   hotellissa) and be at most 6 letters longer than that stem. Shorter last words ("Inn") match only
   whole (a colon ending, "Inn:ssä", is a separate word and so still matches).
4. A brand's `exclude` terms, matched the same way in title and text, remove that brand from a mention
   that names it only in its text; the mention is dropped only when no other brand is left. A review
   whose `itemReviewed` is the brand stays that brand's: the page says what it is about, and the
   exclusions are there to stop false hits in free text ("revontulet näkyivät" = the northern lights
   were visible, not the hotel chain).
5. The primary brand is the one the review is about (matched in `itemReviewed`), else the one named
   first in the title and text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from kaiku.config import Brand

MIN_INFLECTED_LENGTH = 5
MAX_ENDING_LENGTH = 6
_VOWELS = frozenset("aeiouy")  # after accent folding, ä/ö are a/o
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _last_word_matches(term_word: str, word: str) -> bool:
    if word == term_word:
        return True
    if len(term_word) < MIN_INFLECTED_LENGTH:
        return False
    stem = term_word[:-1] if term_word[-1] in _VOWELS else term_word
    return word.startswith(stem) and len(word) - len(stem) <= MAX_ENDING_LENGTH


@dataclass(frozen=True)
class Term:
    text: str
    words: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Term | None:
        found = tuple(words(text))
        return cls(text, found) if found else None

    def first_position(self, text_words: Sequence[str]) -> int | None:
        """Index of the first word where this term matches, None when it does not occur."""
        n = len(self.words)
        for start in range(len(text_words) - n + 1):
            if all(text_words[start + k] == self.words[k] for k in range(n - 1)) and _last_word_matches(
                self.words[-1], text_words[start + n - 1]
            ):
                return start
        return None


@dataclass(frozen=True)
class BrandTerms:
    brand_id: str
    match: tuple[Term, ...]
    exclude: tuple[Term, ...]

    def first_position(self, text_words: Sequence[str]) -> int | None:
        positions = [p for term in self.match if (p := term.first_position(text_words)) is not None]
        return min(positions) if positions else None

    def excluded_by(self, text_words: Sequence[str]) -> str | None:
        return next((term.text for term in self.exclude if term.first_position(text_words) is not None), None)


@dataclass
class BrandMatch:
    brands: list[str] = field(default_factory=list)  # primary first
    excluded: dict[str, str] = field(default_factory=dict)  # brand id -> the exclude term that hit

    @property
    def primary(self) -> str | None:
        return self.brands[0] if self.brands else None


class BrandMatcher:
    def __init__(self, brands: Sequence[Brand]) -> None:
        self._brands = [
            BrandTerms(
                brand.id,
                tuple(t for t in (Term.of(text) for text in brand.match_terms) if t),
                tuple(t for t in (Term.of(text) for text in brand.exclude) if t),
            )
            for brand in brands
        ]

    @property
    def brand_ids(self) -> list[str]:
        return [brand.brand_id for brand in self._brands]

    def match(self, text: str, item_reviewed: str | None = None) -> BrandMatch:
        """Brands named in `text` (title + body) or in the name of the reviewed item."""
        text_words = words(text)
        item_words = words(item_reviewed or "")
        about_item: list[str] = []
        in_text: list[tuple[int, int, str]] = []  # (position, config order, id)
        for order, brand in enumerate(self._brands):
            if item_words and brand.first_position(item_words) is not None:
                about_item.append(brand.brand_id)
            elif (position := brand.first_position(text_words)) is not None:
                in_text.append((position, order, brand.brand_id))
        result = BrandMatch(brands=about_item)
        for _, order, brand_id in sorted(in_text):
            hit = self._brands[order].excluded_by(text_words)
            if hit is not None:
                result.excluded[brand_id] = hit
            else:
                result.brands.append(brand_id)
        return result
