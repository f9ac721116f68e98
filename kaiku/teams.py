"""Teams and their API keys, in a small SQLite database (stdlib sqlite3).

A key is shown once, when created: `kaiku_<key id>_<secret>`. Only a salted SHA-256 of the secret is
stored, so a copy of the database gives no usable key. A team owns brands; it sees only those, and a
competitor's figures only where it owns that brand too (docs/api.md, "Competitors").
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kaiku.errors import ServiceError

TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
KEY_PREFIX = "kaiku"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS team_brands (
    team TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE, brand TEXT NOT NULL, PRIMARY KEY (team, brand));
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, team TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    salt BLOB NOT NULL, digest BLOB NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);
"""


class TeamError(ServiceError):
    """A team or key operation that cannot be done (unknown team, duplicate id, bad id)."""


class TeamNotFound(TeamError):
    pass


class TeamExists(TeamError):
    pass


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    brands: tuple[str, ...]
    created_at: str


@dataclass(frozen=True)
class KeyInfo:
    id: str
    team: str
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class NewKey:
    info: KeyInfo
    secret: str  # the whole key, shown once


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TeamStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: the API serves requests from several threads.
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            with db:
                yield db
        finally:
            db.close()

    # Teams
    def create_team(self, team_id: str, name: str | None = None, brands: list[str] | None = None) -> Team:
        if not TEAM_ID.match(team_id):
            raise TeamError(f"team id {team_id!r} must be lowercase letters, digits, '-' or '_'")
        with self._db() as db:
            try:
                db.execute("INSERT INTO teams VALUES (?, ?, ?)", (team_id, name or team_id, _now()))
            except sqlite3.IntegrityError as exc:
                raise TeamExists(f"team {team_id!r} exists already") from exc
            db.executemany("INSERT INTO team_brands VALUES (?, ?)", [(team_id, b) for b in dict.fromkeys(brands or [])])
        return self.team(team_id)

    def team(self, team_id: str) -> Team:
        with self._db() as db:
            row = db.execute("SELECT id, name, created_at FROM teams WHERE id = ?", (team_id,)).fetchone()
            if row is None:
                raise TeamNotFound(f"no team {team_id!r}")
            brands = [
                b for (b,) in db.execute("SELECT brand FROM team_brands WHERE team = ? ORDER BY brand", (team_id,))
            ]
        return Team(id=row[0], name=row[1], brands=tuple(brands), created_at=row[2])

    def teams(self) -> list[Team]:
        with self._db() as db:
            ids = [i for (i,) in db.execute("SELECT id FROM teams ORDER BY id")]
        return [self.team(i) for i in ids]

    def change_team(self, team_id: str, name: str | None = None, brands: list[str] | None = None) -> Team:
        self.team(team_id)
        with self._db() as db:
            if name is not None:
                db.execute("UPDATE teams SET name = ? WHERE id = ?", (name, team_id))
            if brands is not None:
                db.execute("DELETE FROM team_brands WHERE team = ?", (team_id,))
                db.executemany("INSERT INTO team_brands VALUES (?, ?)", [(team_id, b) for b in dict.fromkeys(brands)])
        return self.team(team_id)

    def grant_brand(self, team_id: str, brand: str) -> None:
        """Add one brand to a team's (a single statement: concurrent grants to one team all stay)."""
        self.team(team_id)
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO team_brands VALUES (?, ?)", (team_id, brand))

    def forget_brand(self, brand: str) -> None:
        """Take a deleted brand from every team."""
        with self._db() as db:
            db.execute("DELETE FROM team_brands WHERE brand = ?", (brand,))

    def delete_team(self, team_id: str) -> None:
        with self._db() as db:
            if db.execute("DELETE FROM teams WHERE id = ?", (team_id,)).rowcount == 0:
                raise TeamNotFound(f"no team {team_id!r}")

    # Keys
    def create_key(self, team_id: str) -> NewKey:
        self.team(team_id)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        created = _now()
        with self._db() as db:
            db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
                (key_id, team_id, salt, _digest(salt, secret), created),
            )
        return NewKey(KeyInfo(key_id, team_id, created, None), f"{KEY_PREFIX}_{key_id}_{secret}")

    def keys(self, team_id: str) -> list[KeyInfo]:
        self.team(team_id)
        with self._db() as db:
            rows = db.execute(
                "SELECT id, team, created_at, revoked_at FROM api_keys WHERE team = ? ORDER BY created_at, id",
                (team_id,),
            ).fetchall()
        return [KeyInfo(*row) for row in rows]

    def revoke_key(self, key_id: str) -> KeyInfo:
        with self._db() as db:
            db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (_now(), key_id))
            row = db.execute("SELECT id, team, created_at, revoked_at FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise TeamNotFound(f"no key {key_id!r}")
        return KeyInfo(*row)

    def authenticate(self, presented: str) -> KeyInfo | None:
        """The key's record if `presented` is a live key, else None (never says which part was wrong)."""
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        _, key_id, secret = parts
        with self._db() as db:
            row = db.execute(
                "SELECT id, team, created_at, revoked_at, salt, digest FROM api_keys WHERE id = ?", (key_id,)
            ).fetchone()
        if row is None or row[3] is not None:
            return None
        if not hmac.compare_digest(_digest(row[4], secret), row[5]):
            return None
        return KeyInfo(*row[:4])
