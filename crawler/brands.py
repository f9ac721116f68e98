"""Which configured brands a mention talks about, and by which of their queries.

The rule (docs/crawler.md has examples):

1. Text and queries are compared case- and accent-insensitively (Unicode NFKD, marks dropped, casefolded;
   so "Hotelli Revontuli" = "hotelli revontuli" and "Mäki" = "maki") and split into words at anything
   that is not a letter or digit ("Revontuli-hotelli" is the two words "revontuli hotelli").
2. A brand has one or more queries; it matches when any of them does. Its name, aliases and `terms`
   form the query whose id is the brand id; each entry of `queries` (core/query_language.py: terms,
   phrases, AND / OR / NOT, NEAR/n, prefix terms) is another, with the id `<brand id>/<query name>`.
3. In the name/alias/term query a phrase matches a run of consecutive words; every word but the last must
   be equal and the last may carry a Finnish inflection ending when it has at least 5 letters: the text's
   word must start with the term word (its final vowel may change: revontuli -> revontulessa, hotelli ->
   hotellissa) and be at most 6 letters longer than that stem. Shorter last words ("Inn") match only
   whole (a colon ending, "Inn:ssä", is a separate word and so still matches). In `queries` a word
   matches whole unless it ends in `*`.
4. A brand's `exclude` terms, matched like names in title and text, remove that brand from a mention
   that names it only in its text; the mention is dropped only when no other brand is left. A review
   whose `itemReviewed` is the brand stays that brand's: the page says what it is about, and the
   exclusions are there to stop false hits in free text ("revontulet näkyivät" = the northern lights
   were visible, not the hotel chain).
5. The primary brand is the one the review is about (matched in `itemReviewed`), else the one named
   first in the title and text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.config import Brand
from core.query_language import Query, fold, words

__all__ = ["BrandMatch", "BrandMatcher", "BrandQueries", "fold", "words"]


@dataclass(frozen=True)
class BrandQueries:
    brand_id: str
    queries: tuple[Query, ...]
    exclude: tuple[Query, ...]

    @classmethod
    def of(cls, brand: Brand) -> BrandQueries:
        default = Query.any_of(brand.id, brand.match_terms)
        named = [Query.parse(f"{brand.id}/{name}", text) for name, text in brand.queries.items()]
        exclude = [q for text in brand.exclude if (q := Query.any_of(text, [text])) is not None]
        return cls(brand.id, tuple(q for q in (default, *named) if q is not None), tuple(exclude))

    def first_match(self, text_words: Sequence[str]) -> tuple[int, str] | None:
        """(first word position, query id) of the query that matches earliest; None when none matches."""
        found = [
            (position, order, query.id)
            for order, query in enumerate(self.queries)
            if (position := query.first_position(text_words)) is not None
        ]
        if not found:
            return None
        position, _, query_id = min(found)
        return position, query_id

    def excluded_by(self, text_words: Sequence[str]) -> str | None:
        return next((query.id for query in self.exclude if query.matches(text_words)), None)


@dataclass
class BrandMatch:
    brands: list[str] = field(default_factory=list)  # primary first
    queries: dict[str, str] = field(default_factory=dict)  # brand id -> id of the query that matched
    excluded: dict[str, str] = field(default_factory=dict)  # brand id -> the exclude term that hit

    @property
    def primary(self) -> str | None:
        return self.brands[0] if self.brands else None

    @property
    def primary_query(self) -> str | None:
        return self.queries.get(self.brands[0]) if self.brands else None


class BrandMatcher:
    def __init__(self, brands: Sequence[Brand]) -> None:
        self._brands = [BrandQueries.of(brand) for brand in brands]

    @property
    def brand_ids(self) -> list[str]:
        return [brand.brand_id for brand in self._brands]

    def match(self, text: str, item_reviewed: str | None = None) -> BrandMatch:
        """Brands named in `text` (title + body) or in the name of the reviewed item."""
        text_words = words(text)
        item_words = words(item_reviewed or "")
        result = BrandMatch()
        in_text: list[tuple[int, int, str]] = []  # (position, config order, id)
        for order, brand in enumerate(self._brands):
            if item_words and (hit := brand.first_match(item_words)) is not None:
                result.brands.append(brand.brand_id)
                result.queries[brand.brand_id] = hit[1]
            elif (hit := brand.first_match(text_words)) is not None:
                in_text.append((hit[0], order, brand.brand_id))
                result.queries[brand.brand_id] = hit[1]
        for _, order, brand_id in sorted(in_text):
            excluded_by = self._brands[order].excluded_by(text_words)
            if excluded_by is not None:
                result.excluded[brand_id] = excluded_by
                del result.queries[brand_id]
            else:
                result.brands.append(brand_id)
        return result
