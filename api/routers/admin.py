"""/v1/admin: teams and their API keys; only the admin key (KAIKU_ADMIN_KEY) reaches these routes."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminDep, StateDep
from api.problems import ADMIN_ONLY_RESPONSES, BODY_RESPONSES, COMMON_RESPONSES, responses
from api.schemas import KeyInfo, KeyList, NewKey, Team, TeamList
from api.state import AppState
from core.config import MAX_ENTRIES, Id
from kaiku import teams
from kaiku.teams import TEAM_ID

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses={**COMMON_RESPONSES, **ADMIN_ONLY_RESPONSES})


class TeamCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "marketing", "name": "Marketing", "brands": ["revontuli"]}]},
    )

    id: str = Field(pattern=TEAM_ID.pattern)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    brands: list[Id] = Field(default_factory=list, max_length=MAX_ENTRIES, description="Brand ids (brands.yaml)")


class TeamChange(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"brands": ["revontuli", "tunturi"]}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    brands: list[Id] | None = Field(default=None, max_length=MAX_ENTRIES)


def _check_brands(state: AppState, brands: list[str] | None) -> None:
    if brands is None:
        return
    known = {b.id for b in state.config.brands}
    unknown = [b for b in brands if b not in known]
    if unknown:
        raise HTTPException(422, f"unknown brands {unknown} (known: {sorted(known)})")


def _team(team: teams.Team) -> Team:
    return Team(id=team.id, name=team.name, brands=list(team.brands), created_at=team.created_at)


@router.get("/teams", response_model=TeamList, summary="All teams")
def list_teams(_: AdminDep, state: StateDep) -> TeamList:
    data = [_team(t) for t in state.teams.teams()]
    return TeamList(data=data, count=len(data))


@router.post(
    "/teams",
    status_code=201,
    response_model=Team,
    summary="Create a team owning some brands",
    responses=responses(409, 413),
)
def create_team(body: TeamCreate, _: AdminDep, state: StateDep) -> Team:
    _check_brands(state, body.brands)
    return _team(state.teams.create_team(body.id, body.name, body.brands))


@router.get("/teams/{team}", response_model=Team, summary="One team")
def read_team(team: str, _: AdminDep, state: StateDep) -> Team:
    return _team(state.teams.team(team))


@router.patch(
    "/teams/{team}", response_model=Team, summary="Rename a team or replace its brands", responses=BODY_RESPONSES
)
def change_team(team: str, body: TeamChange, _: AdminDep, state: StateDep) -> Team:
    _check_brands(state, body.brands)
    return _team(state.teams.change_team(team, body.name, body.brands))


@router.delete("/teams/{team}", status_code=204, summary="Delete a team and its keys")
def delete_team(team: str, _: AdminDep, state: StateDep) -> Response:
    state.teams.delete_team(team)
    return Response(status_code=204)


@router.post(
    "/teams/{team}/keys",
    status_code=201,
    response_model=NewKey,
    summary="Create an API key; the key is shown only here, once",
)
def create_key(team: str, _: AdminDep, state: StateDep) -> NewKey:
    new = state.teams.create_key(team)
    return NewKey(**asdict(new.info), key=new.secret)


@router.get("/teams/{team}/keys", response_model=KeyList, summary="A team's keys (ids and dates; never the secrets)")
def list_keys(team: str, _: AdminDep, state: StateDep) -> KeyList:
    data = [KeyInfo(**asdict(k)) for k in state.teams.keys(team)]
    return KeyList(data=data, count=len(data))


@router.delete("/keys/{key_id}", response_model=KeyInfo, summary="Revoke a key")
def revoke_key(key_id: str, _: AdminDep, state: StateDep) -> KeyInfo:
    return KeyInfo(**asdict(state.teams.revoke_key(key_id)))
