"""/v1/cases: follow-up cases made from angry outliers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Caller, CallerDep, DbDep, StateDep, StoreDep
from api.problems import COMMON_RESPONSES, responses
from kaiku.cases import CaseNotFound, change_status, get_case, list_cases, open_case

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=COMMON_RESPONSES)


def visible_case(db: DbDep, case_id: int, caller: Caller) -> dict[str, Any]:
    """The case, if the caller's team owns its brand; another team's case is as unknown as a missing one."""
    case = get_case(db, case_id)
    if not caller.can_see(case["brand"]):
        raise CaseNotFound(f"no case with id {case_id}")
    return case


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Status = Literal["open", "responded", "followed_up", "closed"]
DB_INT_MAX = 2**63 - 1  # ids are 64-bit integers in the database
CaseId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="The case's id")]


class Case(BaseModel):
    id: int
    mention_id: str
    brand: str
    mention_url: str
    owner: str
    language: str
    status: Status
    note: str | None
    incident_id: int | None
    created_at: datetime
    updated_at: datetime
    responded_at: datetime | None
    follow_up_at: datetime | None
    reminder_queued_at: datetime | None


class CaseList(BaseModel):
    data: list[Case]
    count: int
    next: str | None


class NewCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mention_id: str = Field(min_length=1, max_length=64, description="Id of an indexed anger outlier")
    owner: str = Field(pattern=EMAIL, description="Who handles it; gets the follow-up reminder")
    note: str | None = Field(default=None, max_length=5000)
    language: Literal["en", "fi"] = Field(default="en", description="Language of the reminder email")
    incident_id: int | None = Field(
        default=None, ge=1, le=DB_INT_MAX, description="The spike (see `kaiku alerts incidents`) it was in"
    )


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    note: str | None = Field(default=None, max_length=5000)


@router.post(
    "", status_code=201, response_model=Case, summary="Make an angry outlier a case", responses=responses(409, 413, 502)
)
def create_case(body: NewCase, store: StoreDep, db: DbDep, caller: CallerDep) -> dict[str, Any]:
    mention = store.get(body.mention_id)
    if mention is None or not caller.can_see(mention.get("brand", "")):  # another team's mention does not exist
        raise HTTPException(422, f"parameter 'mention_id': no mention with id {body.mention_id!r}")
    return open_case(db, mention, body.owner, datetime.now(UTC), body.note, body.language, body.incident_id)


@router.get("", response_model=CaseList, summary="List cases, oldest first")
def read_cases(
    db: DbDep,
    caller: CallerDep,
    status: Annotated[Status | None, Query()] = None,
    brand: Annotated[str | None, Query(examples=["revontuli"])] = None,
    owner: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$", description="`next` from the previous page")] = None,
) -> CaseList:
    team_brands = None if caller.is_admin else caller.brands
    page = list_cases(db, status, brand, owner, limit, int(cursor) if cursor else None, team_brands)
    return CaseList(
        data=[Case(**row) for row in page.data],
        count=page.count,
        next=str(page.next) if page.next is not None else None,
    )


@router.get("/{case_id}", response_model=Case, summary="One case")
def read_case(case_id: CaseId, db: DbDep, caller: CallerDep) -> dict[str, Any]:
    return visible_case(db, case_id, caller)


@router.patch(
    "/{case_id}",
    response_model=Case,
    summary="Move a case along: responded, followed_up, closed",
    responses=responses(409, 413),
)
def update_case(case_id: CaseId, body: StatusChange, db: DbDep, state: StateDep, caller: CallerDep) -> dict[str, Any]:
    visible_case(db, case_id, caller)
    followup = timedelta(days=state.settings.followup_days)
    return change_status(db, case_id, body.status, datetime.now(UTC), followup, body.note)
