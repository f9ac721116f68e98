"""Teams and their API keys, in Kaiku's database (kaiku/db.py) beside incidents, cases and the outbox.

A key is shown once, when created: `kaiku_<key id>_<secret>`. Only a salted SHA-256 of the secret is
stored, so a copy of the database gives no usable key. A team owns brands; it sees only those, and a
competitor's figures only where it owns that brand too (docs/api.md, "Competitors").

Being in the shared database (any SQLAlchemy URL), teams and keys are the same for every API replica. An older
Kaiku kept them in a SQLite file of their own (`KAIKU_API_DB`); `import_legacy_teams` copies such a file
into the database once (kaiku/wiring.py `team_store` calls it on every start).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from kaiku.db import api_keys, migrations, team_brands, teams
from kaiku.errors import ServiceError

TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
KEY_PREFIX = "kaiku"
LEGACY_IMPORT = "teams-from-api-sqlite3"  # the `migrations` row that says the legacy file was imported
logger = logging.getLogger(__name__)


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


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _key_info(row: Row[*tuple[Any, ...]]) -> KeyInfo:
    return KeyInfo(row.id, row.team, row.created_at.isoformat(timespec="seconds"), _text(row.revoked_at))


_KEY_COLUMNS = (api_keys.c.id, api_keys.c.team, api_keys.c.created_at, api_keys.c.revoked_at)


class TeamStore:
    def __init__(self, db: Engine) -> None:
        self.db = db  # tables are created by kaiku.db.open_database

    # Teams
    def create_team(self, team_id: str, name: str | None = None, brands: list[str] | None = None) -> Team:
        if not TEAM_ID.match(team_id):
            raise TeamError(f"team id {team_id!r} must be lowercase letters, digits, '-' or '_'")
        try:
            with self.db.begin() as conn:
                conn.execute(insert(teams).values(id=team_id, name=name or team_id, created_at=_now()))
                self._add_brands(conn, team_id, brands or [])
        except IntegrityError as exc:
            raise TeamExists(f"team {team_id!r} exists already") from exc
        return self.team(team_id)

    @staticmethod
    def _add_brands(conn: Connection, team_id: str, brands: list[str]) -> None:
        rows = [{"team": team_id, "brand": brand} for brand in dict.fromkeys(brands)]
        if rows:
            conn.execute(insert(team_brands), rows)

    def team(self, team_id: str) -> Team:
        with self.db.connect() as conn:
            return self._team(conn, team_id)

    @staticmethod
    def _team(conn: Connection, team_id: str) -> Team:
        row = conn.execute(select(teams).where(teams.c.id == team_id)).one_or_none()
        if row is None:
            raise TeamNotFound(f"no team {team_id!r}")
        brands = conn.scalars(
            select(team_brands.c.brand).where(team_brands.c.team == team_id).order_by(team_brands.c.brand)
        )
        created = row.created_at.isoformat(timespec="seconds")
        return Team(id=row.id, name=row.name, brands=tuple(brands), created_at=created)

    def teams(self) -> list[Team]:
        with self.db.connect() as conn:
            ids = list(conn.scalars(select(teams.c.id).order_by(teams.c.id)))
            return [self._team(conn, i) for i in ids]

    def change_team(self, team_id: str, name: str | None = None, brands: list[str] | None = None) -> Team:
        with self.db.begin() as conn:
            self._team(conn, team_id)
            if name is not None:
                conn.execute(update(teams).where(teams.c.id == team_id).values(name=name))
            if brands is not None:
                conn.execute(delete(team_brands).where(team_brands.c.team == team_id))
                self._add_brands(conn, team_id, brands)
        return self.team(team_id)

    def grant_brand(self, team_id: str, brand: str) -> None:
        """Add one brand to a team's (concurrent grants to one team all stay; a grant held already is kept)."""
        self.team(team_id)
        try:
            with self.db.begin() as conn:
                conn.execute(insert(team_brands).values(team=team_id, brand=brand))
        except IntegrityError:
            pass  # granted already (or by a concurrent request)

    def forget_brand(self, brand: str) -> None:
        """Take a deleted brand from every team."""
        with self.db.begin() as conn:
            conn.execute(delete(team_brands).where(team_brands.c.brand == brand))

    def delete_team(self, team_id: str) -> None:
        with self.db.begin() as conn:
            # The team's rows go with it, whatever the database's foreign key enforcement (off in SQLite).
            conn.execute(delete(api_keys).where(api_keys.c.team == team_id))
            conn.execute(delete(team_brands).where(team_brands.c.team == team_id))
            if conn.execute(delete(teams).where(teams.c.id == team_id)).rowcount == 0:
                raise TeamNotFound(f"no team {team_id!r}")

    # Keys
    def create_key(self, team_id: str) -> NewKey:
        self.team(team_id)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        created = _now()
        with self.db.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    id=key_id, team=team_id, salt=salt, digest=_digest(salt, secret), created_at=created
                )
            )
        info = KeyInfo(key_id, team_id, created.isoformat(timespec="seconds"), None)
        return NewKey(info, f"{KEY_PREFIX}_{key_id}_{secret}")

    def keys(self, team_id: str) -> list[KeyInfo]:
        with self.db.connect() as conn:
            self._team(conn, team_id)
            rows = conn.execute(
                select(*_KEY_COLUMNS).where(api_keys.c.team == team_id).order_by(api_keys.c.created_at, api_keys.c.id)
            )
            return [_key_info(row) for row in rows]

    def revoke_key(self, key_id: str) -> KeyInfo:
        with self.db.begin() as conn:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
            row = conn.execute(select(*_KEY_COLUMNS).where(api_keys.c.id == key_id)).one_or_none()
        if row is None:
            raise TeamNotFound(f"no key {key_id!r}")
        return _key_info(row)

    def key_and_team(self, presented: str) -> tuple[KeyInfo, Team] | None:
        """The key's record and its team if `presented` is a live key, else None (never says which part was wrong).

        Read on one connection: every API request asks both."""
        with self.db.connect() as conn:
            key = self._authenticate(conn, presented)
            return None if key is None else (key, self._team(conn, key.team))

    @staticmethod
    def _authenticate(conn: Connection, presented: str) -> KeyInfo | None:
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        _, key_id, secret = parts
        row = conn.execute(select(*_KEY_COLUMNS, api_keys.c.salt, api_keys.c.digest).where(api_keys.c.id == key_id))
        found = row.one_or_none()
        if found is None or found.revoked_at is not None:
            return None
        if not hmac.compare_digest(_digest(found.salt, secret), found.digest):
            return None
        return _key_info(found)


def import_legacy_teams(db: Engine, path: Path) -> int | None:
    """Copy the teams, brands and hashed keys of an older Kaiku's team file (`KAIKU_API_DB`) into the database, once.

    Returns how many teams were imported, or None when there was nothing to do (no file, or imported before: a
    `migrations` row records it, so a team deleted since is not brought back by a later start). The file itself is
    left as it was. Rows whose id the database holds already are kept as the database has them.
    """
    if not path.is_file():
        return None
    with db.connect() as conn:
        done = conn.execute(select(migrations.c.applied_at).where(migrations.c.name == LEGACY_IMPORT)).scalar()
    if done is not None:
        logger.info("%s was imported into the database on %s and is no longer read", path, _text(done))
        return None
    legacy = _read_legacy(path)
    try:
        with db.begin() as conn:
            # Inserted first: of two replicas starting together, the second fails here and imports nothing.
            conn.execute(insert(migrations).values(name=LEGACY_IMPORT, applied_at=_now(), detail=str(path)))
            for table, rows in legacy.items():  # teams first: the other two refer to them
                key = [column.name for column in table.primary_key]
                held = {tuple(row) for row in conn.execute(select(*table.primary_key))}
                new = [row for row in rows if tuple(row[k] for k in key) not in held]
                if new:
                    conn.execute(insert(table), new)
    except IntegrityError:
        return None  # another process imported it at the same moment
    count = len(legacy[teams])
    logger.warning(
        "imported %d teams and their keys from %s into the database; the file is no longer read", count, path
    )
    return count


def _read_legacy(path: Path) -> dict[Table, list[dict[str, Any]]]:
    """The rows of the old file, in the database's column types."""
    old = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in old.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "teams" not in tables:
            return {teams: [], team_brands: [], api_keys: []}
        when = datetime.fromisoformat
        return {
            teams: [
                {"id": i, "name": n, "created_at": when(c)}
                for i, n, c in old.execute("SELECT id, name, created_at FROM teams")
            ],
            team_brands: [{"team": t, "brand": b} for t, b in old.execute("SELECT team, brand FROM team_brands")],
            api_keys: [
                {"id": i, "team": t, "salt": s, "digest": d, "created_at": when(c), "revoked_at": r and when(r)}
                for i, t, s, d, c, r in old.execute(
                    "SELECT id, team, salt, digest, created_at, revoked_at FROM api_keys"
                )
            ],
        }
    finally:
        old.close()
