"""Brand queries: a small boolean language, parsed by hand into an AST that matches folded word lists.

Grammar (docs/crawler.md has examples; operators are upper case, anything else is a term):

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := near ("AND"? near)*               two operands side by side are ANDed
    near     := unary ("NEAR/" digits unary)*     both sides must have word positions (terms, phrases, ORs of them)
    unary    := ("NOT" | "-") unary | primary      "-word" is the exclusion shorthand for NOT word
    primary  := "(" or_expr ")" | phrase | term
    phrase   := '"' words '"'                      consecutive words; the last may end in *
    term     := a run of characters other than space, quotes and parentheses; may end in * (a prefix term)

Matching is on words: text and query are folded (NFKD, marks dropped, casefolded: "Mäki" = "maki") and split at
anything that is not a letter or digit, so a term matches whole words only ("kaiku" does not match "kaikuluotain")
unless it is a prefix term ("Kaiku*" matches "Kaikun", "Kaikussa": Finnish inflects by suffixes). A term that folds
to several words ("Revontuli-hotelli") is a phrase.

`A NEAR/n B` matches where A and B occur with at most n words between them, in either order. Precedence, tightest
first: NOT, NEAR, AND, OR. A query that would match a text with no words at all ("NOT spam") is refused: it would
match nearly everything.

Invalid queries raise `QueryError`, which carries the 0-based character position of the problem.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from core.errors import KaikuError

MIN_PREFIX_LENGTH = 3  # "ka*" would match half of any Finnish text
MIN_INFLECTED_LENGTH = 5
MAX_ENDING_LENGTH = 6
_VOWELS = frozenset("aeiouy")  # after accent folding, ä/ö are a/o
_WORD = re.compile(r"[^\W_]+")
OPERATORS = ("AND", "OR", "NOT")

Span = tuple[int, int]  # [start, end) word indices of one match
LastWord = Literal["exact", "prefix", "inflect"]


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text: NFKD, combining marks dropped, casefolded.

    Every mention goes through it several times (brand match, near-duplicate signature), so the marks are removed
    per distinct character rather than tested character by character in Python; ASCII, which NFKD leaves as it is
    and which holds no marks, is only casefolded.
    """
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    for char in set(decomposed):  # a few dozen distinct characters, however long the text
        if char > "\x7f" and unicodedata.combining(char):
            decomposed = decomposed.replace(char, "")
    return decomposed.casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def inflected_match(term_word: str, word: str) -> bool:
    """The legacy rule for brand names and aliases: the last word may carry a Finnish ending (crawler/brands.py)."""
    if word == term_word:
        return True
    if len(term_word) < MIN_INFLECTED_LENGTH:
        return False
    stem = term_word[:-1] if term_word[-1] in _VOWELS else term_word
    return word.startswith(stem) and len(word) - len(stem) <= MAX_ENDING_LENGTH


class QueryError(KaikuError, ValueError):
    """An invalid query; `position` is the 0-based index of the offending character in the query text."""

    def __init__(self, message: str, position: int, query: str) -> None:
        self.message = message
        self.position = position
        self.query = query
        super().__init__(f"at position {position}: {message} (in {query!r})")


# --- AST -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """One or more consecutive words; a single-word phrase is a term."""

    words: tuple[str, ...]
    last: LastWord = "exact"

    def spans(self, text: Sequence[str]) -> list[Span]:
        # The words where the last word matches first (one comprehension over the text), then the words before them:
        # every mention is matched against every brand's queries, and most words match nothing.
        n, term = len(self.words), self.words[-1]
        if self.last == "exact":
            ends = [end for end, word in enumerate(text) if word == term]
        elif self.last == "prefix":
            ends = [end for end, word in enumerate(text) if word.startswith(term)]
        else:  # both ways of an inflected match begin with the term's first letter
            first = term[:1]
            ends = [end for end, word in enumerate(text) if word.startswith(first) and inflected_match(term, word)]
        head = self.words[:-1]
        return [(end - n + 1, end + 1) for end in ends if end >= n - 1 and tuple(text[end - n + 1 : end]) == head]

    def render(self) -> str:
        star = "*" if self.last == "prefix" else ""
        return f'"{" ".join(self.words)}{star}"'


@dataclass(frozen=True)
class Not:
    operand: Node

    def render(self) -> str:
        return f"NOT {self.operand.render()}"


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]

    def render(self) -> str:
        return "(" + " AND ".join(o.render() for o in self.operands) + ")"


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]

    def render(self) -> str:
        return "(" + " OR ".join(o.render() for o in self.operands) + ")"


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int  # most words allowed between the two matches

    def render(self) -> str:
        return f"({self.left.render()} NEAR/{self.distance} {self.right.render()})"


Node = Phrase | Not | And | Or | Near


def positional(node: Node) -> bool:
    """Whether a node's matches have word positions (what NEAR needs)."""
    if isinstance(node, Phrase | Near):
        return True
    if isinstance(node, Or):
        return all(positional(o) for o in node.operands)
    return False


def has_prefix(node: Node) -> bool:
    """Whether any term of the query is a prefix term (`word*`)."""
    if isinstance(node, Phrase):
        return node.last == "prefix"
    if isinstance(node, Not):
        return has_prefix(node.operand)
    if isinstance(node, Near):
        return has_prefix(node.left) or has_prefix(node.right)
    return any(has_prefix(o) for o in node.operands)


def spans(node: Node, text: Sequence[str]) -> list[Span]:
    """Where a positional node matches in `text`."""
    if isinstance(node, Phrase):
        return node.spans(text)
    if isinstance(node, Or):
        return sorted({span for operand in node.operands for span in spans(operand, text)})
    if isinstance(node, Near):
        found = set()
        for a in spans(node.left, text):
            for b in spans(node.right, text):
                gap = max(b[0] - a[1], a[0] - b[1])  # words between them; negative when they overlap
                if gap <= node.distance:
                    found.add((min(a[0], b[0]), max(a[1], b[1])))
        return sorted(found)
    raise TypeError(f"{type(node).__name__} has no word positions")


def matches(node: Node, text: Sequence[str]) -> bool:
    if isinstance(node, Phrase | Near):
        return bool(spans(node, text))
    if isinstance(node, Not):
        return not matches(node.operand, text)
    if isinstance(node, And):
        return all(matches(o, text) for o in node.operands)
    return any(matches(o, text) for o in node.operands)


def first_position(node: Node, text: Sequence[str]) -> int | None:
    """Earliest word where a positive part of a matching query matches (for ordering brands by first mention)."""
    if isinstance(node, Phrase | Near):
        found = spans(node, text)
        return found[0][0] if found else None
    if isinstance(node, Not):
        return None
    positions = [p for o in node.operands if (p := first_position(o, text)) is not None]
    return min(positions) if positions else None


# --- Parser --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: Literal["(", ")", "AND", "OR", "NOT", "-", "NEAR", "PHRASE", "TERM", "END"]
    text: str
    position: int
    distance: int = 0  # NEAR/n


_NEAR = re.compile(r"NEAR/(\d+)")
_TERM_CHARS = re.compile(r'[^\s()"]+')
MAX_NEAR_DISTANCE = 1000
# Every crawled text is matched against every brand query: their size is bounded so that one brand's query
# cannot slow every crawl (NEAR compares each match of one side with each of the other).
MAX_QUERY_LENGTH = 1000  # characters
MAX_QUERY_TERMS = 50  # terms and phrases
MAX_NESTING_DEPTH = 5  # parentheses inside parentheses


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(Token(char, char, i))  # type: ignore[arg-type]
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError("unclosed quote", i, query)
            tokens.append(Token("PHRASE", query[i + 1 : end], i))
            i = end + 1
        elif char == "-" and i + 1 < len(query) and not query[i + 1].isspace() and query[i + 1] != ")":
            tokens.append(Token("-", "-", i))
            i += 1
        else:
            match = _TERM_CHARS.match(query, i)
            assert match is not None  # char is none of space, quote, parenthesis
            text = match.group()
            if text in OPERATORS:
                tokens.append(Token(text, text, i))  # type: ignore[arg-type]
            elif text.startswith("NEAR/") or text == "NEAR":
                near = _NEAR.fullmatch(text)
                if near is None:
                    raise QueryError("NEAR needs a distance, as in NEAR/3", i, query)
                distance = int(near.group(1))
                if distance > MAX_NEAR_DISTANCE:
                    raise QueryError(f"NEAR distance must be at most {MAX_NEAR_DISTANCE}", i + 5, query)
                tokens.append(Token("NEAR", text, i, distance))
            else:
                tokens.append(Token("TERM", text, i))
            i = match.end()
    tokens.append(Token("END", "", len(query)))
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        if len(query) > MAX_QUERY_LENGTH:
            raise QueryError(f"a query may have at most {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH, query)
        self.query = query
        self.tokens = tokenize(query)
        terms = [t for t in self.tokens if t.kind in ("PHRASE", "TERM")]
        if len(terms) > MAX_QUERY_TERMS:
            raise QueryError(f"a query may have at most {MAX_QUERY_TERMS} terms and phrases",
                             terms[MAX_QUERY_TERMS].position, query)  # fmt: skip
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def error(self, message: str, token: Token | None = None) -> QueryError:
        return QueryError(message, (token or self.current).position, self.query)

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def parse(self) -> Node:
        if self.current.kind == "END":
            raise self.error("empty query")
        node = self.or_expr()
        if self.current.kind == ")":
            raise self.error("')' without a matching '('")
        if self.current.kind != "END":  # pragma: no cover - every other token starts an operand and is consumed
            raise self.error(f"unexpected {self.current.text!r}")
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.current.kind == "OR":
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.near()]
        while self.current.kind not in ("OR", ")", "END"):
            if self.current.kind == "AND":
                self.advance()
            operands.append(self.near())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def near(self) -> Node:
        start = self.current
        node = self.unary()
        while self.current.kind == "NEAR":
            operator = self.advance()
            right_start = self.current
            right = self.unary()
            if not positional(node):
                raise self.error("the left side of NEAR must be a term, a phrase or an OR of them", start)
            if not positional(right):
                raise self.error("the right side of NEAR must be a term, a phrase or an OR of them", right_start)
            node = Near(node, right, operator.distance)
        return node

    def unary(self) -> Node:
        if self.current.kind in ("NOT", "-"):
            self.advance()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "(":
            self.depth += 1
            if self.depth > MAX_NESTING_DEPTH:
                raise self.error(f"parentheses may nest at most {MAX_NESTING_DEPTH} deep")
            self.advance()
            if self.current.kind == ")":
                raise self.error("empty parentheses")
            node = self.or_expr()
            if self.current.kind != ")":
                got = "the end of the query" if self.current.kind == "END" else repr(self.current.text)
                raise self.error(f"missing ')' to close the '(' at position {token.position}, got {got}")
            self.advance()
            self.depth -= 1
            return node
        if token.kind in ("PHRASE", "TERM"):
            self.advance()
            return self.phrase(token)
        if token.kind == "END":
            raise self.error("the query ends where a term was expected")
        raise self.error(f"expected a term, a phrase or '(', got {token.text!r}")

    def phrase(self, token: Token) -> Phrase:
        text = token.text
        offset = token.position + (1 if token.kind == "PHRASE" else 0)
        prefix = text.endswith("*")
        body = text[:-1] if prefix else text
        star = body.find("*")
        if star >= 0:
            raise QueryError("'*' may only end a term", offset + star, self.query)
        found = tuple(words(body))
        if not found:
            what = "phrase" if token.kind == "PHRASE" else "term"
            raise QueryError(f"{what} {text!r} has no letters or digits", token.position, self.query)
        if prefix and (not _WORD.fullmatch(fold(body[-1:])) or len(found[-1]) < MIN_PREFIX_LENGTH):
            raise QueryError(
                f"a prefix term needs at least {MIN_PREFIX_LENGTH} letters before '*'", offset + len(body), self.query
            )
        return Phrase(found, "prefix" if prefix else "exact")


def parse_query(query: str) -> Node:
    """Parse a brand query; raises QueryError naming the position of the first problem."""
    node = _Parser(query).parse()
    if matches(node, []):
        raise QueryError("the query matches a text without any of its terms (it has only NOT parts)", 0, query)
    return node


@dataclass(frozen=True)
class Query:
    """A named, parsed query of one brand."""

    id: str
    text: str
    node: Node

    @classmethod
    def parse(cls, query_id: str, text: str) -> Query:
        return cls(query_id, text, parse_query(text))

    @classmethod
    def any_of(cls, query_id: str, phrases: Sequence[str]) -> Query | None:
        """The legacy query of a brand: its name, aliases and terms as phrases whose last word may be inflected."""
        nodes = tuple(Phrase(found, "inflect") for text in phrases if (found := tuple(words(text))))
        if not nodes:
            return None
        node: Node = nodes[0] if len(nodes) == 1 else Or(nodes)
        return cls(query_id, " OR ".join(f'"{p}"' for p in phrases), node)

    def matches(self, text: Sequence[str]) -> bool:
        return matches(self.node, text)

    def first_position(self, text: Sequence[str]) -> int | None:
        position = first_position(self.node, text)
        if position is None or positional(self.node):  # a positional query matches exactly where it has a position
            return position
        return position if matches(self.node, text) else None
