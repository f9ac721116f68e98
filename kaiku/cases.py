"""Follow-up cases: an angry outlier is a case to handle, not only a data point (docs/design.md §1).

open -> responded -> followed_up -> closed; a case may also be closed early from open or responded. When a case
is marked responded its follow-up date is set (settings.followup_days, 10 by default: "follow up 1-2 weeks
later"), and on that date a reminder email goes to the owner through the outbox -- once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.config import KaikuConfig
from kaiku.alerts.messages import ReminderFacts, build_message, render_reminder
from kaiku.alerts.outbox import enqueue
from kaiku.db import cases, incidents
from kaiku.errors import ServiceError

STATUSES = ("open", "responded", "followed_up", "closed")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("responded", "closed"),
    "responded": ("followed_up", "closed"),
    "followed_up": ("closed",),
    "closed": (),
}


class CaseError(ServiceError):
    """Base error of follow-up cases."""


class CaseNotFound(CaseError):
    pass


class CaseExists(CaseError):
    def __init__(self, mention_id: str, case_id: int) -> None:
        super().__init__(f"mention {mention_id!r} already has case {case_id}")
        self.case_id = case_id


class NotAnOutlier(CaseError):
    """Only an angry outlier becomes a case."""


class UnknownIncident(CaseError):
    """The incident a new case should belong to does not exist, or is about another brand."""


class InvalidTransition(CaseError):
    def __init__(self, case_id: int, current: str, wanted: str) -> None:
        allowed = ", ".join(TRANSITIONS[current]) or "none: the case is closed"
        super().__init__(f"case {case_id} is {current}; it cannot become {wanted} (allowed: {allowed})")
        self.current = current
        self.allowed = TRANSITIONS[current]


def open_case(
    db: Engine,
    mention: dict[str, Any],
    owner: str,
    now: datetime,
    note: str | None = None,
    language: str = "en",
    incident_id: int | None = None,
) -> dict[str, Any]:
    """A new open case for an indexed mention (its `_source`), which must be an anger outlier; optionally tied to
    the incident (spike) it was part of."""
    if mention.get("experience") != "anger":
        raise NotAnOutlier(
            f"mention {mention.get('id')!r} is not an anger outlier (experience: {mention.get('experience')})"
        )
    if incident_id is not None:
        with db.connect() as conn:
            brand = conn.execute(select(incidents.c.brand).where(incidents.c.id == incident_id)).scalar()
        if brand is None:
            raise UnknownIncident(f"no incident with id {incident_id}")
        if brand != mention["brand"]:
            raise UnknownIncident(f"incident {incident_id} is about {brand}, the mention about {mention['brand']}")
    values = {
        "mention_id": mention["id"],
        "brand": mention["brand"],
        "mention_url": mention.get("url") or "",
        "owner": owner,
        "language": language,
        "status": "open",
        "note": note,
        "incident_id": incident_id,
        "created_at": now,
        "updated_at": now,
    }
    try:
        with db.begin() as conn:
            case_id = conn.execute(insert(cases).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    except IntegrityError:
        with db.connect() as conn:
            existing = conn.execute(select(cases.c.id).where(cases.c.mention_id == mention["id"])).scalar()
        if existing is None:
            raise
        raise CaseExists(mention["id"], int(existing)) from None
    return get_case(db, int(case_id))


def get_case(db: Engine, case_id: int) -> dict[str, Any]:
    with db.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        raise CaseNotFound(f"no case with id {case_id}")
    return dict(row._mapping)


@dataclass(frozen=True)
class CasePage:
    data: list[dict[str, Any]]
    count: int
    next: int | None  # the id to continue after


def list_cases(
    db: Engine,
    status: str | None = None,
    brand: str | None = None,
    owner: str | None = None,
    limit: int = 20,
    after: int | None = None,
    brands: Collection[str] | None = None,
) -> CasePage:
    """Oldest first (the order cases should be handled in), `limit` at a time; `brands` limits to a team's own."""
    conditions: list[ColumnElement[bool]] = []
    if brands is not None:
        conditions.append(cases.c.brand.in_(sorted(brands)))
    if status:
        conditions.append(cases.c.status == status)
    if brand:
        conditions.append(cases.c.brand == brand)
    if owner:
        conditions.append(cases.c.owner == owner)
    with db.connect() as conn:
        count = conn.execute(select(func.count()).select_from(cases).where(*conditions)).scalar_one()
        page = select(cases).where(*conditions).order_by(cases.c.id).limit(limit)
        if after is not None:
            page = page.where(cases.c.id > after)
        rows = [dict(row._mapping) for row in conn.execute(page)]
    return CasePage(rows, int(count), rows[-1]["id"] if len(rows) == limit else None)


def change_status(
    db: Engine, case_id: int, to: str, now: datetime, followup: timedelta, note: str | None = None
) -> dict[str, Any]:
    """Move a case along; the update only applies if nobody changed its status in between (compare-and-set)."""
    current = get_case(db, case_id)
    if to not in TRANSITIONS[current["status"]]:
        raise InvalidTransition(case_id, current["status"], to)
    values: dict[str, Any] = {"status": to, "updated_at": now}
    if note is not None:
        values["note"] = note
    if to == "responded":
        values.update(responded_at=now, follow_up_at=now + followup)
    with db.begin() as conn:
        changed = conn.execute(
            update(cases).where(cases.c.id == case_id, cases.c.status == current["status"]).values(**values)
        )
    if changed.rowcount != 1:
        latest = get_case(db, case_id)
        raise InvalidTransition(case_id, latest["status"], to)
    return get_case(db, case_id)


def queue_followup_reminders(db: Engine, config: KaikuConfig, now: datetime, api_base: str, sender: str) -> list[int]:
    """Queue one reminder per responded case whose follow-up date has come; returns the case ids."""
    queued: list[int] = []
    with db.begin() as conn:
        due = conn.execute(
            select(cases).where(
                cases.c.status == "responded", cases.c.follow_up_at <= now, cases.c.reminder_queued_at.is_(None)
            )
        ).all()
        for case in due:
            try:
                brand_name = config.brand(case.brand).name
            except KeyError:
                brand_name = case.brand  # the brand left the configuration; the case still needs its follow-up
            facts = ReminderFacts(
                case.id, brand_name, case.owner, case.responded_at, case.mention_url, case.note, api_base
            )
            rendered = render_reminder(facts, "fi" if case.language == "fi" else "en")
            key = f"reminder:{case.id}:{case.owner}"
            message = build_message(rendered, sender, case.owner, key, now)
            enqueue(conn, key, "reminder", case.owner, rendered.subject, message, now)
            conn.execute(update(cases).where(cases.c.id == case.id).values(reminder_queued_at=now))
            queued.append(case.id)
    return queued
