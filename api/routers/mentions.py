"""/v1/mentions: search, fetch and export mentions of the caller's brands."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse

from api.deps import Caller, CallerDep, StateDep, StoreDep, charge, search_slot
from api.params import ExportQuery, MentionQuery, SearchQuery
from api.problems import COMMON_RESPONSES, ENGINE_RESPONSES, responses
from api.schemas import Mention, MentionList
from api.state import AppState
from indexer.queries import MentionFilters
from indexer.search_text import search_text_cost

router = APIRouter(prefix="/v1/mentions", tags=["mentions"], responses=COMMON_RESPONSES)

# Flat columns of the CSV export; nested objects are spread into dotted names.
CSV_COLUMNS = [
    "id", "brand", "source", "url", "canonical_url", "author", "author_followers", "title", "text", "lang",
    "published_at", "crawled_at", "rating", "rating_max", "polarity.negative", "polarity.neutral",
    "polarity.positive", "experience", "experience_reason", "model.id", "model.version", "engagement.likes",
    "engagement.replies", "engagement.shares", "query_id", "near_duplicate_of", "brands_matched",
]  # fmt: skip


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
T = TypeVar("T")
UTF8_BOM = "\ufeff"  # Excel opens a CSV file in the local code page unless it starts with this


def _filters(caller: Caller, state: AppState, query: MentionQuery) -> MentionFilters:
    """The query's filters limited to what the caller may see: another team's brand is a 404, as an unknown one is."""
    if query.brand is not None:
        known = {b.id for b in state.config.brands}
        if query.brand not in known or not caller.can_see(query.brand):
            raise HTTPException(404, f"no brand {query.brand!r}")
    if query.from_ and query.to and query.from_ >= query.to:
        raise HTTPException(422, "parameter 'from' must be earlier than 'to'")
    if query.q:
        # A costly text is refused (422 naming the limit); what it may still expand is charged to the budget.
        charge(state, caller, search_text_cost(query.q).request_cost - 1)
    brands = None if caller.is_admin else tuple(sorted(caller.brands))
    return MentionFilters(
        brand=query.brand, brands=brands, q=query.q, experience=query.experience, source=query.source,
        lang=query.lang, start=query.from_, end=query.to,
    )  # fmt: skip


@router.get(
    "",
    response_model=MentionList,
    response_model_exclude_unset=True,
    summary="Search mentions",
    responses=responses(400, 502),
)
def list_mentions(
    query: Annotated[SearchQuery, Query()], store: StoreDep, caller: CallerDep, state: StateDep
) -> MentionList | Response:
    filters = _filters(caller, state, query)
    with search_slot(state, caller, query.q):
        page = store.search(
            filters,
            size=query.limit,
            cursor=query.cursor,
            sort=query.sort,
            highlight=query.highlight and bool(query.q),
            as_json=True,
        )
    if page.data_json is not None:
        # The store's JSON text of each document is what MentionList would dump (tests/api/test_embedded_store_api.py
        # checks): sent as it is, an export page of 200 costs a quarter less than validated and dumped again.
        rest = json.dumps(
            {"count": page.count, "count_exact": page.count_exact, "next": page.next}, separators=(",", ":")
        )
        return Response(f'{{"data":{page.data_json},{rest[1:]}', media_type="application/json")
    return MentionList.model_validate(
        {"data": page.data, "count": page.count, "count_exact": page.count_exact, "next": page.next}
    )


def _flat(mention: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in CSV_COLUMNS:
        value: Any = mention
        for part in column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, list):
            value = "|".join(value)
        if isinstance(value, str) and value[:1] in FORMULA_STARTS:
            # Public texts are untrusted: a cell starting like a formula would run in a spreadsheet (CSV injection).
            value = "'" + value
        row[column] = value
    return row


def _csv_lines(mentions: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for mention in mentions:
        writer.writerow(_flat(mention))
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _ndjson_lines(mentions: Iterator[dict[str, Any]]) -> Iterator[str]:
    # In chunks of ~64 KB, as the CSV: each chunk of a synchronous stream costs a hop to the thread pool, and one
    # per line made a 1,000-line export cost about 1 s of CPU (bench/api_latency.py, docs/api.md).
    lines: list[str] = []
    size = 0
    for mention in mentions:
        lines.append(json.dumps(mention, ensure_ascii=False) + "\n")
        size += len(lines[-1])
        if size > 64_000:
            yield "".join(lines)
            lines, size = [], 0
    yield "".join(lines)


@router.get(
    "/export",
    summary="Every matching mention as CSV or NDJSON, streamed (newest first)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}, **ENGINE_RESPONSES},
)
def export(
    query: Annotated[ExportQuery, Query()], store: StoreDep, caller: CallerDep, state: StateDep
) -> StreamingResponse:
    if query.bom and query.format != "csv":
        raise RequestValidationError([{"loc": ("query", "bom"), "type": "value_error", "msg": "only for format=csv"}])
    filters = _filters(caller, state, query)
    mentions = store.export(filters)
    # Fetch the first page before answering, so an engine failure is still a problem+json and not a cut stream.
    with search_slot(state, caller, query.q):
        first = next(mentions, None)
    rest: Iterator[dict[str, Any]] = iter(()) if first is None else _chain(first, mentions)
    if query.format == "csv":
        headers = {"Content-Disposition": 'attachment; filename="mentions.csv"'}
        lines = _csv_lines(rest)
        return StreamingResponse(_chain(UTF8_BOM, lines) if query.bom else lines, media_type="text/csv; charset=utf-8",
                                 headers=headers)  # fmt: skip
    return StreamingResponse(_ndjson_lines(rest), media_type="application/x-ndjson")


def _chain(first: T, rest: Iterator[T]) -> Iterator[T]:
    yield first
    yield from rest


@router.get(
    "/{mention_id}",
    response_model=Mention,
    response_model_exclude_unset=True,
    summary="One mention by id",
    responses=ENGINE_RESPONSES,
)
def read_mention(mention_id: str, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    mention = store.get(mention_id)
    if mention is None or not caller.can_see(mention["brand"]):
        raise HTTPException(404, f"no mention with id {mention_id!r}")
    return mention
