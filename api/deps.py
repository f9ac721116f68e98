"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from elasticsearch import Elasticsearch
from fastapi import Depends, Request
from sqlalchemy import Engine

from api.state import AppState


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
