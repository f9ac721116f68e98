"""schema.org `Review` items from a page's JSON-LD, microdata and RDFa, as plain records.

Pure functions: no Scrapy, no network. `extract_reviews(html, url)` returns every usable review and,
beside them, the problems met on the way (malformed JSON-LD blocks, reviews without text, ratings or
dates that could not be read), so a caller can count them instead of losing them silently.
The rules are written down in docs/crawler.md.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from core.mention import ItemRating
from crawler.extract.jsonld import jsonld_blocks
from crawler.extract.microdata import UNOWNED, microdata_items, rdfa_items
from crawler.extract.page import EmptyDocument, canonical_url, page_language, parse_document
from crawler.extract.record import Record
from crawler.extract.text import decode_html, html_to_text
from crawler.extract.values import ValueProblem, parse_datetime, parse_number, primary_language, scale_rating

TEXT_PROPERTIES = ("reviewBody", "description", "text")
# The publication date, else the closest stand-in: creation (comment-style reviews), upload (a video
# review), last change (better than no date at all for the time series).
DATE_PROPERTIES = ("datePublished", "dateCreated", "uploadDate", "dateModified")
REVIEW_LISTS = ("review", "reviews")  # the properties whose values are reviews of the item holding them
# What a review widget outside any item reviews, when the page has exactly one of these (compared casefolded).
MAIN_ITEM_TYPES = frozenset({"product", "productgroup", "recipe", "book", "course", "softwareapplication"})
REVIEW_TYPES = frozenset({"review", "userreview", "criticreview", "employerreview"})  # compared casefolded
JSON_LD, MICRODATA, RDFA = "json-ld", "microdata", "rdfa"

# Problem codes (also the suffixes of the crawler's stats keys).
MALFORMED_JSONLD = "malformed_jsonld"
NO_TEXT = "no_text"
BAD_RATING = "bad_rating"
BAD_DATE = "bad_date"
EMPTY_DOCUMENT = "empty_document"
PARSE_LIMIT = "parse_limit"  # the HTML parser stopped early: reviews after that point are missing
REPAIRED_JSONLD = "repaired_jsonld"  # a JSON-LD block read after removing trailing commas or stray characters


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


class ReviewRecord(Record):
    """One review as the page states it; nothing here is inferred beyond the documented defaults.

    `url` is the review's own URL, else the page URL + "#review-<fingerprint>"; `canonical_url` the review's
    own URL, else the page's <link rel=canonical>; `key` as docs/crawler.md describes.
    """

    page_url: str
    markup: str = JSON_LD


@dataclass
class ExtractResult:
    reviews: list[ReviewRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def count(self, code: str) -> int:
        return sum(1 for problem in self.problems if problem.code == code)


def extract_reviews(html: str | bytes, url: str, content_type: str | None = None) -> ExtractResult:
    """All schema.org reviews on one page (JSON-LD first, then microdata and RDFa not already seen before)."""
    result = ExtractResult()
    text = decode_html(html, content_type) if isinstance(html, bytes) else html
    try:
        root, stopped = parse_document(text)
    except EmptyDocument as exc:
        result.problems.append(Problem(EMPTY_DOCUMENT, f"page has no HTML: {exc}"))
        return result
    if stopped:
        message = f"the HTML parser stopped early, the rest of the page is unread: {stopped}"
        result.problems.append(Problem(PARSE_LIMIT, message))
    page = _Page(
        url=urldefrag(url)[0],
        lang=page_language(root),
        canonical=canonical_url(root, url),
    )

    # (markup, copy, where, data): a "copy" is one JSON-LD block, or all of the page's microdata, or its RDFa.
    sources: list[tuple[str, str, str, Any]] = []
    for block in jsonld_blocks(root):
        if block.error == "empty block":
            continue
        if block.error is not None:
            result.problems.append(Problem(MALFORMED_JSONLD, f"JSON-LD block {block.index}: {block.error}; skipped"))
            continue
        if block.repaired:
            message = f"JSON-LD block {block.index}: read after removing {block.repaired}"
            result.problems.append(Problem(REPAIRED_JSONLD, message))
        where = f"JSON-LD block {block.index}"
        sources.append((JSON_LD, where, where, _short_keys(block.data)))
    for number, item in enumerate(microdata_items(root), start=1):
        sources.append((MICRODATA, MICRODATA, f"microdata item {number}", _short_keys(item)))
    for number, item in enumerate(rdfa_items(root), start=1):
        sources.append((RDFA, RDFA, f"RDFa item {number}", _short_keys(item)))  # property="schema:author"

    graph = _Graph()
    for *_, data in sources:
        graph.index(data)
    main_item = _main_item([data for *_, data in sources])
    copies = _Copies()
    for markup, copy, where, data in sources:
        # A review widget's `itemprop="review"` outside any item is a review of the page's one product.
        unowned_review = isinstance(data, dict) and bool(set(data.get(UNOWNED, ())) & set(REVIEW_LISTS))
        found_reviews = _find_reviews(data, main_item, listed=True) if unowned_review else _find_reviews(data, None)
        for position, found in enumerate(found_reviews, start=1):
            record = _record(found, markup, f"{where}, review {position}", page, graph, result.problems)
            if record is not None and not copies.seen_in_another_copy(record, copy):
                result.reviews.append(record)
    result.reviews = _distinct_keys(result.reviews, page)
    return result


@dataclass(frozen=True)
class _Page:
    url: str
    lang: str | None
    canonical: str | None


@dataclass(frozen=True)
class _Found:
    node: dict[str, Any]
    parent: dict[str, Any] | None  # the Product/Hotel/... whose `review` list held this review


def _short(name: str) -> str:
    """'http://schema.org/Review', 'https://schema.org/Review/', 'schema:Review' and 'Review' are one type
    (or property) here."""
    if name.startswith("@"):
        return name
    name = name.strip().rstrip("/#")
    for separator in ("/", "#", ":"):
        name = name.rsplit(separator, 1)[-1]
    return name


def _short_keys(data: Any) -> Any:
    if isinstance(data, list):
        return [_short_keys(item) for item in data]
    if isinstance(data, dict):
        return {_short(key) if isinstance(key, str) else key: _short_keys(value) for key, value in data.items()}
    return data


def _types(node: dict[str, Any]) -> set[str]:
    """The node's types, short and casefolded ('https://schema.org/review' is a Review too)."""
    declared = node.get("@type")
    names = declared if isinstance(declared, list) else [declared]
    return {_short(name).casefold() for name in names if isinstance(name, str) and _short(name)}


def _is_review(node: dict[str, Any], listed: bool) -> bool:
    """A Review by its type; or, without any type, by where it is (`listed`): a `review` property's values
    are Reviews (schema.org's range), and widgets often leave out the `@type` there. An `{"@id": ...}` alone
    is a reference, not a review."""
    types = _types(node)
    if types:
        return bool(types & REVIEW_TYPES)
    return listed and not set(node) <= {"@id", "@context"}


def _find_reviews(data: Any, parent: dict[str, Any] | None, listed: bool = False) -> list[_Found]:
    """Review nodes anywhere in the tree (@graph, arrays, a Hotel's `review` list, an ItemList...).

    `parent` is the item whose `review` list holds `data` (`listed`). A review's own `review` property holds
    replies nested in it (threaded comment lists in microdata): they are reviews of the same item.
    """
    found: list[_Found] = []
    if isinstance(data, list):
        for item in data:
            found.extend(_find_reviews(item, parent, listed))
    elif isinstance(data, dict):
        if _is_review(data, listed):
            found.append(_Found(data, parent))
            for key in REVIEW_LISTS:  # the review's other children (author, itemReviewed) hold no reviews
                found.extend(_find_reviews(data.get(key), parent, listed=True))
            return found
        for key, value in data.items():
            if key != "@context":
                holds_reviews = key in REVIEW_LISTS
                found.extend(_find_reviews(value, data if holds_reviews else None, holds_reviews))
    return found


def _main_item(tops: list[Any]) -> dict[str, Any] | None:
    """The page's one top-level Product (or Recipe...) with a name, in any markup; None when there are
    several (a listing, related products) or none."""
    names: dict[str, dict[str, Any]] = {}
    for data in tops:
        nodes = data if isinstance(data, list) else [data]
        nodes = [n for node in nodes if isinstance(node, dict) for n in [node, *_as_list(node.get("@graph"))]]
        for node in nodes:
            name = _name(node.get("name")) if isinstance(node, dict) and _types(node) & MAIN_ITEM_TYPES else None
            if name:
                names.setdefault(name.casefold(), node)
    return next(iter(names.values())) if len(names) == 1 else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


class _Graph:
    """Nodes by @id, so `{"@id": "#hotel"}` references (common with @graph) can be followed."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.reviewed_by_ref: dict[str, dict[str, Any]] = {}  # review @id -> the item whose `review` points at it

    def index(self, data: Any) -> None:
        if isinstance(data, list):
            for item in data:
                self.index(item)
        elif isinstance(data, dict):
            node_id = data.get("@id")
            if isinstance(node_id, str) and len(data) > 1:
                self.by_id.setdefault(node_id, data)
            for key, value in data.items():
                if key in REVIEW_LISTS:
                    for ref in value if isinstance(value, list) else [value]:
                        if isinstance(ref, dict) and isinstance(ref.get("@id"), str):
                            self.reviewed_by_ref.setdefault(ref["@id"], data)
                if key != "@context":
                    self.index(value)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            value = next((item for item in value if item not in (None, "")), None)
        if isinstance(value, dict) and isinstance(value.get("@id"), str) and set(value) <= {"@id", "@type"}:
            return self.by_id.get(value["@id"], value)
        return value


def _string(value: Any) -> str | None:
    """A scalar text value: the first non-empty of a list, a JSON-LD value object's @value, a number as text."""
    if isinstance(value, list):
        for item in value:
            text = _string(item)
            if text:
                return text
        return None
    if isinstance(value, dict):
        return _string(value.get("@value"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _name(value: Any) -> str | None:
    """Name of a thing given as a string, a Person/Organization/Thing node, or a list of them."""
    if isinstance(value, list):
        for item in value:
            name = _name(item)
            if name:
                return name
        return None
    if isinstance(value, dict):
        for key in ("name", "alternateName", "legalName", "headline"):
            name = _name(value.get(key))
            if name:
                return name
        return _string(value.get("@value"))
    text = _string(value)
    return (html_to_text(text) or None) if text else None


def _record(
    found: _Found, markup: str, where: str, page: _Page, graph: _Graph, problems: list[Problem]
) -> ReviewRecord | None:
    node = found.node
    body = next(filter(None, (_string(node.get(key)) for key in TEXT_PROPERTIES)), None)
    text = html_to_text(body) if body else ""
    title = _name(node.get("name")) or _name(node.get("headline"))
    if title and title == text:
        title = None  # some sites repeat the body as the name; it is not a headline
    if not text and title:
        text, title = title, None  # a review that is only a headline ("Never again!") still says something
    if not text:
        problems.append(Problem(NO_TEXT, f"{where}: no reviewBody or description (nor a headline); skipped"))
        return None

    author = _name(graph.resolve(node.get("author")))
    published_raw = next(filter(None, (_string(node.get(key)) for key in DATE_PROPERTIES)), None)
    published_at = parse_datetime(published_raw)
    if published_raw and published_at is None:
        problems.append(Problem(BAD_DATE, f"{where}: unreadable date {published_raw!r}; kept without a date"))
    rating, rating_max = _rating(graph.resolve(node.get("reviewRating")), where, problems)
    lang = _language(node.get("inLanguage")) or page.lang
    node_id = node.get("@id")
    items = [
        graph.resolve(node.get("itemReviewed")),
        found.parent,
        graph.reviewed_by_ref.get(node_id) if isinstance(node_id, str) else None,
    ]
    item_reviewed = next((name for name in map(_name, items) if name), None)
    item_rating = next((rating for rating in (_item_rating(i, graph, where, problems) for i in items) if rating), None)

    own_url = _own_url(node, page.url)
    fingerprint_key, fingerprint_url = _fingerprint_address(item_reviewed, author, published_at, text, page)
    url = own_url or fingerprint_url
    key = own_url or _global_id(node) or fingerprint_key
    return ReviewRecord(
        url=url,
        key=key,
        page_url=page.url,
        canonical_url=own_url or page.canonical,
        text=text,
        author=author,
        published_at=published_at,
        title=title,
        rating=rating,
        rating_max=rating_max,
        lang=lang,
        item_reviewed=item_reviewed,
        item_rating=item_rating,
        markup=markup,
    )


def _rating(node: Any, where: str, problems: list[Problem]) -> tuple[float | None, float | None]:
    if node is None or node == "":
        return None, None
    fields = node if isinstance(node, dict) else {"ratingValue": node}
    try:
        value = parse_number(_first(fields.get("ratingValue")))
        if value is None:
            return None, None
        best = parse_number(_first(fields.get("bestRating")))
        worst = parse_number(_first(fields.get("worstRating")))
        return scale_rating(value, best, worst)
    except ValueProblem as exc:
        problems.append(Problem(BAD_RATING, f"{where}: {exc}; kept without a rating"))
        return None, None


def _item_rating(item: Any, graph: _Graph, where: str, problems: list[Problem]) -> ItemRating | None:
    """An item's AggregateRating on the review's own scale rules, with its review (or rating) count."""
    if not isinstance(item, dict):
        return None
    aggregate = graph.resolve(item.get("aggregateRating"))
    if not isinstance(aggregate, dict):
        return None
    value, best = _rating(aggregate, f"{where}, aggregate rating", problems)
    if value is None or best is None:
        return None
    try:
        count = parse_number(_first(aggregate.get("reviewCount")) or _first(aggregate.get("ratingCount")))
    except ValueProblem:
        count = None  # the average is still worth having without its count
    return ItemRating(value=value, max=best, count=int(count) if count is not None and count >= 0 else None)


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return next((item for item in value if item not in (None, "")), None)
    if isinstance(value, dict):
        return value.get("@value")
    return value


def _language(value: Any) -> str | None:
    if isinstance(value, list):
        value = _first(value)
    if isinstance(value, dict):
        return primary_language(_string(value.get("alternateName"))) or primary_language(_string(value.get("name")))
    return primary_language(_string(value))


def _own_url(node: dict[str, Any], page_url: str) -> str | None:
    """The review's own address (`url`), made absolute (unless other reviews share it: `_distinct_keys`)."""
    url = _string(node.get("url"))
    if url and not url.startswith(("javascript:", "mailto:", "data:")):
        return urljoin(page_url, url)
    return None


def _global_id(node: dict[str, Any]) -> str | None:
    """An @id that names the review globally (an absolute URL): a stable identity, though not always a page.

    Fragment @ids ("#r1") and blank nodes ("_:b0") only name the node inside this one document.
    """
    node_id = _string(node.get("@id"))
    return node_id if node_id and node_id.startswith(("http://", "https://")) else None


def _fingerprint_address(
    item: str | None, author: str | None, published_at: datetime | None, text: str, page: _Page
) -> tuple[str, str]:
    """(key, url) of a review without an address of its own, from a hash of its item, author, day and text.

    The key leaves the page URL out: a review that moves from page 1 to page 2 of a listing stays one mention.
    """
    parts = urlsplit(page.url)
    day = published_at.date().isoformat() if published_at else ""
    material = "\x1f".join(((item or parts.path).casefold(), (author or "").casefold(), day, text))
    fingerprint = hashlib.sha256(material.encode("utf-8")).hexdigest()[:12]
    return f"{parts.scheme}://{parts.netloc}/#review-{fingerprint}", f"{page.url}#review-{fingerprint}"


def _words(text: str | None) -> str:
    """Text compared for sameness: casefolded words only (markups differ in spaces, entities, punctuation)."""
    return " ".join(re.findall(r"\w+", (text or "").casefold()))


@dataclass
class _Kept:
    record: ReviewRecord
    copy: str
    matched_in: set[str] = field(default_factory=set)  # the other copies where its duplicate was already found


class _Copies:
    """Reviews kept so far, to tell the same review in another markup (JSON-LD and microdata) from a new one.

    Only copies are compared: two identical "Great!" reviews by "Anonymous" in one list are two reviews,
    so a kept review stands for at most one duplicate in each other copy of the page. A duplicate has the
    same words; its author and date agree where both state one, the dates within two days (a visible date
    is the local day, midnight UTC here, while a timestamp with an offset may fall on the next UTC day).
    """

    def __init__(self) -> None:
        self.by_words: dict[str, list[_Kept]] = {}

    def seen_in_another_copy(self, record: ReviewRecord, copy: str) -> bool:
        candidates = self.by_words.setdefault(_words(record.text), [])
        for kept in candidates:
            if kept.copy != copy and copy not in kept.matched_in and _compatible(kept.record, record):
                kept.matched_in.add(copy)
                return True
        candidates.append(_Kept(record, copy))
        return False


def _compatible(first: ReviewRecord, second: ReviewRecord) -> bool:
    if first.author and second.author and _words(first.author) != _words(second.author):
        return False
    if first.published_at and second.published_at:
        return abs(first.published_at - second.published_at) < timedelta(days=2)
    return True


def _distinct_keys(reviews: list[ReviewRecord], page: _Page) -> list[ReviewRecord]:
    """Every review of the page with its own key, or the pipeline would drop all but one as duplicates.

    A `url` or `@id` shared by several reviews names the page or the product, not a review: those reviews
    fall back to the fingerprint. Reviews identical in item, author, day and text (two "Great!" by
    "Anonymous" on one day) get `-2`, `-3`... in page order, which stays stable across re-crawls.
    """
    shared = {key for key, count in Counter(review.key for review in reviews).items() if count > 1}
    used: Counter[str] = Counter()
    distinct: list[ReviewRecord] = []
    for review in reviews:
        if review.key in shared:
            key, url = _fingerprint_address(review.item_reviewed, review.author, review.published_at, review.text, page)
            if review.key != key:
                came_from_url = review.url == review.key  # else from the @id, and the url is already the fallback
                fallback = {"url": url, "canonical_url": page.canonical} if came_from_url else {}
                review = review.model_copy(update={"key": key, **fallback})
        used[review.key] += 1
        if used[review.key] > 1:
            suffix = f"-{used[review.key]}"
            review = review.model_copy(update={"key": review.key + suffix, "url": review.url + suffix})
        distinct.append(review)
    return distinct
