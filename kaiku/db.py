"""Kaiku's own state in a SQL database (SQLite by default, any SQLAlchemy URL by setting).

The search engine holds mentions; this database holds what Kaiku decides about them: incidents, the email
outbox, follow-up cases and the scheduler's job results; and what every API replica must agree on: teams, their
hashed API keys (kaiku/teams.py) and the rate limits' recent requests (api/ratelimit.py). Tables are defined here,
in one place, with SQLAlchemy Core; `open_database` creates whatever is missing, so a fresh data folder needs no
migration step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from kaiku.errors import ServiceError


class DatabaseError(ServiceError):
    """Kaiku's database cannot be opened or used."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out -- SQLite would otherwise hand back naive ones."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", String(100), nullable=False, index=True),
    Column("brand", String(100), nullable=False),
    Column("experience", String(20), nullable=False),
    Column("status", String(10), nullable=False),  # open | closed
    Column("start", UTCDateTime, nullable=False),  # first slot of the spike
    Column("end", UTCDateTime, nullable=False),  # exclusive end of its last slot so far
    Column("peak", UTCDateTime, nullable=False),
    Column("peak_value", Float, nullable=False),
    Column("baseline", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("severity", String(10), nullable=False),
    Column("window_seconds", Integer, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),  # when a check first saw it
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # One email per (incident, recipient) or (case reminder, owner): a second enqueue is a no-op.
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),  # alert | reminder
    Column("recipient", String(320), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("message", Text, nullable=False),  # the whole RFC 5322 message, exactly as it will be sent
    Column("status", String(10), nullable=False, index=True),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claim_token", String(32)),  # who is sending it now; marking it sent checks this token
    Column("claimed_until", UTCDateTime),  # a sender that crashed mid-send loses its claim after this
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mention_id", String(64), nullable=False, unique=True),
    Column("brand", String(100), nullable=False),
    Column("mention_url", Text, nullable=False),
    Column("owner", String(320), nullable=False),
    Column("language", String(5), nullable=False),  # of the reminder email: en | fi
    Column("status", String(20), nullable=False, index=True),  # open | responded | followed_up | closed
    Column("note", Text),
    Column("incident_id", Integer, ForeignKey("incidents.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("responded_at", UTCDateTime),
    Column("follow_up_at", UTCDateTime),
    Column("reminder_queued_at", UTCDateTime),
)

crawl_counters = Table(
    "crawl_counters",
    metadata,
    Column("source_id", String(200), primary_key=True),
    Column(
        "counter", String(200), primary_key=True
    ),  # e.g. requests, indexed, experience/anger (kaiku/crawl_counters.py)
    Column("value", Integer, nullable=False),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("job_id", String(200), primary_key=True),
    Column("last_run_at", UTCDateTime, nullable=False),
    Column("last_status", String(10), nullable=False),  # ok | error | missed
    Column("last_result", Text),
)


teams = Table(
    "teams",
    metadata,
    Column("id", String(63), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

team_brands = Table(
    "team_brands",
    metadata,
    Column("team", String(63), ForeignKey("teams.id"), primary_key=True),
    Column("brand", String(100), primary_key=True, index=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # the public part of the key: kaiku_<id>_<secret>
    Column("team", String(63), ForeignKey("teams.id"), nullable=False, index=True),
    Column("salt", LargeBinary(16), nullable=False),
    Column("digest", LargeBinary(32), nullable=False),  # SHA-256 of salt + secret; the secret is never stored
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False),  # limit and caller, as the `limits` library names it
    Column("amount", Integer, nullable=False),
    Column("at", Float, nullable=False),  # Unix time of the request
    Column("expires_at", Float, nullable=False, index=True),  # when it leaves the window
    # What every request counts: a key's requests still in their window, read from the index alone rather than
    # every row the key ever left there (expired rows are deleted once a minute).
    Index("rate_limit_hits_window", "key", "expires_at", "amount", "at"),
)

migrations = Table(
    "migrations",
    metadata,
    Column("name", String(100), primary_key=True),  # one-off data moves done on this database, e.g. legacy teams
    Column("applied_at", UTCDateTime, nullable=False),
    Column("detail", Text),
)


# Indexes of older files that a newer one replaced: `ix_rate_limit_hits_key` by `rate_limit_hits_window`.
RETIRED_INDEXES = ("ix_rate_limit_hits_key",)


def ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def open_database(url: str) -> Engine:
    """An engine to Kaiku's database with every table in place (created when missing)."""
    try:
        ensure_sqlite_folder(url)
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            # Several threads (scheduler jobs, API) share one file: wait for a writer instead of failing at once.
            # Write-ahead logging: readers do not wait for a writer. Every API request commits its rate limits
            # here (bench/rate_limits.py): with synchronous = NORMAL a commit is not synced (0.02 instead of 0.36 ms
            # here, and no other worker waits behind an fsync); the log is synced at each checkpoint, and a crashed
            # process loses no commit: an operating system crash or power cut may lose the last ones (SQLite's
            # advice for WAL, as the mention store does).
            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.execute("PRAGMA busy_timeout = 30000")
                if make_url(url).database not in (None, "", ":memory:"):
                    dbapi_connection.execute("PRAGMA journal_mode = WAL")
                    dbapi_connection.execute("PRAGMA synchronous = NORMAL")

        metadata.create_all(engine)
        for table in metadata.sorted_tables:  # create_all leaves an existing table without the indexes added since
            for index in table.indexes:
                index.create(engine, checkfirst=True)
        with engine.begin() as conn:  # and with those replaced since, which every insert would still write
            for name in RETIRED_INDEXES:
                conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    except (SQLAlchemyError, OSError, ValueError) as exc:
        raise DatabaseError(f"cannot open the database {url!r}: {exc}") from exc
    return engine


def utcnow() -> datetime:
    return datetime.now(UTC)
