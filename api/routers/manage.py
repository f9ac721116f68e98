"""Management: brands, sources and alert rules listed, created, changed and deleted; configs/ YAML imported.

Changes go through `kaiku.config_store` (validated exactly like the YAML files, then written to them). A team
manages its own brands and their alert rules; a brand it creates becomes its own. Sources serve every brand,
so only the admin changes them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Response

from api.deps import AdminDep, BrandDep, Caller, CallerDep, StateDep
from api.problems import ADMIN_ONLY_RESPONSES, COMMON_RESPONSES
from api.state import AppState
from kaiku.config import AlertRule, Brand, KaikuConfig, Source

router = APIRouter(tags=["management"], responses=COMMON_RESPONSES)

BRAND_EXAMPLE = {"id": "merituuli", "name": "Merituuli Spa", "aliases": ["Kylpylä Merituuli"],
                 "competitors": ["revontuli"], "industry": "hospitality"}  # fmt: skip
SOURCE_EXAMPLE = {"id": "tripreviews", "spider": "reviews", "start_urls": ["https://reviews.example/hotels/"],
                  "max_pages": 100, "schedule": "6h", "brands": []}  # fmt: skip
ALERT_EXAMPLE = {"id": "revontuli-delight", "brand": "revontuli", "experience": "delight", "window": "1d",
                 "min_count": 3, "recipients": ["marketing@revontuli.example"]}  # fmt: skip


def _save(state: AppState, **changes: Any) -> KaikuConfig:
    new = state.config.model_copy(update=changes)
    state.config = state.config_store.save(new)
    return state.config


def _dump(items: list[Any]) -> dict[str, Any]:
    data = [item.model_dump(mode="json") for item in items]
    return {"data": data, "count": len(data), "next": None}


# Brands (GET /v1/brands lives in routers/brands.py with the analytics)
@router.get("/v1/brands/{brand}", summary="One brand's configuration")
def read_brand(brand: BrandDep) -> dict[str, Any]:
    return brand.model_dump(mode="json")


@router.post("/v1/brands", status_code=201, summary="Create a brand (the caller's team owns it)")
def create_brand(body: Annotated[Brand, Body(examples=[BRAND_EXAMPLE])], caller: CallerDep, state: StateDep) -> dict:
    if any(b.id == body.id for b in state.config.brands):
        raise HTTPException(409, f"brand {body.id!r} exists already")
    _save(state, brands=[*state.config.brands, body])
    if not caller.is_admin and caller.team:
        team = state.teams.team(caller.team)
        state.teams.change_team(team.id, brands=[*team.brands, body.id])
    return body.model_dump(mode="json")


@router.put("/v1/brands/{brand}", summary="Replace a brand's configuration (query terms, competitive set, ...)")
def change_brand(brand: BrandDep, body: Annotated[Brand, Body(examples=[BRAND_EXAMPLE])], state: StateDep) -> dict:
    if body.id != brand.id:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the path's {brand.id!r}")
    _save(state, brands=[body if b.id == brand.id else b for b in state.config.brands])
    return body.model_dump(mode="json")


@router.delete("/v1/brands/{brand}", status_code=204, summary="Delete a brand (refused while referenced)")
def delete_brand(brand: BrandDep, state: StateDep) -> Response:
    _save(state, brands=[b for b in state.config.brands if b.id != brand.id])
    for team in state.teams.teams():
        if brand.id in team.brands:
            state.teams.change_team(team.id, brands=[b for b in team.brands if b != brand.id])
    return Response(status_code=204)


# Sources: the admin's
@router.get("/v1/sources", summary="All sources", responses=ADMIN_ONLY_RESPONSES)
def list_sources(_: AdminDep, state: StateDep) -> dict[str, Any]:
    return _dump(state.config.sources)


@router.post("/v1/sources", status_code=201, summary="Create a source", responses=ADMIN_ONLY_RESPONSES)
def create_source(body: Annotated[Source, Body(examples=[SOURCE_EXAMPLE])], _: AdminDep, state: StateDep) -> dict:
    if any(s.id == body.id for s in state.config.sources):
        raise HTTPException(409, f"source {body.id!r} exists already")
    _save(state, sources=[*state.config.sources, body])
    return body.model_dump(mode="json")


def _source(source_id: str, _: AdminDep, state: StateDep) -> Source:
    try:
        return state.config.source(source_id)
    except KeyError:
        raise HTTPException(404, f"no source {source_id!r}") from None


SourceDep = Annotated[Source, Depends(_source)]


@router.get("/v1/sources/{source_id}", summary="One source", responses=ADMIN_ONLY_RESPONSES)
def read_source(source: SourceDep) -> dict[str, Any]:
    return source.model_dump(mode="json")


@router.put("/v1/sources/{source_id}", summary="Replace a source", responses=ADMIN_ONLY_RESPONSES)
def change_source(source: SourceDep, body: Annotated[Source, Body(examples=[SOURCE_EXAMPLE])], state: StateDep) -> dict:
    if body.id != source.id:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the path's {source.id!r}")
    _save(state, sources=[body if s.id == source.id else s for s in state.config.sources])
    return body.model_dump(mode="json")


@router.delete("/v1/sources/{source_id}", status_code=204, summary="Delete a source", responses=ADMIN_ONLY_RESPONSES)
def delete_source(source: SourceDep, state: StateDep) -> Response:
    _save(state, sources=[s for s in state.config.sources if s.id != source.id])
    return Response(status_code=204)


# Alert rules: a team's for its own brands
@router.get("/v1/alerts", summary="Alert rules of the caller's brands")
def list_alerts(caller: CallerDep, state: StateDep) -> dict[str, Any]:
    return _dump([a for a in state.config.alerts if caller.can_see(a.brand)])


def _alert(alert_id: str, caller: CallerDep, state: StateDep) -> AlertRule:
    for rule in state.config.alerts:
        if rule.id == alert_id and caller.can_see(rule.brand):
            return rule
    raise HTTPException(404, f"no alert rule {alert_id!r}")


AlertDep = Annotated[AlertRule, Depends(_alert)]


def _check_brand(caller: Caller, brand: str) -> None:
    # Another team's brand reads as unknown, as everywhere; an unknown one is left to the config checks.
    if not caller.can_see(brand):
        raise HTTPException(404, f"no brand {brand!r}")


@router.post("/v1/alerts", status_code=201, summary="Create an alert rule for one of the caller's brands")
def create_alert(
    body: Annotated[AlertRule, Body(examples=[ALERT_EXAMPLE])], caller: CallerDep, state: StateDep
) -> dict:
    _check_brand(caller, body.brand)
    if any(a.id == body.id for a in state.config.alerts):
        raise HTTPException(409, f"alert rule {body.id!r} exists already")
    _save(state, alerts=[*state.config.alerts, body])
    return body.model_dump(mode="json")


@router.get("/v1/alerts/{alert_id}", summary="One alert rule")
def read_alert(rule: AlertDep) -> dict[str, Any]:
    return rule.model_dump(mode="json")


@router.put("/v1/alerts/{alert_id}", summary="Replace an alert rule")
def change_alert(
    rule: AlertDep, body: Annotated[AlertRule, Body(examples=[ALERT_EXAMPLE])], caller: CallerDep, state: StateDep
) -> dict:
    if body.id != rule.id:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the path's {rule.id!r}")
    _check_brand(caller, body.brand)
    _save(state, alerts=[body if a.id == rule.id else a for a in state.config.alerts])
    return body.model_dump(mode="json")


@router.delete("/v1/alerts/{alert_id}", status_code=204, summary="Delete an alert rule")
def delete_alert(rule: AlertDep, state: StateDep) -> Response:
    _save(state, alerts=[a for a in state.config.alerts if a.id != rule.id])
    return Response(status_code=204)


IMPORT_EXAMPLE = {"brands.yaml": "brands:\n  - id: revontuli\n    name: Revontuli Hotels\n"}


@router.post(
    "/v1/admin/config/import",
    responses=ADMIN_ONLY_RESPONSES,
    summary="Import configs/ YAML files (brands.yaml, sources.yaml, alerts.yaml), validated as a whole",
    description="Body: file name -> YAML text. Files not given are kept. Nothing is written unless all pass.",
)
def import_config(
    files: Annotated[dict[str, str], Body(examples=[IMPORT_EXAMPLE])], _: AdminDep, state: StateDep
) -> dict[str, Any]:
    state.config = state.config_store.replace(files)
    return {key: len(getattr(state.config, key)) for key in ("brands", "sources", "alerts")}
