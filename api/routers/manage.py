"""Management: brands, sources and alert rules listed, created, changed and deleted; configs/ YAML imported.

Changes go through `kaiku.config_store` (validated exactly like the YAML files, then written to them). A team
manages its own brands and their alert rules; a brand it creates becomes its own. Sources serve every brand,
so only the admin changes them.

Every change is a function of the configuration as it is on disk when the change is made (`ConfigStore.update`
runs it under the folder's lock), never of what this process read earlier: checks such as "the id is free" and
the new list are decided inside the lock, so concurrent requests, here or in another process, lose nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Response
from fastapi.exceptions import RequestValidationError

from api.deps import AdminDep, BrandDep, Caller, CallerDep, StateDep
from api.problems import ADMIN_ONLY_RESPONSES, BODY_RESPONSES, COMMON_RESPONSES, responses
from api.state import AppState
from core.config import AlertRule, Brand, ConfigError, KaikuConfig, Source

logger = logging.getLogger(__name__)

router = APIRouter(tags=["management"], responses=COMMON_RESPONSES)

BRAND_EXAMPLE = {"id": "merituuli", "name": "Merituuli Spa", "aliases": ["Kylpylä Merituuli"],
                 "competitors": ["revontuli"], "industry": "hospitality"}  # fmt: skip
SOURCE_EXAMPLE = {"id": "tripreviews", "spider": "reviews", "start_urls": ["https://reviews.example/hotels/"],
                  "max_pages": 100, "schedule": "6h", "brands": []}  # fmt: skip
ALERT_EXAMPLE = {"id": "revontuli-delight", "brand": "revontuli", "experience": "delight", "window": "1d",
                 "min_count": 3, "recipients": ["marketing@revontuli.example"]}  # fmt: skip


def _update(state: AppState, caller: Caller, change: Callable[[KaikuConfig], dict[str, Any]]) -> KaikuConfig:
    """Apply `change` (current configuration -> the lists it replaces) under the configuration's lock."""
    try:
        return state.config_store.update(lambda current: current.model_copy(update=change(current)))
    except ConfigError as exc:
        if caller.is_admin:
            raise
        # The configuration is checked as a whole, other teams' entries included; what a team's own entry lacks
        # was refused before (422 naming the field), so what is left here is not the team's to see.
        logger.warning("a change by team %s was refused: %s", caller.team, exc)
        raise HTTPException(422, "the server's configuration refused this change; the admin can see why") from exc


def _replaced(items: list[Any], item_id: str, new: Any | None, kind: str) -> list[Any]:
    """`items` with the one of `item_id` replaced by `new` (removed when None); 404 if another change removed it."""
    if not any(item.id == item_id for item in items):
        raise HTTPException(404, f"no {kind} {item_id!r}")
    return [new if item.id == item_id else item for item in items if new is not None or item.id != item_id]


def _in_use(kind: str, item_id: str) -> HTTPException:
    # Ids are one namespace for all teams, so a taken id cannot be hidden; the answer says no more than that
    # (not whose it is, nor whether the caller could see it), the same for every caller.
    return HTTPException(409, f"{kind} id {item_id!r} is in use; choose another id")


def _check_competitors(caller: Caller, brand: Brand) -> None:
    """A team may name as competitors only brands it may see (docs/api.md, "Competitors"); otherwise 422 naming
    the item, the same whether or not such a brand exists."""
    errors = [
        {"loc": ("body", "competitors", index), "type": "value_error",
         "msg": f"no brand {competitor!r} among your team's brands: a competitor must be a brand your team may see"}
        for index, competitor in enumerate(brand.competitors)
        if not caller.can_see(competitor) and competitor != brand.id
    ]  # fmt: skip
    if errors:
        raise RequestValidationError(errors)


def _hidden_competitors(caller: Caller, brand: Brand) -> list[str]:
    """The brand's competitors the caller may not see (named by the admin or by a team that sees them)."""
    return [c for c in brand.competitors if not caller.can_see(c) and c != brand.id]


def _as_seen_by(caller: Caller, brand: Brand) -> dict[str, Any]:
    hidden = _hidden_competitors(caller, brand)
    return {**brand.model_dump(mode="json"), "competitors": [c for c in brand.competitors if c not in hidden]}


def _dump(items: list[Any]) -> dict[str, Any]:
    data = [item.model_dump(mode="json") for item in items]
    return {"data": data, "count": len(data), "next": None}


# Brands (GET /v1/brands lives in routers/brands.py with the analytics)
@router.get("/v1/brands/{brand}", summary="One brand's configuration")
def read_brand(brand: BrandDep, caller: CallerDep) -> dict[str, Any]:
    return _as_seen_by(caller, brand)


@router.post(
    "/v1/brands", status_code=201, summary="Create a brand (the caller's team owns it)", responses=responses(409, 413)
)
def create_brand(body: Annotated[Brand, Body(examples=[BRAND_EXAMPLE])], caller: CallerDep, state: StateDep) -> dict:
    _check_competitors(caller, body)

    def add(current: KaikuConfig) -> dict[str, Any]:
        if any(b.id == body.id for b in current.brands):
            raise _in_use("brand", body.id)
        # A team still listed for a brand of this id (one deleted by a process that died before it updated the
        # teams) must not see the new brand.
        state.teams.forget_brand(body.id)
        return {"brands": [*current.brands, body]}

    _update(state, caller, add)
    if caller.team:
        state.teams.grant_brand(caller.team, body.id)
    return body.model_dump(mode="json")


@router.put(
    "/v1/brands/{brand}",
    summary="Replace a brand's configuration (query terms, competitive set, ...)",
    responses=BODY_RESPONSES,
)
def change_brand(
    brand: BrandDep, body: Annotated[Brand, Body(examples=[BRAND_EXAMPLE])], caller: CallerDep, state: StateDep
) -> dict:
    if body.id != brand.id:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the path's {brand.id!r}")
    _check_competitors(caller, body)

    def change(current: KaikuConfig) -> dict[str, Any]:
        # Competitors the caller cannot see were not shown to it (GET) and stay as they are.
        stored = next((b for b in current.brands if b.id == brand.id), brand)
        kept = [c for c in _hidden_competitors(caller, stored) if c not in body.competitors]
        new = body.model_copy(update={"competitors": [*body.competitors, *kept]})
        return {"brands": _replaced(current.brands, brand.id, new, "brand")}

    _update(state, caller, change)
    return body.model_dump(mode="json")


@router.delete("/v1/brands/{brand}", status_code=204, summary="Delete a brand (refused while referenced)")
def delete_brand(brand: BrandDep, caller: CallerDep, state: StateDep) -> Response:
    def remove(current: KaikuConfig) -> dict[str, Any]:
        _check_unreferenced(caller, current, brand.id)
        return {"brands": _replaced(current.brands, brand.id, None, "brand")}

    _update(state, caller, remove)
    state.teams.forget_brand(brand.id)
    return Response(status_code=204)


def _check_unreferenced(caller: Caller, config: KaikuConfig, brand_id: str) -> None:
    """422 while other configuration names the brand; only what the caller may see is named."""
    brands = [b.id for b in config.brands if brand_id in b.competitors and b.id != brand_id]
    rules = [a.id for a in config.alerts if a.brand == brand_id]
    sources = [s.id for s in config.sources if brand_id in s.brands]
    shown = [f"the competitors of brand {b!r}" for b in brands if caller.can_see(b)]
    shown += [f"alert rule {r!r}" for r in rules]
    shown += [f"source {s!r}" for s in sources if caller.is_admin]
    if len(shown) < len(brands) + len(rules) + len(sources):
        shown.append("configuration of other teams or of the admin")
    if shown:
        raise HTTPException(422, f"brand {brand_id!r} is still named by {'; '.join(shown)}: change those first")


# Sources: the admin's
@router.get("/v1/sources", summary="All sources", responses=ADMIN_ONLY_RESPONSES)
def list_sources(_: AdminDep, state: StateDep) -> dict[str, Any]:
    return _dump(state.config.sources)


@router.post("/v1/sources", status_code=201, summary="Create a source", responses=responses(403, 409, 413))
def create_source(body: Annotated[Source, Body(examples=[SOURCE_EXAMPLE])], caller: AdminDep, state: StateDep) -> dict:
    def add(current: KaikuConfig) -> dict[str, Any]:
        if any(s.id == body.id for s in current.sources):
            raise _in_use("source", body.id)
        return {"sources": [*current.sources, body]}

    _update(state, caller, add)
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


@router.put("/v1/sources/{source_id}", summary="Replace a source", responses=responses(403, 413))
def change_source(
    source: SourceDep, body: Annotated[Source, Body(examples=[SOURCE_EXAMPLE])], caller: AdminDep, state: StateDep
) -> dict:
    if body.id != source.id:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the path's {source.id!r}")
    _update(state, caller, lambda current: {"sources": _replaced(current.sources, source.id, body, "source")})
    return body.model_dump(mode="json")


@router.delete("/v1/sources/{source_id}", status_code=204, summary="Delete a source", responses=ADMIN_ONLY_RESPONSES)
def delete_source(source: SourceDep, caller: AdminDep, state: StateDep) -> Response:
    _update(state, caller, lambda current: {"sources": _replaced(current.sources, source.id, None, "source")})
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


@router.post(
    "/v1/alerts",
    status_code=201,
    summary="Create an alert rule for one of the caller's brands",
    responses=responses(409, 413),
)
def create_alert(
    body: Annotated[AlertRule, Body(examples=[ALERT_EXAMPLE])], caller: CallerDep, state: StateDep
) -> dict:
    _check_brand(caller, body.brand)

    def add(current: KaikuConfig) -> dict[str, Any]:
        if any(a.id == body.id for a in current.alerts):
            raise _in_use("alert rule", body.id)
        return {"alerts": [*current.alerts, body]}

    _update(state, caller, add)
    return body.model_dump(mode="json")


@router.get("/v1/alerts/{alert_id}", summary="One alert rule")
def read_alert(rule: AlertDep) -> dict[str, Any]:
    return rule.model_dump(mode="json")


@router.put("/v1/alerts/{alert_id}", summary="Replace an alert rule", responses=BODY_RESPONSES)
def change_alert(
    rule: AlertDep, body: Annotated[AlertRule, Body(examples=[ALERT_EXAMPLE])], caller: CallerDep, state: StateDep
) -> dict:
    if body.id != rule.id:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the path's {rule.id!r}")
    _check_brand(caller, body.brand)
    _update(state, caller, lambda current: {"alerts": _replaced(current.alerts, rule.id, body, "alert rule")})
    return body.model_dump(mode="json")


@router.delete("/v1/alerts/{alert_id}", status_code=204, summary="Delete an alert rule")
def delete_alert(rule: AlertDep, caller: CallerDep, state: StateDep) -> Response:
    _update(state, caller, lambda current: {"alerts": _replaced(current.alerts, rule.id, None, "alert rule")})
    return Response(status_code=204)


IMPORT_EXAMPLE = {"brands.yaml": "brands:\n  - id: revontuli\n    name: Revontuli Hotels\n"}


@router.post(
    "/v1/admin/config/import",
    responses=responses(403, 413),
    summary="Import configs/ YAML files (brands.yaml, sources.yaml, alerts.yaml), validated as a whole",
    description="Body: file name -> YAML text. Files not given are kept. Nothing is written unless all pass.",
)
def import_config(
    files: Annotated[dict[str, str], Body(examples=[IMPORT_EXAMPLE])], _: AdminDep, state: StateDep
) -> dict[str, Any]:
    config = state.config_store.replace(files)
    return {key: len(getattr(config, key)) for key in ("brands", "sources", "alerts")}
