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


def get_db(state: Annotated[AppState, Depends(get_state)]) -> Engine:
    if state.db is None:
        from kaiku.wiring import database

        state.db = database(state.settings)
    return state.db


DbDep = Annotated[Engine, Depends(get_db)]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the admin (sees everything) or a team's key (sees only the team's brands)."""

    key_id: str
    team: str | None
    brands: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.team is None

    def can_see(self, brand: str) -> bool:
        return self.is_admin or brand in self.brands


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def get_caller(
    state: StateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise _unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    presented = credentials.credentials
    admin_key = state.settings.admin_key
    if admin_key is not None and hmac.compare_digest(presented.encode(), admin_key.get_secret_value().encode()):
        caller = Caller(key_id="admin", team=None, brands=frozenset())
    else:
        key = state.teams.authenticate(presented)
        if key is None:
            raise _unauthorized("the API key is not valid")
        team = state.teams.team(key.team)
        caller = Caller(key_id=key.id, team=team.id, brands=frozenset(team.brands))
    wait = state.rate_limits.take(caller.key_id)
    if wait > 0:
        raise HTTPException(
            429, "rate limit exceeded for this API key", headers={"Retry-After": retry_after_header(wait)}
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_admin(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        # The admin routes are documented, so a 404 would hide nothing; 403 says what the key lacks.
        raise HTTPException(403, "admin key required: this route is for KAIKU_ADMIN_KEY, not a team's key")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


def visible_brand(
    brand: Annotated[str, Path(description="Brand id from configs/brands.yaml", examples=["revontuli"])],
    caller: CallerDep,
    state: StateDep,
) -> Brand:
    """The brand in the path, if it exists and the caller's team owns it; 404 otherwise (no existence leak)."""
    try:
        found = state.config.brand(brand)
    except KeyError:
        found = None
    if found is None or not caller.can_see(brand):
        raise HTTPException(404, f"no brand {brand!r}")
    return found


BrandDep = Annotated[Brand, Depends(visible_brand)]
