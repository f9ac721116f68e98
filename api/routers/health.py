"""/healthz: is the engine reachable and the model loaded."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.problems import responses
from indexer import IndexerError
from indexer.client import engine_info

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Engine reachable and model loaded", responses=responses(422, 503))
def healthz(state: StateDep) -> JSONResponse:
    try:
        info = engine_info(state.client)
        engine = {"ok": True, "version": info.get("version", {}).get("number")}
    except IndexerError as exc:
        engine = {"ok": False, "error": str(exc)}
    if state.classifier is not None:
        model = {"ok": True, "id": state.classifier.model_id, "version": state.classifier.model_version}
    else:
        model = {"ok": False, "error": state.model_error or "not loaded"}
    healthy = engine["ok"] and model["ok"]
    body = {"status": "ok" if healthy else "unavailable", "engine": engine, "model": model}
    return JSONResponse(body, status_code=200 if healthy else 503)
