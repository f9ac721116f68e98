"""The brand query language (core/query_language.py): examples, errors with positions, and properties."""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import Brand, ConfigError, load_config
from core.query_language import (
    And,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Query,
    QueryError,
    first_position,
    fold,
    has_prefix,
    inflected_match,
    matches,
    parse_query,
    words,
)
from crawler.brands import BrandMatcher

pytestmark = pytest.mark.unit


def hits(query: str, text: str) -> bool:
    return matches(parse_query(query), words(text))


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("kaiku", "Kaiku on hyvä", True),
        ("kaiku", "kaikuluotain on hyvä", False),  # word boundary
        ("Kaiku*", "Kaikussa oli hyvä palvelu", True),  # prefix term for inflection
        ("Kaiku*", "ei kaikea", False),
        ('"hotelli revontuli"', "Hotelli Revontuli, Levi", True),
        ('"hotelli revontuli"', "Revontuli hotelli", False),  # phrase order
        ('"hotelli revontul*"', "Hotelli Revontulessa", True),
        ("Café", "CAFE ECLAIR", True),  # accents and case
        ("cafe", "Café Éclair", True),
        ("revontuli AND hotelli", "hotelli on nimeltään revontuli", True),
        ("revontuli hotelli", "hotelli on nimeltään revontuli", True),  # implicit AND
        ("revontuli AND hotelli", "revontuli", False),
        ("revontuli OR tunturi", "Tunturi", True),
        ("revontuli NOT näkyivät", "revontulet näkyivät, revontuli", False),
        ("revontuli -näkyivät", "Revontuli oli hieno", True),  # exclusion shorthand
        ("revontuli -näkyivät", "revontuli näkyivät", False),
        ("(revontuli OR tunturi) AND hotelli", "tunturi hotelli", True),
        ("revontuli OR tunturi AND hotelli", "revontuli", True),  # AND binds tighter than OR
        ("revontuli NEAR/2 hotelli", "revontuli on paras hotelli", True),
        ("revontuli NEAR/1 hotelli", "revontuli on paras hotelli", False),
        ("revontuli NEAR/1 hotelli", "hotelli se revontuli", True),  # either order
        ('"kylpylä hotelli" NEAR/0 (levi OR ylläs)', "Kylpylä hotelli Ylläs", True),
        ("a1 NEAR/0 b2 NEAR/0 c3", "a1 b2 c3", True),
        ("Revontuli-hotelli", "Revontuli hotelli", True),  # a hyphenated term is a phrase
        ("and", "rock and roll", True),  # lower-case operators are words
    ],
)
def test_examples(query: str, text: str, expected: bool) -> None:
    assert hits(query, text) is expected


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("", 0, "empty query"),
        ("kaiku AND", 9, "ends where a term was expected"),
        ("(kaiku OR hotelli", 17, "missing ')'"),
        ("kaiku)", 5, "')' without a matching '('"),
        ('kaiku "hotelli', 6, "unclosed quote"),
        ("kaiku NEAR hotelli", 6, "NEAR needs a distance"),
        ("kaiku NEAR/x hotelli", 6, "NEAR needs a distance"),
        ("(a1 AND b2) NEAR/3 c3", 0, "left side of NEAR"),
        ("a1 NEAR/3 NOT b2", 10, "right side of NEAR"),
        ("ka*", 2, "at least 3 letters"),
        ("ka*ku", 2, "'*' may only end a term"),
        ("kaiku OR !!!", 9, "has no letters or digits"),
        ("()", 1, "empty parentheses"),
        ("NOT kaiku", 0, "only NOT parts"),
        ("kaiku OR OR hotelli", 9, "expected a term"),
    ],
)
def test_invalid_queries_name_the_position(query: str, position: int, message: str) -> None:
    with pytest.raises(QueryError) as error:
        parse_query(query)
    assert error.value.position == position
    assert message in error.value.message


def test_an_invalid_query_is_a_config_error_with_file_field_and_position(tmp_path: Path) -> None:
    (tmp_path / "brands.yaml").write_text(
        "brands:\n  - id: kaiku\n    name: Kaiku\n    queries:\n      finnish: 'Kaiku* AND (palvelu'\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    text = str(error.value)
    assert "brands.yaml" in text and "brands.0.queries" in text
    assert "query 'finnish': missing ')'" in text and "at position 19" in text


def test_a_mention_records_the_query_that_matched() -> None:
    brand = Brand(
        id="kaiku",
        name="Kaiku Analytics",
        queries={"finnish": "Kaiku* NEAR/3 (palvelu OR sovellus)", "english": '"kaiku app" -echo'},
    )
    matcher = BrandMatcher([brand])
    assert matcher.match("Kaiku Analytics rocks").primary_query == "kaiku"  # name/aliases: the brand id
    assert matcher.match("Kaikun uusi sovellus on hyvä").primary_query == "kaiku/finnish"
    assert matcher.match("The Kaiku app is fine").primary_query == "kaiku/english"
    assert matcher.match("The kaiku app echo").brands == []
    assert matcher.match("Kaikun kanssa ei ole mitään tekemistä tämän sovelluksen").brands == []  # too far apart


def test_the_shipped_brands_config_uses_the_language() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "configs")
    assert any(brand.queries for brand in config.brands)


# --- Properties ----------------------------------------------------------------------------------------------------

VOCABULARY = ["kaiku", "kaikun", "hotelli", "hotellissa", "revontuli", "revontulessa", "tunturi", "levi", "cafe", "ab"]
word_lists = st.lists(st.sampled_from(VOCABULARY), max_size=12)


def _phrase(lasts: list[str]) -> st.SearchStrategy[Phrase]:
    return st.builds(
        Phrase,
        st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3).map(tuple),
        st.sampled_from(lasts),
    ).filter(lambda p: p.last != "prefix" or len(p.words[-1]) >= 3)


def _positional(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Near, children, children, st.integers(0, 4)),
        st.lists(children, min_size=2, max_size=3).map(lambda ops: Or(tuple(ops))),
    )


def _trees(lasts: list[str]) -> st.SearchStrategy[Node]:
    return st.recursive(
        st.recursive(_phrase(lasts), _positional, max_leaves=4),
        lambda children: st.one_of(
            st.builds(Not, children),
            st.lists(children, min_size=2, max_size=3).map(lambda ops: And(tuple(ops))),
            st.lists(children, min_size=2, max_size=3).map(lambda ops: Or(tuple(ops))),
        ),
        max_leaves=6,
    )


parsable_nodes = _trees(["exact", "prefix"])  # what the query syntax can say
nodes = _trees(["exact", "prefix", "inflect"])  # and the brand names' phrases with an inflected last word


def reference(node: Node, text: list[str]) -> bool:
    """A second, brute-force evaluation: phrases by comparing every window, NEAR over every pair of matches."""
    if isinstance(node, Not):
        return not reference(node.operand, text)
    if isinstance(node, And):
        return all(reference(o, text) for o in node.operands)
    if isinstance(node, Or) and not _is_positional(node):
        return any(reference(o, text) for o in node.operands)
    return bool(reference_spans(node, text))


def _is_positional(node: Node) -> bool:
    return isinstance(node, Phrase | Near) or (isinstance(node, Or) and all(_is_positional(o) for o in node.operands))


def reference_spans(node: Node, text: list[str]) -> set[tuple[int, int]]:
    if isinstance(node, Phrase):
        found = set()
        for start, end in itertools.combinations(range(len(text) + 1), 2):
            window = text[start:end]
            if len(window) != len(node.words):
                continue
            head_ok = " ".join(window[:-1]) == " ".join(node.words[:-1])
            last = window[-1]
            if node.last == "prefix":
                last_ok = last.startswith(node.words[-1])
            elif node.last == "inflect":
                last_ok = inflected_match(node.words[-1], last)
            else:
                last_ok = last == node.words[-1]
            if head_ok and last_ok:
                found.add((start, end))
        return found
    if isinstance(node, Or):
        return set().union(*(reference_spans(o, text) for o in node.operands))
    assert isinstance(node, Near)
    found = set()
    for a, b in itertools.product(reference_spans(node.left, text), reference_spans(node.right, text)):
        first, second = sorted([a, b])
        between = len(range(first[1], second[0]))  # 0 when adjacent or overlapping
        if between <= node.distance:
            found.add((min(a[0], b[0]), max(a[1], b[1])))
    return found


@given(nodes, word_lists)
@settings(max_examples=150, deadline=None)
def test_matcher_agrees_with_the_reference(node: Node, text: list[str]) -> None:
    assert matches(node, text) == reference(node, text)


@given(nodes, word_lists)
@settings(max_examples=150, deadline=None)
def test_a_query_has_a_first_position_exactly_when_it_matches(node: Node, text: list[str]) -> None:
    expected = first_position(node, text) if reference(node, text) else None
    assert Query("q", "", node).first_position(text) == expected
    assert Query("q", "", node).first_position(tuple(text)) == expected  # any sequence of words


@given(st.text(max_size=40) | st.text(alphabet="aAäÄöÖåÅéÉüÜ ıİﬁǅ\u0301\u0308-", max_size=40))
@settings(max_examples=300, deadline=None)
def test_folding_drops_every_combining_mark_and_casefolds(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text)
    assert fold(text) == "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@given(parsable_nodes)
@settings(max_examples=150, deadline=None)
def test_rendered_queries_parse_back_to_the_same_tree(node: Node) -> None:
    try:
        parsed = parse_query(node.render())
    except QueryError as error:
        assert "only NOT parts" in error.message  # the one tree-level refusal
        assert matches(node, [])
        return
    assert parsed == node


@given(st.text(alphabet=st.sampled_from(list('ab *()"-/ANDORTNE13 ä\t')), max_size=30) | st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_the_parser_fails_only_with_a_query_error_pointing_inside_the_query(query: str) -> None:
    try:
        node = parse_query(query)
    except QueryError as error:
        assert 0 <= error.position <= len(query)
        return
    assert not matches(node, [])  # an accepted query never matches a text without words


# Latin letters with and without accents (the markets Kaiku serves); a few letters elsewhere have no case pair that
# folds back (Turkish dotless ı: upper "I" folds to "i"), which is Unicode's rule, not a matcher bug.
letters = st.text(
    alphabet=st.characters(min_codepoint=0x30, max_codepoint=0x17F, categories=["Lu", "Ll", "Nd"]).filter(
        lambda char: char != "ı"
    ),
    min_size=1,
    max_size=12,
)


@given(letters, st.lists(letters, max_size=4))
@settings(max_examples=150, deadline=None)
def test_a_word_matches_itself_in_any_case_and_with_or_without_accents(word: str, others: list[str]) -> None:
    query = f'"{word}"'
    text = " ".join([*others, word.upper(), *others])
    try:
        parse_query(query)
    except QueryError:
        assert not words(word)  # only a "word" that folds away entirely (no letters left) is refused
        return
    assert hits(query, text) and hits(query, word.lower())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sauna", False),
        ('"kylmä huone" OR aamiai*', True),
        ("huone -kyl*", True),
        ("(sauna OR huone) NEAR/3 kyl*", True),
        ('"kylmä huo*"', True),  # the phrase's last word as a prefix
        ("sauna NEAR/2 (huone OR sänky)", False),
    ],
)
def test_has_prefix_finds_a_prefix_term_anywhere_in_the_tree(query: str, expected: bool) -> None:
    assert has_prefix(parse_query(query)) is expected
