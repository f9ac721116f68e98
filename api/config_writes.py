"""The management API's writes: create, replace and delete one entry of a configs/ list (brands, sources, alerts).

Changes go through `kaiku.config_store` (validated exactly like the YAML files, then written to them). Every change is
a function of the configuration as it is on disk when the change is made (`ConfigStore.update` runs it under the
folder's lock), never of what this process read earlier: checks such as "the id is free" and the new list are decided
inside the lock, so concurrent requests, here or in another process, lose nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import HTTPException

from api.deps import Caller
from api.state import AppState
from core.config import ConfigError, KaikuConfig

logger = logging.getLogger(__name__)

# Runs under the lock on the configuration as it is before the write, to refuse it (by raising) or to do what must
# happen before it.
UnderLock = Callable[[KaikuConfig], None]


@dataclass(frozen=True)
class Entries:
    """One list of the configuration: its field in KaikuConfig and what an entry is called in messages."""

    field: Literal["brands", "sources", "alerts"]
    kind: str


BRANDS = Entries("brands", "brand")
SOURCES = Entries("sources", "source")
ALERTS = Entries("alerts", "alert rule")


@dataclass(frozen=True)
class ConfigWrites:
    """The writes one caller makes; a refusal is an HTTPException saying what to change."""

    state: AppState
    caller: Caller

    def create(self, entries: Entries, entry: Any, under_lock: UnderLock | None = None) -> None:
        """Add `entry`; 409 when its id is taken."""

        def add(current: KaikuConfig) -> list[Any]:
            items = getattr(current, entries.field)
            if any(item.id == entry.id for item in items):
                # Ids are one namespace for all teams, so a taken id cannot be hidden; the answer says no more than
                # that (not whose it is, nor whether the caller could see it), the same for every caller.
                raise HTTPException(409, f"{entries.kind} id {entry.id!r} is in use; choose another id")
            if under_lock is not None:
                under_lock(current)
            return [*items, entry]

        self._update(entries, add)

    def replace(self, entries: Entries, item_id: str, entry: Any | Callable[[Any], Any]) -> None:
        """Put `entry` in the place of `item_id` (or what `entry` makes of the stored one, when it is a function);
        422 when the body's id is another, 404 when another change removed it meanwhile."""
        new_id = entry.id if not callable(entry) else item_id
        if new_id != item_id:
            raise HTTPException(422, f"the body's id {new_id!r} differs from the path's {item_id!r}")

        def change(current: KaikuConfig) -> list[Any]:
            stored = self._find(entries, current, item_id)
            new = entry(stored) if callable(entry) else entry
            return [new if item.id == item_id else item for item in getattr(current, entries.field)]

        self._update(entries, change)

    def delete(self, entries: Entries, item_id: str, under_lock: UnderLock | None = None) -> None:
        """Remove `item_id`; 404 when another change removed it meanwhile."""

        def remove(current: KaikuConfig) -> list[Any]:
            self._find(entries, current, item_id)
            if under_lock is not None:
                under_lock(current)
            return [item for item in getattr(current, entries.field) if item.id != item_id]

        self._update(entries, remove)

    @staticmethod
    def _find(entries: Entries, current: KaikuConfig, item_id: str) -> Any:
        for item in getattr(current, entries.field):
            if item.id == item_id:
                return item
        raise HTTPException(404, f"no {entries.kind} {item_id!r}")

    def _update(self, entries: Entries, change: Callable[[KaikuConfig], list[Any]]) -> None:
        """Apply `change` (current configuration -> the new list) under the configuration's lock."""
        try:
            self.state.config_store.update(lambda current: current.model_copy(update={entries.field: change(current)}))
        except ConfigError as exc:
            if self.caller.is_admin:
                raise
            # The configuration is checked as a whole, other teams' entries included; what a team's own entry lacks
            # was refused before (422 naming the field), so what is left here is not the team's to see.
            logger.warning("a change by team %s was refused: %s", self.caller.team, exc)
            raise HTTPException(422, "the server's configuration refused this change; the admin can see why") from exc
