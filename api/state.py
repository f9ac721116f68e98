"""What the API process holds for its lifetime: settings, the mention store, the database, teams."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from api.ratelimit import RateLimits
from core.config import KaikuConfig
from core.settings import Settings
from indexer.store import MentionStore
from kaiku.config_store import ConfigStore
from kaiku.teams import TeamStore


@dataclass
class AppState:
    settings: Settings
    store: MentionStore
    config_store: ConfigStore
    teams: TeamStore
    rate_limits: RateLimits
    db: Engine  # Kaiku's own database, shared by every replica (kaiku/db.py)

    @property
    def config(self) -> KaikuConfig:
        """configs/ as on disk now: changes by other API processes and hand edits are seen (read when changed)."""
        return self.config_store.current()
