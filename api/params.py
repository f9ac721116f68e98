"""Query parameters shared by several routers."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AfterValidator, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from indexer.buckets import InvalidBuckets

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


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _query_parameters(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters `route` takes (by the name a URL uses), and those of them that may repeat."""
    cached: tuple[frozenset[str], frozenset[str]] | None = getattr(route, "_kaiku_query_parameters", None)
    if cached is None:  # kept on the route (routes are not hashable), computed on its first request
        fields = list(_query_fields(route.dependant))
        names = frozenset(field.alias for field in fields)
        cached = names, frozenset(field.alias for field in fields if _is_list(field.field_info.annotation))
        setattr(route, "_kaiku_query_parameters", cached)  # noqa: B010 - a foreign object, on purpose
    return cached


def reject_unknown_query_parameters(request: Request) -> None:
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
