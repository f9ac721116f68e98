"""The cost of a full-text search (`q`, the engine's simple query syntax), bounded before it reaches the engine.

What makes a text query expensive is not its length but what the engine must expand and intersect: a prefix
term (`ka*`) or a fuzzy term (`kaiku~2`) is rewritten into every indexed word it matches, in each of the six
text fields, and a sloppy phrase (`"a b"~50`) checks positions far apart. One 500-character query of short
wildcard alternatives took 0.93 s against 9 ms for an ordinary search, and four clients sending it slowed
everyone's searches 400-fold. So a query is refused (422, naming the limit) beyond these bounds, and what it may
still expand is charged to the caller's rate budget (`request_cost`: 1 for an ordinary query).

The syntax (https://www.elastic.co/guide/en/elasticsearch/reference/current/query-dsl-simple-query-string-query.html):
words, `"phrases"` with an optional `~slop`, `-excluded`, `a | b`, `+` (and), `( )` grouping, a trailing `*`
(prefix) and `~N` after a word (fuzzy); `\\` escapes the next character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.errors import IndexerError

MAX_QUERY_LENGTH = 500  # characters
MAX_QUERY_TERMS = 20  # words, phrase words included
MAX_EXPANDING_TERMS = 3  # prefix (`word*`) and fuzzy (`word~`) terms together
MIN_PREFIX_LENGTH = 3  # letters or digits before a `*`: "ka*" matches a large part of any Finnish text
MAX_PHRASE_SLOP = 5  # the N of `"a b"~N`: words allowed between (the simple syntax's NEAR)
MAX_NESTING_DEPTH = 3  # parentheses inside parentheses
EXPANDING_TERM_COST = 4  # requests of the rate budget one prefix or fuzzy term costs, beside the request's own 1

_WORD = re.compile(r"[^\W_]+")
_SLOP = re.compile(r"~(\d*)")
_OPERATOR_CHARS = frozenset("()|+-")


class QueryTooCostly(IndexerError):
    """A search text over one of the bounds; `limit` names the constant, `message` says what to change."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class SearchTextCost:
    terms: int = 0
    expanding_terms: int = 0  # prefix and fuzzy terms
    max_depth: int = 0

    @property
    def request_cost(self) -> int:
        """What this search costs of the rate budget, in ordinary requests."""
        return 1 + EXPANDING_TERM_COST * self.expanding_terms


@dataclass
class _Scan:
    terms: int = 0
    expanding: int = 0
    depth: int = 0
    max_depth: int = 0

    def word_run(self, raw: str, in_phrase: bool) -> None:
        """A run of term characters (between spaces and operators): count its words, check its `*` and `~`."""
        text, fuzzy = raw, False
        if not in_phrase and (slop := _SLOP.search(text)) is not None and slop.end() == len(text):
            text, fuzzy = text[: slop.start()], True
        found = _WORD.findall(text.replace("\\", ""))
        if not in_phrase and text.endswith("*") and not text.endswith("\\*"):
            last = found[-1] if found and _WORD.fullmatch(text[-2:-1] or "_") else ""
            if len(last) < MIN_PREFIX_LENGTH:
                raise QueryTooCostly(
                    f"a prefix term needs at least {MIN_PREFIX_LENGTH} letters before '*' (MIN_PREFIX_LENGTH), "
                    f"got {raw!r}",
                    "MIN_PREFIX_LENGTH",
                )
            self.expanding += 1
        elif fuzzy and found:
            self.expanding += 1
        self.terms += len(found)

    def open(self) -> None:
        self.depth += 1
        self.max_depth = max(self.max_depth, self.depth)
        if self.depth > MAX_NESTING_DEPTH:
            raise QueryTooCostly(
                f"parentheses may nest at most {MAX_NESTING_DEPTH} deep (MAX_NESTING_DEPTH)", "MAX_NESTING_DEPTH"
            )

    def close(self) -> None:
        self.depth = max(0, self.depth - 1)  # an unmatched ')' is ignored by the engine, and so here


def search_text_cost(q: str) -> SearchTextCost:
    """Check a search text against the bounds (QueryTooCostly names the one exceeded) and return its cost."""
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryTooCostly(
            f"the search text may have at most {MAX_QUERY_LENGTH} characters (MAX_QUERY_LENGTH), got {len(q)}",
            "MAX_QUERY_LENGTH",
        )
    scan = _Scan()
    i, run = 0, []
    while i < len(q):
        char = q[i]
        if char == "\\" and i + 1 < len(q):
            run.append(q[i : i + 2])
            i += 2
            continue
        if char == '"':
            scan.word_run("".join(run), in_phrase=False)
            run = []
            end = q.find('"', i + 1)
            end = len(q) if end < 0 else end  # an unclosed quote runs to the end, as in the engine
            scan.word_run(q[i + 1 : end], in_phrase=True)
            i = end + 1
            slop = _SLOP.match(q, i)
            if slop is not None:
                if slop.group(1) and int(slop.group(1)) > MAX_PHRASE_SLOP:
                    raise QueryTooCostly(
                        f"a phrase's ~distance may be at most {MAX_PHRASE_SLOP} (MAX_PHRASE_SLOP), got {slop.group(1)}",
                        "MAX_PHRASE_SLOP",
                    )
                i = slop.end()
            continue
        if char.isspace() or char in _OPERATOR_CHARS:
            # '-' inside a word ("wi-fi") is only a separator to the analyser: splitting there counts the same words.
            scan.word_run("".join(run), in_phrase=False)
            run = []
            if char == "(":
                scan.open()
            elif char == ")":
                scan.close()
        else:
            run.append(char)
        i += 1
    scan.word_run("".join(run), in_phrase=False)
    if scan.terms > MAX_QUERY_TERMS:
        raise QueryTooCostly(
            f"the search text may have at most {MAX_QUERY_TERMS} words (MAX_QUERY_TERMS), got {scan.terms}",
            "MAX_QUERY_TERMS",
        )
    if scan.expanding > MAX_EXPANDING_TERMS:
        raise QueryTooCostly(
            f"the search text may have at most {MAX_EXPANDING_TERMS} prefix (word*) or fuzzy (word~) terms "
            f"(MAX_EXPANDING_TERMS), got {scan.expanding}",
            "MAX_EXPANDING_TERMS",
        )
    return SearchTextCost(terms=scan.terms, expanding_terms=scan.expanding, max_depth=scan.max_depth)
