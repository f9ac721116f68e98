"""/v1/incidents: the spikes the alert check found (kaiku/alerts/incidents.py), for the caller's brands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import CallerDep, DbDep
from api.problems import COMMON_RESPONSES
from kaiku.alerts.incidents import list_incidents

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], responses=COMMON_RESPONSES)


class Incident(BaseModel):
    id: int
    rule_id: str
    brand: str
    experience: str
    status: Literal["open", "closed"]
    start: datetime
    end: datetime
    peak: datetime
    peak_value: float
    baseline: float
    score: float
    severity: str
    window_seconds: int
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class IncidentList(BaseModel):
    data: list[Incident]
    count: int
    next: str | None = None


@router.get(
    "",
    response_model=IncidentList,
    summary="Incidents (spikes of anger or delight) of the caller's brands, newest first",
    description=(
        "`start`/`end` span the spike's slots (`window_seconds` each), `peak_value` its highest count against "
        "`baseline`. The counts behind a spike are those of `/v1/brands/{brand}/metrics` over the same period."
    ),
)
def read_incidents(
    db: DbDep,
    caller: CallerDep,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    brand: Annotated[str | None, Query(examples=["revontuli"], max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> IncidentList:
    brands = None if caller.is_admin else set(caller.brands)
    if brand is not None:
        # Another team's brand is filtered to nothing, exactly as an unknown one.
        brands = {brand} if brands is None else brands & {brand}
    with db.connect() as conn:
        rows = list_incidents(conn, limit=limit, status=status, brands=brands)
    return IncidentList(data=[Incident(**row) for row in rows], count=len(rows))
