"""Health for probes: /livez (the process answers), /readyz and /healthz (the mention store is reachable).

The API scores nothing, so it holds no sentiment model and its readiness does not wait for one. The answers say
ok or not and nothing else: these routes need no key, so the store's address and the client library's errors go
to the log, never into the body.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.problems import responses
from api.schemas import HealthStatus
from indexer import IndexerError

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


@router.get(
    "/livez", response_model=HealthStatus, summary="The API process answers (liveness)", responses=responses(422)
)
def livez() -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _ready(state: StateDep) -> JSONResponse:
    healthy = True
    try:
        state.store.describe()
    except IndexerError as exc:
        logger.warning("not ready: search store unreachable: %s", exc)
        healthy = False
    return JSONResponse({"status": "ok" if healthy else "unavailable"}, status_code=200 if healthy else 503)


@router.get(
    "/readyz",
    response_model=HealthStatus,
    summary="Search store reachable (readiness)",
    responses=responses(422, 503),
)
def readyz(state: StateDep) -> JSONResponse:
    return _ready(state)


@router.get(
    "/healthz",
    response_model=HealthStatus,
    summary="Same as /readyz (kept for existing probes)",
    responses=responses(422, 503),
)
def healthz(state: StateDep) -> JSONResponse:
    return _ready(state)
