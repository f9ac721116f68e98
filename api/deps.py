"""Annotated dependencies shared by the routers: state, engine, the caller's key and what it may see."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from elasticsearch import Elasticsearch
from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from api.ratelimit import retry_after_header
from api.state import AppState
from kaiku.config import Brand

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer kaiku_<id>_<secret>`")


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.kaiku
    return state


def get_client(state: Annotated[AppState, Depends(get_state)]) -> Elasticsearch:
    return state.client


def get_alias(state: Annotated[AppState, Depends(get_state)]) -> str:
    return state.settings.index_alias


StateDep = Annotated[AppState, Depends(get_state)]
ClientDep = Annotated[Elasticsearch, Depends(get_client)]
AliasDep = Annotated[str, Depends(get_alias)]


from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
