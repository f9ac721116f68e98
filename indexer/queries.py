"""Query building for mentions: the one place that turns filters into engine requests."""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError

from core.query_language import And, Near, Node, Not, Or, Phrase, QueryError, parse_query, words
from indexer.errors import EngineUnavailable, IndexerError

TEXT_FIELDS = ["text", "text.fi", "text.en", "title", "title.fi", "title.en"]
# With a language filter, only the standard fields and that language's analysed sub-fields are searched:
# the right stemmer for the texts at hand, and fewer fields (each field is a full pass in the local engine).
LANG_TEXT_FIELDS = {
    "fi": ["text", "text.fi", "title", "title.fi"],
    "en": ["text", "text.en", "title", "title.en"],
}
# The id breaks ties in every order so search_after pages are stable.
_BY_ID = {"id": {"order": "asc"}}
SORTS: dict[str, list[dict[str, Any]]] = {
    "newest": [{"published_at": {"order": "desc", "missing": "_last"}}, _BY_ID],
    "oldest": [{"published_at": {"order": "asc", "missing": "_last"}}, _BY_ID],
    # The experience class first, then the intensity within it: a confident comfort text is not delight.
    # The class names sort as anger < comfort < delight, so ascending puts anger first and descending delight.
    "angriest": [
        {"experience": {"order": "asc", "missing": "_last"}},
        {"polarity.negative": {"order": "desc", "missing": "_last"}},
        _BY_ID,
    ],
    "most_delighted": [
        {"experience": {"order": "desc", "missing": "_last"}},
        {"polarity.positive": {"order": "desc", "missing": "_last"}},
        _BY_ID,
    ],
    "relevance": [{"_score": {"order": "desc"}}, _BY_ID],
}
SortName = Literal["newest", "oldest", "angriest", "most_delighted", "relevance"]
HIGHLIGHT_FIELDS = ("text", "title")


class IndexMissing(IndexerError):
    """The alias has no index behind it yet (nothing indexed, `kaiku index init` not run)."""


class InvalidCursor(IndexerError):
    """A pagination cursor that this service did not issue."""


@dataclass(frozen=True)
class MentionFilters:
    brand: str | None = None
    brands: tuple[str, ...] | None = None  # restricts to these brands (a team's own), beside `brand`
    q: str | None = None
    experience: str | None = None
    source: str | None = None
    lang: str | None = None
    start: datetime | None = None  # inclusive, on published_at
    end: datetime | None = None  # exclusive


# A text search counts its matches exactly up to this many, then answers "at least this many" (`count_exact`
# false), as Elasticsearch's track_total_hits: counting every match of a common word costs more than the page.
SEARCH_COUNT_LIMIT = 1000


@dataclass(frozen=True)
class MentionPage:
    data: list[dict[str, Any]]
    count: int
    next: str | None
    count_exact: bool = True  # False: `count` is SEARCH_COUNT_LIMIT and more mentions match
    # The documents as one JSON array, from a store that holds them as the public document's JSON text (the
    # embedded store) when asked `as_json` (then `data` is empty): the API sends it as it is instead of parsing,
    # validating and dumping each document again.
    data_json: str | None = None


def build_query(filters: MentionFilters) -> dict[str, Any]:
    must: list[dict] = []
    filter_clauses: list[dict] = []
    for field in ("brand", "experience", "source", "lang"):
        value = getattr(filters, field)
        if value is not None:
            filter_clauses.append({"term": {field: value}})
    if filters.brands is not None:
        filter_clauses.append({"terms": {"brand": list(filters.brands)}})
    if filters.start or filters.end:
        bounds: dict[str, str] = {}
        if filters.start:
            bounds["gte"] = filters.start.isoformat()
        if filters.end:
            bounds["lt"] = filters.end.isoformat()
        filter_clauses.append({"range": {"published_at": bounds}})
    if filters.q:
        fields = LANG_TEXT_FIELDS.get(filters.lang or "", TEXT_FIELDS)
        node = parse_text_query(filters.q)
        must.append(_text_clause(node, fields) if node is not None else {"bool": {"must_not": [{"match_all": {}}]}})
    if not must and not filter_clauses:
        return {"match_all": {}}
    return {"bool": {"must": must, "filter": filter_clauses}}


def parse_text_query(q: str) -> Node | None:
    """The API's `q` as a brand query (AND/OR/NOT, "phrases", NEAR/n, prefix*, -exclusions; core/query_language.py),
    the earlier simple syntax's `a | b` and `"a b"~N` included.

    Text that is not a valid query, or uses a shape not every store can run (NOT as an alternative of OR, NEAR
    around anything but terms, phrases and ORs of them), is searched as its plain words, all required: hostile or
    mistyped text never breaks a search and never reaches an engine's own query parser. None: no word at all
    (the query matches nothing).
    """
    try:
        node = parse_query(_from_simple_syntax(q))
        if _portable(node):
            return node
    except QueryError:
        pass
    terms = tuple(Phrase((word,)) for word in words(q))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else And(terms)


_SLOPPY_PAIR = re.compile(r'"\s*([^\W_]+)\s+([^\W_]+)\s*"~(\d+)')
_FUZZY = re.compile(r"(?<=[^\W_])~\d*")


def _from_simple_syntax(q: str) -> str:
    """What the API took before (Elasticsearch's simple query syntax) in brand-query terms: `a | b` is `a OR b`,
    a two-word `"a b"~N` is `a NEAR/N b`, `+` joins like a space, and a fuzzy `word~N` is the word."""
    q = _SLOPPY_PAIR.sub(lambda m: f"({m.group(1)} NEAR/{m.group(3)} {m.group(2)})", q)
    parts = q.split('"')
    for i in range(0, len(parts), 2):  # outside quotes only
        parts[i] = _FUZZY.sub("", parts[i]).replace("|", " OR ").replace("+", " ")
    return '"'.join(parts)


def _portable(node: Node) -> bool:
    if isinstance(node, Phrase):
        return True
    if isinstance(node, Or):
        return all(not isinstance(o, Not) and _portable(o) for o in node.operands)
    if isinstance(node, And):
        positive = [o for o in node.operands if not isinstance(o, Not)]
        negative = [o.operand for o in node.operands if isinstance(o, Not)]
        return bool(positive) and all(_portable(o) for o in positive + negative)
    if isinstance(node, Near):
        return all(_terms_or_phrases(side) for side in (node.left, node.right))
    return False


def _terms_or_phrases(node: Node) -> bool:
    return isinstance(node, Phrase) or (isinstance(node, Or) and all(isinstance(o, Phrase) for o in node.operands))


def _text_clause(node: Node, fields: list[str]) -> dict[str, Any]:
    """A parsed text query as Elasticsearch query DSL on the analysed text fields (and their language sub-fields)."""
    if isinstance(node, Phrase):
        text = " ".join(node.words)
        kind = "match_phrase" if node.last == "exact" else "match_phrase_prefix"
        searched = fields if node.last == "exact" else [f for f in fields if "." not in f]
        return {"bool": {"should": [{kind: {field: text}} for field in searched], "minimum_should_match": 1}}
    if isinstance(node, Or):
        return {"bool": {"should": [_text_clause(o, fields) for o in node.operands], "minimum_should_match": 1}}
    if isinstance(node, And):
        positive = [_text_clause(o, fields) for o in node.operands if not isinstance(o, Not)]
        negative = [_text_clause(o.operand, fields) for o in node.operands if isinstance(o, Not)]
        return {"bool": {"must": positive, "must_not": negative}}
    assert isinstance(node, Near)  # _portable() admits nothing else
    sides = [_interval_sources(side) for side in (node.left, node.right)]
    per_field = [
        {"intervals": {field: {"all_of": {"intervals": sides, "max_gaps": node.distance, "ordered": False}}}}
        for field in fields
    ]
    return {"bool": {"should": per_field, "minimum_should_match": 1}}


def _interval_sources(node: Node) -> dict[str, Any]:
    phrases = node.operands if isinstance(node, Or) else (node,)
    rules = []
    for phrase in phrases:
        assert isinstance(phrase, Phrase)
        if phrase.last == "exact":
            rules.append({"match": {"query": " ".join(phrase.words), "max_gaps": 0, "ordered": True}})
        else:
            rules.append({"prefix": {"prefix": phrase.words[-1]}} if len(phrase.words) == 1 else
                         {"match": {"query": " ".join(phrase.words), "max_gaps": 0, "ordered": True}})  # fmt: skip
    return rules[0] if len(rules) == 1 else {"any_of": {"intervals": rules}}


def encode_cursor(sort: str, sort_values: list[Any]) -> str:
    payload = {"sort": sort, "after": sort_values}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    """The search_after values of a cursor issued for the same sort order."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this service issued") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("after"), list):
        raise InvalidCursor("cursor is not one this service issued")
    if payload.get("sort") != sort or len(payload["after"]) != len(SORTS[sort]):
        raise InvalidCursor(f"cursor was issued for sort={payload.get('sort')!r}, not sort={sort!r}")
    return list(payload["after"])


def run_search(client: Elasticsearch, alias: str, body: dict[str, Any]) -> dict[str, Any]:
    """One search request; engine failures become the indexer's errors. Every query of Kaiku goes through here."""
    try:
        return dict(client.search(index=alias, **body))
    except TransportError as exc:
        raise EngineUnavailable(f"search failed, engine unreachable: {exc}") from exc
    except NotFoundError as exc:
        raise IndexMissing(f"no index behind {alias!r} yet: run `kaiku index init` or a crawl first") from exc
    except ApiError as exc:
        raise IndexerError(f"search failed: {exc}") from exc


def scan(client: Elasticsearch, alias: str, body: dict[str, Any], page_size: int = 1000,
         sort: list[dict[str, Any]] | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Every hit of a query, page by page with search_after (no deep `from`, no scroll context to leak)."""
    after: list[Any] | None = None
    while True:
        page = {**body, "sort": sort or [_BY_ID], "size": page_size}
        if after is not None:
            page["search_after"] = after
        hits = run_search(client, alias, page)["hits"]["hits"]
        yield from hits
        if len(hits) < page_size:
            return
        after = hits[-1]["sort"]


# The engine marks matches with these; the fragment is HTML-escaped and only then are they made <em> tags,
# so a crawled "<script>" reaches a page as text while the highlighting stays markup (private-use characters:
# no real text needs them).
_MATCH_START, _MATCH_END = "\ue000", "\ue001"


def _highlighted(hit: dict[str, Any]) -> dict[str, list[str]]:
    """HTML fragments per text field, whichever analysed sub-field (standard, Finnish, English) matched."""
    raw = hit.get("highlight") or {}
    merged: dict[str, list[str]] = {}
    for field in HIGHLIGHT_FIELDS:
        for name in (field, f"{field}.fi", f"{field}.en"):
            if raw.get(name):
                merged[field] = [_as_html(fragment) for fragment in raw[name]]
                break
    return merged


def _as_html(fragment: str) -> str:
    return html.escape(fragment, quote=False).replace(_MATCH_START, "<em>").replace(_MATCH_END, "</em>")


def search_mentions(
    client: Elasticsearch,
    alias: str,
    filters: MentionFilters,
    size: int = 20,
    cursor: str | None = None,
    sort: SortName = "newest",
    highlight: bool = False,
) -> MentionPage:
    """One page of mentions in the given order, with the total count of matches."""
    body: dict[str, Any] = {
        "query": build_query(filters),
        "sort": SORTS[sort],
        "size": size,
        "track_total_hits": SEARCH_COUNT_LIMIT if filters.q else True,
    }
    if highlight:
        body["highlight"] = {
            "fields": {name: {} for name in TEXT_FIELDS},
            "pre_tags": [_MATCH_START],
            "post_tags": [_MATCH_END],
        }
    if cursor:
        body["search_after"] = decode_cursor(cursor, sort)
    response = run_search(client, alias, body)
    hits = response["hits"]["hits"]
    total, relation = response["hits"]["total"]["value"], response["hits"]["total"]["relation"]
    next_cursor = encode_cursor(sort, hits[-1]["sort"]) if len(hits) == size else None
    data = []
    for hit in hits:
        item = public(hit["_source"])
        if highlight:
            item["highlight"] = _highlighted(hit)
        data.append(item)
    return MentionPage(data=data, count=int(total), next=next_cursor, count_exact=relation == "eq")


def export_mentions(client: Elasticsearch, alias: str, filters: MentionFilters, page_size: int = 1000
                    ) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Every mention matching the filters, newest first, fetched lazily page by page."""
    for hit in scan(client, alias, {"query": build_query(filters)}, page_size=page_size, sort=SORTS["newest"]):
        yield public(hit["_source"])


# Stored for the crawler's own lookups, meaningless to API clients: 32 hash strings per mention (crawler/dedup.py).
INTERNAL_FIELDS = frozenset({"dedup_bands"})


def public(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in INTERNAL_FIELDS}


def get_mention(client: Elasticsearch, alias: str, mention_id: str) -> dict[str, Any] | None:
    response = run_search(client, alias, {"query": {"term": {"id": mention_id}}, "size": 1})
    hits = response["hits"]["hits"]
    return public(hits[0]["_source"]) if hits else None
