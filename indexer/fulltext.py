"""Full text for the embedded store: Snowball stems written beside the text, and brand queries as FTS5 queries.

Python's sqlite3 cannot register an FTS5 tokenizer, so the stemmed copy of a text is made here, at write time,
with the stemmer of the mention's language (PyStemmer, the Snowball algorithms), and stored in its own FTS5
column beside the unstemmed text. A query term matches the unstemmed column exactly, or the stemmed column
through its stem in each language the store holds (or the one the search is filtered on).

Both sides are folded as brand queries are (core/query_language.py: case and accents) before stemming, so a
query typed without accents finds the accented text. Snowball's Finnish stemmer leaves the nominative of -nen
words apart from their other cases ("aamiainen" -> "aamiain", "aamiaisella" -> "aamiais"); `stem_word` joins
them (the -s- stem, see FINNISH_NEN), and the partitive of -ainen/-äinen words as well ("aamiaista" -> "aamia",
made "aamiais", see FINNISH_AISTA). The partitive of other -nen words ("tavallista") stays apart: "-llista" is also
the elative of every -lli word ("hotellista"), which Snowball already joins to its other cases.

Queries are never passed raw: `fts_query` renders a parsed query (AND/OR/NOT, phrases, NEAR/n, prefix*) into
FTS5's own syntax, every word quoted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import Stemmer

from core.query_language import And, Near, Node, Not, Or, Phrase, words

# ISO 639-1 codes of the languages whose Snowball stemmer PyStemmer ships.
SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "eo": "esperanto", "es": "spanish", "et": "estonian", "eu": "basque", "fa": "persian",
    "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi", "hu": "hungarian", "hy": "armenian",
    "id": "indonesian", "it": "italian", "lt": "lithuanian", "nb": "norwegian", "ne": "nepali", "nl": "dutch",
    "no": "norwegian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
FINNISH_NEN = "nen"  # "aamiainen": Snowball stems it to "aamiain", its inflected forms to "aamiais": both -> "aamiais"
# "aamiaista", "punaista" (partitive of -ainen/-äinen, folded): Snowball cuts them to "aamia"; the word less its -ta
# joins the other cases. Seven letters at least: "naista" is also "näistä" (of these).
FINNISH_AISTA = "aista"


@cache
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = SNOWBALL.get(lang)
    return Stemmer.Stemmer(name) if name else None


def _finnish_stem(word: str, stem: str) -> str:
    if word.endswith(FINNISH_NEN) and stem.endswith("n") and len(stem) > 3:
        return stem[:-1] + "s"
    if word.endswith(FINNISH_AISTA) and len(word) >= 7:
        return word[:-2]
    return stem


def _stem_new(words: Iterable[str], lang: str, stemmer: Stemmer.Stemmer) -> dict[str, str]:
    """The stems of words not met before, with the Finnish -nen and -aista rules applied."""
    words = list(words)
    stems = stemmer.stemWords(words)
    if lang == "fi":
        stems = [_finnish_stem(word, stem) for word, stem in zip(words, stems, strict=True)]
    return dict(zip(words, stems, strict=True))


# Stems already computed, per language: texts repeat few distinct words, and a dict lookup mapped over the words
# (in C) is far cheaper than stemming and fixing each word again. Started afresh when it grows past the bound.
_KNOWN_STEMS: dict[str, dict[str, str]] = {}
_KNOWN_STEMS_MAX = 50_000  # words per language: a few MiB


def stem_words(folded: Sequence[str], lang: str | None) -> list[str]:
    """Stems of already folded words in a language; words of a language without a stemmer stay as they are."""
    stemmer = _stemmer(lang or "")
    if stemmer is None:
        return list(folded)
    assert lang is not None
    known = _KNOWN_STEMS.setdefault(lang, {})
    new = set(folded).difference(known)
    if new:
        if len(known) + len(new) > _KNOWN_STEMS_MAX:
            # A fresh dict, not clear(): another thread may be mapping over the old one; keys are never removed.
            known = _KNOWN_STEMS[lang] = {}
            new = set(folded)
        known.update(_stem_new(new, lang, stemmer))
    return list(map(known.__getitem__, folded))


def stemmed_text(text: str, lang: str | None) -> str:
    """What goes into the stemmed column: the text's folded words, stemmed, separated by spaces."""
    return " ".join(stem_words(words(text), lang))


def stemming_languages(langs: Iterable[str | None]) -> list[str]:
    """The languages among these that have a stemmer, sorted (queries are built the same way every time)."""
    return sorted({lang for lang in langs if lang and lang in SNOWBALL})


def _quoted(phrase_words: Sequence[str]) -> str:
    # Words hold letters and digits only (query_language.words), so no '"' can reach FTS5 unescaped; double any anyway.
    return '"' + " ".join(phrase_words).replace('"', '""') + '"'


def fts_query(node: Node, langs: Sequence[str]) -> str:
    """An FTS5 MATCH expression over the columns `plain` and `stemmed` for a query that
    `indexer.queries.parse_text_query` returned (it admits only shapes FTS5 can express)."""
    return _render(node, langs)


def _stemmed(phrase: Phrase, lang: str) -> str | None:
    """The phrase in the stemmed column for one language; None for a prefix phrase (prefixes match unstemmed)."""
    if phrase.last == "prefix":
        return None
    stems = _quoted(stem_words(phrase.words, lang))
    # Brand-name rule: the last word may carry an ending (crawler/brands.py).
    return stems + " *" if phrase.last == "inflect" else stems


def _plain(phrase: Phrase) -> str:
    return _quoted(phrase.words) + (" *" if phrase.last == "prefix" else "")


def _phrase_variants(phrase: Phrase, langs: Sequence[str]) -> list[str]:
    """Column-qualified alternatives of one phrase: its exact words, and their stems in each language. Words that
    are their own stems are looked up once in both columns: FTS5 reads each alternative's lists apart."""
    plain, stems = _plain(phrase), []
    for lang in langs:
        stemmed = _stemmed(phrase, lang)
        if stemmed is not None and stemmed not in stems:
            stems.append(stemmed)
    if plain in stems:
        stems.remove(plain)
        return [f"{{plain stemmed}} : {plain}", *(f"stemmed : {stemmed}" for stemmed in stems)]
    return [f"plain : {plain}", *(f"stemmed : {stemmed}" for stemmed in stems)]


def _phrases(node: Node) -> list[Phrase]:
    if isinstance(node, Phrase):
        return [node]
    assert isinstance(node, Or)
    return [p for operand in node.operands for p in _phrases(operand)]


def _render(node: Node, langs: Sequence[str]) -> str:
    if isinstance(node, Phrase):
        return "(" + " OR ".join(_phrase_variants(node, langs)) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(_render(o, langs) for o in node.operands) + ")"
    if isinstance(node, And):
        # FTS5's NOT is binary ("a NOT b"): the positive operands first, each exclusion after them.
        rendered = "(" + " AND ".join(_render(o, langs) for o in node.operands if not isinstance(o, Not)) + ")"
        for excluded in node.operands:
            if isinstance(excluded, Not):
                rendered = f"({rendered} NOT {_render(excluded.operand, langs)})"
        return rendered
    assert isinstance(node, Near)
    alternatives = []
    for left in _phrases(node.left):
        for right in _phrases(node.right):
            alternatives.extend(_near(left, right, node.distance, langs))
    return "(" + " OR ".join(alternatives) + ")"


def _near(left: Phrase, right: Phrase, distance: int, langs: Sequence[str]) -> list[str]:
    """NEAR in the unstemmed column, and in the stemmed one for each language (both sides stemmed alike)."""
    found = [f"plain : NEAR({_plain(left)} {_plain(right)}, {distance})"]
    for lang in langs:
        a, b = _stemmed(left, lang), _stemmed(right, lang)
        if a is not None and b is not None and (near := f"stemmed : NEAR({a} {b}, {distance})") not in found:
            found.append(near)
    return found
