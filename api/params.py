"""Query parameters shared by several routers."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from indexer.buckets import InvalidBuckets
from indexer.queries import SortName
from indexer.search_text import MAX_QUERY_LENGTH

YEARS = range(1970, 2200)
MAX_OFFSET = timedelta(hours=18)  # what ISO 8601 parsers of the engines accept


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("give a time zone offset, e.g. 2026-11-01T00:00:00+02:00 or ...Z")
    if abs(offset) > MAX_OFFSET:
        raise ValueError("a time zone offset must be within ±18:00")
    if value.year not in YEARS:  # checked on the year: comparing far-off times across offsets can overflow
        raise ValueError("give a time between 1970 and 2199")
    return value


# A time whose offset's `+` was sent unencoded: a query string reads `+` as a space (issue 15.9).
_SPACED_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$")
PLUS_HINT = "a '+' in a query string is read as a space: send the offset's + as %2B, or give the time in UTC with Z"


def _plus_restored(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A space where the offset's sign stands is taken as the `+` it was (no other sign becomes a space);
    any other time that does not parse and holds a space gets the hint in its error."""
    if isinstance(value, str) and (spaced := _SPACED_OFFSET.match(value)):
        value = f"{spaced[1]}+{spaced[2]}"
    try:
        return handler(value)
    except ValidationError as exc:
        if isinstance(value, str) and " " in value:
            raise ValueError(f"{exc.errors()[0]['msg']}; {PLUS_HINT}") from None
        raise


AwareDatetime = Annotated[datetime | None, WrapValidator(_plus_restored), AfterValidator(_aware)]
FromParam = Annotated[AwareDatetime, Query(alias="from", description="Published at or after (ISO 8601 with offset)")]
ToParam = Annotated[AwareDatetime, Query(description="Published before (ISO 8601 with offset); default now")]


def period(start: datetime | None, end: datetime | None, default_span: timedelta) -> tuple[datetime, datetime]:
    """The [from, to) window of a request: `to` defaults to now, `from` to `to` minus the default span."""
    end = end or datetime.now(UTC)
    start = start or end - default_span
    if start >= end:
        raise InvalidBuckets("from", "parameter 'from' must be earlier than 'to'")
    return start, end


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType, Annotated):
        return any(_is_list(arg) for arg in get_args(annotation))
    return origin in (list, set, tuple, frozenset)


def _query_fields(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    """(name in the URL, type) of each query parameter, those of a query model (e.g. SearchQuery) one by one."""
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            yield from ((info.alias or name, info.annotation) for name, info in model.model_fields.items())
        else:
            yield field.alias, field.field_info.annotation
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _query_parameters(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters `route` takes (by the name a URL uses), and those of them that may repeat."""
    cached: tuple[frozenset[str], frozenset[str]] | None = getattr(route, "_kaiku_query_parameters", None)
    if cached is None:  # kept on the route (routes are not hashable), computed on its first request
        fields = list(_query_fields(route.dependant))
        names = frozenset(name for name, _ in fields)
        cached = names, frozenset(name for name, annotation in fields if _is_list(annotation))
        setattr(route, "_kaiku_query_parameters", cached)  # noqa: B010 - a foreign object, on purpose
    return cached


async def reject_unknown_query_parameters(request: Request) -> None:  # async: no thread-pool hop, no I/O
    """422 naming each query parameter the route does not take, or that it takes once but was given more often.

    A mistyped filter (`brnad=...`, `intervall=day`) silently ignored would return other data than asked for, and
    of `brand=a&brand=b` only the last would count; both are refused instead (issue 15.3).
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known, repeatable = _query_parameters(route)
    errors = []
    for name in dict.fromkeys(request.query_params.keys()):
        if name not in known:
            takes = ", ".join(sorted(known)) or "none"
            errors.append({"loc": ("query", name), "type": "extra_forbidden",
                           "msg": f"unknown parameter (this route takes: {takes})"})  # fmt: skip
        elif name not in repeatable and len(request.query_params.getlist(name)) > 1:
            errors.append({"loc": ("query", name), "type": "value_error", "msg": "given more than once; give it once"})
    if errors:
        raise RequestValidationError(errors)


class PeriodQuery(BaseModel):
    """`from` and `to` of a request: the mentions published in [from, to)."""

    from_: AwareDatetime = Field(default=None, alias="from", description="Published at or after (ISO 8601 with offset)")
    to: AwareDatetime = Field(default=None, description="Published before (ISO 8601 with offset); default now")


Lang = Annotated[str | None, Field(description="ISO 639-1 code", pattern=r"^[a-z]{2,3}$")]
SourceId = Annotated[str | None, Field(examples=["reviews"], max_length=100)]


class MentionQuery(PeriodQuery):
    """The mention filters every route that lists mentions takes (api/routers/mentions.py)."""

    brand: str | None = Field(default=None, description="Brand id (one of your team's)", examples=["revontuli"])
    q: str | None = Field(
        default=None,
        description=(
            'Full text in the brand-query syntax: words (all must match), "phrases", AND/OR/NOT, -excluded, prefix*, '
            "a NEAR/3 b; text that is not a valid query is searched as its plain words. Bounded (docs/api.md, Query "
            "cost): 20 words, 3 prefix terms, 3 letters before '*', parentheses 3 deep; each prefix term costs 4 "
            "more requests of the rate budget"
        ),
        max_length=MAX_QUERY_LENGTH,
        examples=["huone likainen"],
    )
    experience: Literal["anger", "comfort", "delight"] | None = None
    source: SourceId = None
    lang: Lang = None


class SearchQuery(MentionQuery):
    """GET /v1/mentions: the filters, and how to sort and page the matches."""

    sort: SortName = Field(
        default="newest", description="newest | oldest | angriest | most_delighted | relevance (best match to q)"
    )
    highlight: bool = Field(default=False, description="Add `highlight`: escaped HTML fragments, matches in <em>")
    limit: int = Field(default=20, ge=1, le=200)
    cursor: str | None = Field(default=None, description="`next` from the previous page", max_length=2000)


class ExportQuery(MentionQuery):
    """GET /v1/mentions/export: the filters, and the file's format."""

    format: Literal["csv", "ndjson"] = Field(description="csv (flat columns) or ndjson (whole documents)")
    bom: bool = Field(
        default=False, description="csv: begin with a UTF-8 byte-order mark, so that Excel reads the file as UTF-8"
    )


class OutlierQuery(PeriodQuery):
    """GET /v1/brands/{brand}/outliers."""

    rank: Literal["intensity", "engagement"] = "intensity"
    experience: Literal["anger", "delight"] | None = Field(default=None, description="One class; default both")
    lang: Lang = None
    source: SourceId = None
    limit: int = Field(default=10, ge=1, le=100)
