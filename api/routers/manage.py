"""Management: brands, sources and alert rules listed, created, changed and deleted; configs/ YAML imported.

The writes are api/config_writes.py's, under the configuration's lock. A team manages its own brands and their alert
rules; a brand it creates becomes its own. Sources serve every brand, so only the admin changes them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Response
from fastapi.exceptions import RequestValidationError

from api.config_writes import ALERTS, BRANDS, SOURCES, ConfigWrites
from api.deps import AdminDep, BrandDep, Caller, CallerDep, StateDep
from api.problems import ADMIN_ONLY_RESPONSES, BODY_RESPONSES, COMMON_RESPONSES, responses
from api.schemas import AlertRuleList, ImportSummary, SourceList
from core.config import AlertRule, Brand, KaikuConfig, Source

router = APIRouter(tags=["management"], responses=COMMON_RESPONSES)

BRAND_EXAMPLE = {"id": "merituuli", "name": "Merituuli Spa", "aliases": ["Kylpylä Merituuli"],
                 "competitors": ["revontuli"], "industry": "hospitality"}  # fmt: skip
SOURCE_EXAMPLE = {"id": "tripreviews", "spider": "reviews", "start_urls": ["https://reviews.example/hotels/"],
                  "max_pages": 100, "schedule": "6h", "brands": []}  # fmt: skip
ALERT_EXAMPLE = {"id": "revontuli-delight", "brand": "revontuli", "experience": "delight", "window": "1d",
                 "min_count": 3, "recipients": ["marketing@revontuli.example"]}  # fmt: skip


def _writes(caller: CallerDep, state: StateDep) -> ConfigWrites:
    return ConfigWrites(state, caller)


WritesDep = Annotated[ConfigWrites, Depends(_writes)]


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


def _as_seen_by(caller: Caller, brand: Brand) -> Brand:
    hidden = _hidden_competitors(caller, brand)
    return brand.model_copy(update={"competitors": [c for c in brand.competitors if c not in hidden]})


# Brands (GET /v1/brands lives in routers/brands.py with the analytics)
@router.get("/v1/brands/{brand}", response_model=Brand, summary="One brand's configuration")
def read_brand(brand: BrandDep, caller: CallerDep) -> Brand:
    return _as_seen_by(caller, brand)


@router.post(
    "/v1/brands",
    status_code=201,
    response_model=Brand,
    summary="Create a brand (the caller's team owns it)",
    responses=responses(409, 413),
)
def create_brand(
    body: Annotated[Brand, Body(examples=[BRAND_EXAMPLE])], caller: CallerDep, state: StateDep, writes: WritesDep
) -> Brand:
    _check_competitors(caller, body)
    # A team still listed for a brand of this id (one deleted by a process that died before it updated the teams)
    # must not see the new brand.
    writes.create(BRANDS, body, under_lock=lambda _: state.teams.forget_brand(body.id))
    if caller.team:
        state.teams.grant_brand(caller.team, body.id)
    return body


@router.put(
    "/v1/brands/{brand}",
    response_model=Brand,
    summary="Replace a brand's configuration (query terms, competitive set, ...)",
    responses=BODY_RESPONSES,
)
def change_brand(
    brand: BrandDep, body: Annotated[Brand, Body(examples=[BRAND_EXAMPLE])], caller: CallerDep, writes: WritesDep
) -> Brand:
    if body.id != brand.id:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the path's {brand.id!r}")
    _check_competitors(caller, body)

    def keeping_hidden(stored: Brand) -> Brand:
        # Competitors the caller cannot see were not shown to it (GET) and stay as they are.
        kept = [c for c in _hidden_competitors(caller, stored) if c not in body.competitors]
        return body.model_copy(update={"competitors": [*body.competitors, *kept]})

    writes.replace(BRANDS, brand.id, keeping_hidden)
    return body


@router.delete("/v1/brands/{brand}", status_code=204, summary="Delete a brand (refused while referenced)")
def delete_brand(brand: BrandDep, caller: CallerDep, state: StateDep, writes: WritesDep) -> Response:
    writes.delete(BRANDS, brand.id, under_lock=lambda current: _check_unreferenced(caller, current, brand.id))
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
@router.get("/v1/sources", response_model=SourceList, summary="All sources", responses=ADMIN_ONLY_RESPONSES)
def list_sources(_: AdminDep, state: StateDep) -> SourceList:
    return SourceList(data=state.config.sources, count=len(state.config.sources))


@router.post(
    "/v1/sources",
    status_code=201,
    response_model=Source,
    summary="Create a source",
    responses=responses(403, 409, 413),
)
def create_source(body: Annotated[Source, Body(examples=[SOURCE_EXAMPLE])], _: AdminDep, writes: WritesDep) -> Source:
    writes.create(SOURCES, body)
    return body


def _source(source_id: str, _: AdminDep, state: StateDep) -> Source:
    try:
        return state.config.source(source_id)
    except KeyError:
        raise HTTPException(404, f"no source {source_id!r}") from None


SourceDep = Annotated[Source, Depends(_source)]


@router.get("/v1/sources/{source_id}", response_model=Source, summary="One source", responses=ADMIN_ONLY_RESPONSES)
def read_source(source: SourceDep) -> Source:
    return source


@router.put("/v1/sources/{source_id}", response_model=Source, summary="Replace a source", responses=responses(403, 413))
def change_source(
    source: SourceDep, body: Annotated[Source, Body(examples=[SOURCE_EXAMPLE])], writes: WritesDep
) -> Source:
    writes.replace(SOURCES, source.id, body)
    return body


@router.delete("/v1/sources/{source_id}", status_code=204, summary="Delete a source", responses=ADMIN_ONLY_RESPONSES)
def delete_source(source: SourceDep, writes: WritesDep) -> Response:
    writes.delete(SOURCES, source.id)
    return Response(status_code=204)


# Alert rules: a team's for its own brands
@router.get("/v1/alerts", response_model=AlertRuleList, summary="Alert rules of the caller's brands")
def list_alerts(caller: CallerDep, state: StateDep) -> AlertRuleList:
    rules = [a for a in state.config.alerts if caller.can_see(a.brand)]
    return AlertRuleList(data=rules, count=len(rules))


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
    response_model=AlertRule,
    summary="Create an alert rule for one of the caller's brands",
    responses=responses(409, 413),
)
def create_alert(
    body: Annotated[AlertRule, Body(examples=[ALERT_EXAMPLE])], caller: CallerDep, writes: WritesDep
) -> AlertRule:
    _check_brand(caller, body.brand)
    writes.create(ALERTS, body)
    return body


@router.get("/v1/alerts/{alert_id}", response_model=AlertRule, summary="One alert rule")
def read_alert(rule: AlertDep) -> AlertRule:
    return rule


@router.put(
    "/v1/alerts/{alert_id}", response_model=AlertRule, summary="Replace an alert rule", responses=BODY_RESPONSES
)
def change_alert(
    rule: AlertDep, body: Annotated[AlertRule, Body(examples=[ALERT_EXAMPLE])], caller: CallerDep, writes: WritesDep
) -> AlertRule:
    if body.id != rule.id:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the path's {rule.id!r}")
    _check_brand(caller, body.brand)
    writes.replace(ALERTS, rule.id, body)
    return body


@router.delete("/v1/alerts/{alert_id}", status_code=204, summary="Delete an alert rule")
def delete_alert(rule: AlertDep, writes: WritesDep) -> Response:
    writes.delete(ALERTS, rule.id)
    return Response(status_code=204)


IMPORT_EXAMPLE = {"brands.yaml": "brands:\n  - id: revontuli\n    name: Revontuli Hotels\n"}


@router.post(
    "/v1/admin/config/import",
    response_model=ImportSummary,
    responses=responses(403, 413),
    summary="Import configs/ YAML files (brands.yaml, sources.yaml, alerts.yaml), validated as a whole",
    description="Body: file name -> YAML text. Files not given are kept. Nothing is written unless all pass.",
)
def import_config(
    files: Annotated[dict[str, str], Body(examples=[IMPORT_EXAMPLE])], _: AdminDep, state: StateDep
) -> ImportSummary:
    config = state.config_store.replace(files)
    return ImportSummary(brands=len(config.brands), sources=len(config.sources), alerts=len(config.alerts))
