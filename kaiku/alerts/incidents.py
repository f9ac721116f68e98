"""Keeping incidents in the database so that one spike is one incident across checks, runs and restarts.

Each check runs the detector over the whole history again; this module reconciles what it found with what is
stored. A detected incident that includes the last complete or the current slot is *ongoing*: it updates the
stored incident it belongs to (overlapping it, or starting within the rule's cooldown of its end -- a reopened
incident, no new email) or, failing that, becomes a new incident. Stored open incidents with no ongoing match are
closed. Incidents that ended before the check are never created: a first run over old data sends nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from kaiku.alerts.detector import Incident
from kaiku.db import incidents


@dataclass(frozen=True)
class Reconciled:
    new: list[int]
    updated: list[int]
    closed: list[int]
    opened: list[Incident]  # the detected incident behind each of `new`, in the same order


def latest_incident(conn: Connection, rule_id: str) -> Any:
    """The rule's stored incident that ended last (a row), or None."""
    return conn.execute(
        select(incidents).where(incidents.c.rule_id == rule_id).order_by(incidents.c.end.desc()).limit(1)
    ).first()


def continues(latest: Any, found: Incident, cooldown: timedelta) -> bool:
    """Does a detected incident belong to the stored `latest` one (overlapping it, or within its cooldown)?"""
    return latest is not None and found.start < latest.end + cooldown


def _row_values(found: Incident) -> dict[str, Any]:
    return {
        "end": found.end,
        "peak": found.peak,
        "peak_value": found.peak_value,
        "baseline": found.baseline,
        "score": found.score,
        "severity": found.severity,
    }


def reconcile(
    conn: Connection,
    rule_id: str,
    brand: str,
    experience: str,
    detected: list[Incident],
    current_slot: datetime,
    step: timedelta,
    cooldown: timedelta,
    now: datetime,
) -> Reconciled:
    """Apply one check's detections to the stored incidents of a rule (inside the caller's transaction)."""
    ongoing = [d for d in detected if d.end >= current_slot]
    latest = latest_incident(conn, rule_id)
    new: list[int] = []
    opened: list[Incident] = []
    updated: list[int] = []
    kept_open: set[int] = set()
    for found in ongoing:
        if continues(latest, found, cooldown):
            values = _row_values(found)
            if latest.score > found.score:  # keep the strongest peak seen over the incident's life
                for key in ("peak", "peak_value", "baseline", "score", "severity"):
                    values[key] = getattr(latest, key)
            values["end"] = max(latest.end, found.end)
            conn.execute(
                update(incidents)
                .where(incidents.c.id == latest.id)
                .values(**values, status="open", closed_at=None, updated_at=now)
            )
            updated.append(latest.id)
            kept_open.add(latest.id)
        else:
            result = conn.execute(
                insert(incidents).values(
                    rule_id=rule_id,
                    brand=brand,
                    experience=experience,
                    status="open",
                    start=found.start,
                    window_seconds=int(step.total_seconds()),
                    opened_at=now,
                    updated_at=now,
                    **_row_values(found),
                )
            )
            assert result.inserted_primary_key is not None
            new.append(int(result.inserted_primary_key[0]))
            opened.append(found)
            kept_open.add(new[-1])
    closed: list[int] = []
    still_open = conn.execute(
        select(incidents.c.id).where(incidents.c.rule_id == rule_id, incidents.c.status == "open")
    ).scalars()
    for incident_id in still_open:
        if incident_id not in kept_open:
            closed.append(incident_id)
    for incident_id in closed:
        row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).one()
        # It may have grown between the previous check and its end: take the end the detector sees now.
        ends = [d.end for d in detected if d.start < row.end + cooldown and d.end > row.start]
        conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id)
            .values(status="closed", closed_at=now, updated_at=now, end=max([row.end, *ends]))
        )
    return Reconciled(new, updated, closed, opened)


def list_incidents(
    conn: Connection,
    rule_id: str | None = None,
    limit: int = 50,
    status: str | None = None,
    brands: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Newest first; `brands` (a team's) limits them to those brands' incidents."""
    query = select(incidents).order_by(incidents.c.id.desc()).limit(limit)
    if rule_id:
        query = query.where(incidents.c.rule_id == rule_id)
    if status:
        query = query.where(incidents.c.status == status)
    if brands is not None:
        query = query.where(incidents.c.brand.in_(list(brands)))
    return [dict(row._mapping) for row in conn.execute(query)]
