"""Errors as RFC 9457 problem+json; domain errors are mapped to HTTP here, once."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer import EngineUnavailable, IndexerError
from indexer.queries import InvalidCursor
from kaiku.cases import CaseExists, CaseNotFound, InvalidTransition, NotAnOutlier, UnknownIncident
from kaiku.db import DatabaseError

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        errors.append({"parameter": location[-1] if location else "", "in": location[0], "msg": error["msg"]})
    names = ", ".join(e["parameter"] for e in errors)
    return problem(422, "Invalid request parameters", f"invalid value for: {names}", errors=errors)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail) if exc.status_code < 500 else "Error", str(exc.detail))


def _invalid_cursor(request: Request, exc: Exception) -> JSONResponse:
    return problem(400, "Invalid cursor", str(exc), errors=[{"parameter": "cursor", "in": "query"}])


def _engine_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return problem(503, "Search engine unavailable", str(exc))


def _indexer_error(request: Request, exc: Exception) -> JSONResponse:
    return problem(502, "Search engine error", str(exc))


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
    return problem(503, "Database unavailable", str(exc))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    # Order matters only for documentation: Starlette picks the most specific class.
    app.add_exception_handler(InvalidCursor, _invalid_cursor)
    app.add_exception_handler(EngineUnavailable, _engine_unavailable)
    app.add_exception_handler(IndexerError, _indexer_error)
    app.add_exception_handler(CaseNotFound, _case_not_found)
    app.add_exception_handler(CaseExists, _case_conflict)
    app.add_exception_handler(InvalidTransition, _case_conflict)
    app.add_exception_handler(NotAnOutlier, _not_an_outlier)
    app.add_exception_handler(UnknownIncident, _unknown_incident)
    app.add_exception_handler(DatabaseError, _database_error)
