"""Annotated dependencies shared by the routers: state, engine, the caller's key and what it may see."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from api.ratelimit import retry_after_header
from api.state import AppState
from core.config import Brand
from indexer.search_text import search_text_cost
from indexer.store import MentionStore

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer kaiku_<id>_<secret>`")


# Dependencies that only read memory are `async def`: FastAPI runs them in the event loop, where a plain `def`
# would cost each request a hop to the thread pool and back. Those that wait on a database stay plain `def`.
async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.kaiku
    return state


async def get_store(state: Annotated[AppState, Depends(get_state)]) -> MentionStore:
    return state.store


StateDep = Annotated[AppState, Depends(get_state)]
StoreDep = Annotated[MentionStore, Depends(get_store)]


def get_db(state: Annotated[AppState, Depends(get_state)]) -> Engine:
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


def client_address(request: Request) -> str:
    """The address failed logins are counted against (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client is not None else "unknown"


OVER_BUDGET = "rate limit exceeded for this API key or its team"


def _too_many(detail: str, wait: float) -> HTTPException:
    return HTTPException(429, detail, headers={"Retry-After": retry_after_header(wait)})


def _refuse_if_blocked(state: AppState, address: str) -> None:
    # An address that failed too often is refused before its key is checked: guessing keys gets nowhere.
    blocked = state.rate_limits.auth_blocked(address)
    if blocked > 0:
        raise _too_many("too many failed authentications from this address", blocked)


def _authenticate(state: AppState, presented: str) -> Caller | None:
    admin_key = state.settings.admin_key
    if admin_key is not None and hmac.compare_digest(presented.encode(), admin_key.get_secret_value().encode()):
        return Caller(key_id="admin", team=None, brands=frozenset())
    found = state.teams.key_and_team(presented)
    if found is None:
        return None
    key, team = found
    return Caller(key_id=key.id, team=team.id, brands=frozenset(team.brands))


def get_caller(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    address = client_address(request)
    _refuse_if_blocked(state, address)
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        state.rate_limits.auth_failed(address)
        raise _unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    refusals = state.rate_limits.recent_refusals
    wait = refusals.wait(credentials.credentials)
    if wait > 0:
        raise _too_many(OVER_BUDGET, wait)
    caller = _authenticate(state, credentials.credentials)
    if caller is None:
        state.rate_limits.auth_failed(address)
        raise _unauthorized("the API key is not valid")
    wait = state.rate_limits.take(caller.key_id, caller.team)
    if wait > 0:
        refusals.remember(credentials.credentials, wait)
        raise _too_many(OVER_BUDGET, wait)
    return caller


def require_metrics_reader(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """/metrics lists sources, crawl totals and routes: only the metrics key or the admin key may read it."""
    address = client_address(request)
    _refuse_if_blocked(state, address)
    presented = credentials.credentials.encode() if credentials is not None else b""
    keys = (state.settings.metrics_key, state.settings.admin_key)
    allowed = [key.get_secret_value().encode() for key in keys if key is not None and key.get_secret_value()]
    if not presented or not any(hmac.compare_digest(presented, key) for key in allowed):
        state.rate_limits.auth_failed(address)
        raise _unauthorized("/metrics needs the metrics key or the admin key")


@contextmanager
def search_slot(state: AppState, caller: Caller, q: str | None) -> Iterator[None]:
    """Run a search in one of the caller's team's slots (api/ratelimit.py); 429 when none is free."""
    expanding = bool(q) and search_text_cost(q or "").expanding_terms > 0
    with state.rate_limits.search_slot(caller.team or caller.key_id, expanding) as refused:
        if refused is not None:
            raise _too_many(f"{refused}; retry shortly", 1.0)
        yield


def charge(state: AppState, caller: Caller, cost: int) -> None:
    """Charge a heavy request's extra cost to the caller's key and team (one token was spent on arrival)."""
    if cost <= 0:
        return
    wait = state.rate_limits.take(caller.key_id, caller.team, cost)
    if wait > 0:
        raise _too_many(f"rate limit exceeded: this request costs {cost + 1:g} requests of the budget", wait)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def require_admin(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        # The admin routes are documented, so a 404 would hide nothing; 403 says what the key lacks.
        raise HTTPException(403, "admin key required: this route is for KAIKU_ADMIN_KEY, not a team's key")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


async def visible_brand(
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
