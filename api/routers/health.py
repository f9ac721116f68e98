"""/healthz: is the engine reachable and the model loaded."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from indexer import IndexerError

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Engine reachable and model loaded")
def healthz(state: StateDep) -> JSONResponse:
    try:
        about = state.store.describe()
        engine = {"ok": True, "kind": about["kind"], "version": about.get("version")}
    except IndexerError as exc:
        engine = {"ok": False, "error": str(exc)}
    if state.classifier is not None:
        model = {"ok": True, "id": state.classifier.model_id, "version": state.classifier.model_version}
    else:
        model = {"ok": False, "error": state.model_error or "not loaded"}
    healthy = engine["ok"] and model["ok"]
    body = {"status": "ok" if healthy else "unavailable", "engine": engine, "model": model}
    return JSONResponse(body, status_code=200 if healthy else 503)
