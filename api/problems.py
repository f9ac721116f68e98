"""Errors as RFC 9457 problem+json; domain errors are mapped to HTTP here, once."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.config import ConfigError, without_source_tags
from indexer import EngineUnavailable, IndexerError
from indexer.buckets import InvalidBuckets
from indexer.queries import IndexMissing, InvalidCursor
from indexer.search_text import QueryTooCostly
from kaiku.cases import CaseExists, CaseNotFound, InvalidTransition, NotAnOutlier, UnknownIncident
from kaiku.db import DatabaseError
from kaiku.teams import TeamError, TeamExists, TeamNotFound

PROBLEM_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)


class ProblemParameter(BaseModel):
    parameter: str
    in_: str | None = Field(default=None, alias="in")
    msg: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names each offending parameter."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemParameter] | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"type": "about:blank", "title": "Invalid request parameters", "status": 422,
                 "detail": "invalid value for: interval",
                 "errors": [{"parameter": "interval", "in": "query", "msg": "Input should be 'hour', 'day', ..."}]}
            ]
        }
    }  # fmt: skip


def _problem_response(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {PROBLEM_TYPE: {}}}


_DESCRIPTIONS = {
    400: "Invalid cursor (`errors[].parameter` is `cursor`)",
    401: "Missing or invalid API key (with `WWW-Authenticate: Bearer`)",
    403: "Admin route: a team's key is refused, only the admin key (`KAIKU_ADMIN_KEY`) may use it",
    404: "Unknown resource, or a brand of another team",
    409: "Conflict: the id is in use (ids are shared by all teams), or the change is not allowed in this state",
    413: "Request body larger than `KAIKU_MAX_REQUEST_BYTES`",
    422: "Invalid, unknown or repeated parameters; `errors[].parameter` names each",
    429: "Rate limit of the key or team, searches in flight, or failed logins exceeded; see `Retry-After`",
    502: "The search engine answered with an error",
    503: "Search engine or database unreachable, or nothing indexed yet",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, as problem+json (tests/api/test_conventions.py checks them
    against what the routes answer)."""
    return {status: _problem_response(_DESCRIPTIONS[status]) for status in statuses}


# Documented on every /v1 router: what any route can answer besides its success. Routes add their own.
COMMON_RESPONSES = responses(401, 404, 422, 429, 503)
ENGINE_RESPONSES = responses(502)  # routes that query the search engine
BODY_RESPONSES = responses(413)  # routes that read a body
# On the routes only the admin key (KAIKU_ADMIN_KEY) may use: teams, keys, sources, config import, jobs.
ADMIN_ONLY_RESPONSES = responses(403)


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def _parameter(location: list[str]) -> str:
    """The name of what is wrong: a query/path/header parameter's name, or a body field's dotted path
    (`competitors.2`, `recipients`), as configuration errors name fields."""
    if location[0] == "body":
        return ".".join(location[1:]) or "body"
    return location[1] if len(location) > 1 else location[0]


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        location = [str(part) for part in without_source_tags(error["loc"])] or [""]
        errors.append({"parameter": _parameter(location), "in": location[0], "msg": error["msg"]})
    names = ", ".join(e["parameter"] for e in errors)
    return problem(422, "Invalid request parameters", f"invalid value for: {names}", errors=errors)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # Headers carry WWW-Authenticate (401) and Retry-After (429).
    title = str(exc.detail) if exc.status_code < 500 else "Error"
    return problem(exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None))


def _invalid_buckets(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidBuckets)
    return problem(422, "Invalid request parameters", str(exc), errors=[{"parameter": exc.parameter, "in": "query"}])


def _query_too_costly(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QueryTooCostly)
    errors = [{"parameter": "q", "in": "query", "msg": str(exc)}]
    return problem(422, "Search text too costly", str(exc), errors=errors, limit=exc.limit)


def _team_not_found(request: Request, exc: Exception) -> JSONResponse:
    return problem(404, "Not found", str(exc))


def _team_error(request: Request, exc: Exception) -> JSONResponse:
    return problem(409 if isinstance(exc, TeamExists) else 422, "Team or key not changed", str(exc))


def _invalid_cursor(request: Request, exc: Exception) -> JSONResponse:
    return problem(400, "Invalid cursor", str(exc), errors=[{"parameter": "cursor", "in": "query"}])


# Store and database failures carry addresses and the client library's error chain: those go to the log, and
# the caller learns only which part is unavailable.
def _engine_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("%s %s: search store unavailable: %s", request.method, request.url.path, exc)
    return problem(503, "Search store unavailable", "search store unavailable")


def _index_missing(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("%s %s: %s", request.method, request.url.path, exc)
    return problem(503, "No mentions indexed yet", "no mentions indexed yet: run `kaiku index init` or a crawl first")


def _indexer_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s: search store error: %s", request.method, request.url.path, exc)
    return problem(502, "Search store error", "the search store could not answer this request")


def _case_not_found(request: Request, exc: Exception) -> JSONResponse:
    return problem(404, "Case not found", str(exc))


def _case_conflict(request: Request, exc: Exception) -> JSONResponse:
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidTransition):
        extra = {"current": exc.current, "allowed": list(exc.allowed)}
    elif isinstance(exc, CaseExists):
        extra = {"case_id": exc.case_id}
    return problem(409, "Conflict", str(exc), **extra)


def _not_an_outlier(request: Request, exc: Exception) -> JSONResponse:
    return problem(422, "Not an anger outlier", str(exc), errors=[{"parameter": "mention_id", "in": "body"}])


def _unknown_incident(request: Request, exc: Exception) -> JSONResponse:
    return problem(422, "Unknown incident", str(exc), errors=[{"parameter": "incident_id", "in": "body"}])


def _database_error(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    return problem(503, "Database unavailable", "database unavailable")


def _config_error(request: Request, exc: Exception) -> JSONResponse:
    # The message names the file, the field and the problem, as for a hand-edited file; nothing was written.
    return problem(422, "Invalid configuration", str(exc))


def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback by the server; the caller learns nothing of the failure's details.
    return problem(500, "Internal server error", "the request failed on the server; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unhandled)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    # Order matters only for documentation: Starlette picks the most specific class.
    app.add_exception_handler(InvalidCursor, _invalid_cursor)
    app.add_exception_handler(EngineUnavailable, _engine_unavailable)
    app.add_exception_handler(IndexMissing, _index_missing)
    app.add_exception_handler(IndexerError, _indexer_error)
    app.add_exception_handler(CaseNotFound, _case_not_found)
    app.add_exception_handler(CaseExists, _case_conflict)
    app.add_exception_handler(InvalidTransition, _case_conflict)
    app.add_exception_handler(NotAnOutlier, _not_an_outlier)
    app.add_exception_handler(UnknownIncident, _unknown_incident)
    app.add_exception_handler(DatabaseError, _database_error)
    app.add_exception_handler(InvalidBuckets, _invalid_buckets)
    app.add_exception_handler(QueryTooCostly, _query_too_costly)
    app.add_exception_handler(TeamNotFound, _team_not_found)
    app.add_exception_handler(TeamError, _team_error)
    app.add_exception_handler(ConfigError, _config_error)
