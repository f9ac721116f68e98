"""Rate limits with the `limits` library: per API key, per team, and for failed logins per client address.

Each budget is a moving window (limits' MovingWindowRateLimiter): at most `burst` requests in any window of
`burst / per_minute` minutes, so a key may send its burst at once and `per_minute` a minute on average. A request
spends one, a heavy one (a costly text query, indexer/search_text.py) more. A request is allowed only when both its
key's and its team's budget can pay, so a team cannot multiply its budget by making more keys. A request finding a
budget spent gets 429 with Retry-After (seconds until the oldest request leaves the window). Failed authentications
spend the client address's budget, so a client guessing keys is refused (429) before its guesses are even checked.

Where the windows are kept is `KAIKU_RATE_LIMIT_STORAGE`: `database` (the default) keeps them in Kaiku's database
(`DatabaseStorage` below), which every API replica shares, so all replicas spend one budget; any storage URI of the
`limits` library works too (`redis://host:6379`, ...), and `memory://` keeps them in each process (each replica then
has a budget of its own).

Tokens bound how many requests a team sends, not how long the store works on them: a team may also have at most
`searches_in_flight` searches running at once, and all teams together at most `expanding_searches_in_flight`
searches with prefix or fuzzy terms (the ones a store expands into many terms): 429 beyond, so that however a team
spends its budget it holds only a bounded share of the store. These slots are counted in each API process: with
several replicas, each holds this many.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import ConfigurationError
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine, bindparam, create_engine, delete, event, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from kaiku.db import rate_limit_hits

DATABASE = "database"  # KAIKU_RATE_LIMIT_STORAGE for Kaiku's own database
CLEANUP_EVERY = 60.0  # seconds between deletions of requests that left every window
REFUSAL_MEMORY_S = 1.0  # how long an API process refuses a key on its own after the budgets refused it
logger = logging.getLogger(__name__)


# Built once: every request runs these, and building a statement costs more than SQLite takes to run it.
_ADD = insert(rate_limit_hits)
_WINDOW = select(func.min(rate_limit_hits.c.at), func.coalesce(func.sum(rate_limit_hits.c.amount), 0)).where(
    rate_limit_hits.c.key == bindparam("key"), rate_limit_hits.c.expires_at > bindparam("now")
)
_TAKE_BACK = delete(rate_limit_hits).where(rate_limit_hits.c.id == bindparam("row"))
_WINDOWS = (
    select(rate_limit_hits.c.key, func.sum(rate_limit_hits.c.amount))
    .where(
        rate_limit_hits.c.key.in_(bindparam("keys", expanding=True)), rate_limit_hits.c.expires_at > bindparam("now")
    )
    .group_by(rate_limit_hits.c.key)
)


class DatabaseStorage(Storage, MovingWindowSupport):
    """A `limits` storage on Kaiku's database: one row per request in a window, shared by every process using it.

    A request is first written, then the window counted with it: if the count is over the limit, the row is taken
    back and the request refused. Two processes racing for the last place may then both be refused, never both
    allowed, so the budget holds across replicas whatever the database's isolation level.
    """

    def __init__(self, db: Engine, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.db = _unsynced(db) if db.dialect.name == "sqlite" else db
        self.clock = clock
        self._cleaned_at = -math.inf

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def close(self) -> None:
        self.db.dispose()  # closes the pooled connections; an engine used again opens new ones

    def _add(self, key: str, amount: int, now: float, expires_at: float) -> int:
        with self.db.begin() as conn:
            added = conn.execute(_ADD, {"key": key, "amount": amount, "at": now, "expires_at": expires_at})
            return int(added.inserted_primary_key[0])  # type: ignore[index]  # always set after an insert

    def _window(self, key: str, now: float) -> tuple[float | None, int]:
        """The oldest request of `key` still in its window, and the requests there (their amounts)."""
        with self.db.connect() as conn:
            oldest, count = conn.execute(_WINDOW, {"key": key, "now": now}).one()
        return oldest, int(count)

    def _clean(self, now: float) -> None:
        if now - self._cleaned_at < CLEANUP_EVERY:
            return
        self._cleaned_at = now
        with self.db.begin() as conn:
            conn.execute(delete(rate_limit_hits).where(rate_limit_hits.c.expires_at <= now))

    # The moving window (what RateLimits uses)
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = self.clock()
        self._clean(now)
        row = self._add(key, amount, now, now + expiry)
        if self._window(key, now)[1] <= limit:
            return True
        with self.db.begin() as conn:
            conn.execute(_TAKE_BACK, {"row": row})
        return False

    def acquire_entries(self, entries: Sequence[tuple[str, int, int, int]]) -> bool:
        """`acquire_entry` for several windows at once, (key, limit, expiry, amount) each: all or none spent.

        What RateLimits.take asks on every request (a key's and its team's window): written in one commit and
        counted in one statement, rather than a check, a write and a count per window (8 statements, 2 commits).
        Refused, the rows are taken back in a second commit. As with acquire_entry, two processes racing for the
        last places may both be refused, never both allowed.
        """
        if any(amount > limit for _, limit, _, amount in entries):
            return False
        now = self.clock()
        self._clean(now)
        rows = [
            {"key": key, "amount": amount, "at": now, "expires_at": now + expiry} for key, _, expiry, amount in entries
        ]
        with self.db.begin() as conn:
            added = [int(conn.execute(_ADD, row).inserted_primary_key[0]) for row in rows]  # type: ignore[index]
        with self.db.connect() as conn:
            counted = dict(conn.execute(_WINDOWS, {"keys": [key for key, *_ in entries], "now": now}).all())
        if all(counted.get(key, 0) <= limit for key, limit, _, _ in entries):
            return True
        with self.db.begin() as conn:
            conn.execute(delete(rate_limit_hits).where(rate_limit_hits.c.id.in_(added)))
        return False

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = self.clock()
        oldest, count = self._window(key, now)
        return (now, 0) if oldest is None else (float(oldest), count)

    # The fixed window, which the Storage interface requires: the window starts with its first request.
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.clock()
        self._clean(now)
        self._add(key, amount, now, self.get_expiry(key) if self.get(key) else now + expiry)
        return self.get(key)

    def get(self, key: str) -> int:
        return self._window(key, self.clock())[1]

    def get_expiry(self, key: str) -> float:
        now = self.clock()
        live = (rate_limit_hits.c.key == key) & (rate_limit_hits.c.expires_at > now)
        with self.db.connect() as conn:
            expiry = conn.scalar(select(func.min(rate_limit_hits.c.expires_at)).where(live))
        return now if expiry is None else float(expiry)

    def check(self) -> bool:
        try:
            with self.db.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.db.begin() as conn:
            return conn.execute(delete(rate_limit_hits)).rowcount

    def clear(self, key: str) -> None:
        with self.db.begin() as conn:
            conn.execute(delete(rate_limit_hits).where(rate_limit_hits.c.key == key))


def _unsynced(db: Engine) -> Engine:
    """Connections to the same SQLite file whose commits are not flushed to disk one by one.

    Every API request writes its key's and team's window: with a flush per commit that costs milliseconds on a
    disk that syncs slowly (bench/rate_limits.py). In write-ahead-log mode (kaiku/db.py sets it) `synchronous =
    NORMAL` keeps the file consistent; a power cut may only forget the last moments' requests, which are nothing
    but counts. The database's other tables keep their own connections, which flush every commit.
    """
    engine = create_engine(db.url)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    return engine


def open_storage(uri: str, db: Engine) -> Storage:
    """The storage KAIKU_RATE_LIMIT_STORAGE names: `database` (Kaiku's database, `db`) or a `limits` storage URI."""
    if uri == DATABASE:
        return DatabaseStorage(db)
    try:
        storage = storage_from_string(uri)
    except (ConfigurationError, ValueError) as exc:
        raise ValueError(
            f"KAIKU_RATE_LIMIT_STORAGE={uri!r}: {exc} (give `database`, `memory://` or a storage URI of the "
            "`limits` library, e.g. redis://host:6379, with its client installed)"
        ) from exc
    if not isinstance(storage, Storage) or not isinstance(storage, MovingWindowSupport):
        raise ValueError(f"KAIKU_RATE_LIMIT_STORAGE={uri!r}: not a synchronous storage with moving windows")
    return storage


@dataclass(frozen=True)
class Budget:
    """`per_minute` requests a minute on average, `burst` of them at once: `burst` per burst/per_minute minutes."""

    per_minute: int
    burst: int

    def item(self, namespace: str) -> RateLimitItem:
        # limits counts windows in whole seconds: rounded up, so the rate is never above the configured one.
        window = math.ceil(self.burst * 60 / self.per_minute)
        if window * self.per_minute != self.burst * 60:
            logger.warning(
                "rate limit %s: %d requests per %d s (%.1f a minute): per minute and burst do not give a whole "
                "second's window, so the window was rounded up",
                namespace, self.burst, window, self.burst * 60 / window,
            )  # fmt: skip
        return RateLimitItemPerSecond(self.burst, window, namespace=namespace)


def _digest(presented: str) -> bytes:
    """What RecentRefusals keeps of a presented key: never the key itself."""
    return hashlib.sha256(presented.encode()).digest()


class RecentRefusals:
    """The keys this process's budgets refused a moment ago, refused again without reading the database.

    A key that keeps sending past its budget (a flood, a runaway script) otherwise costs a key lookup and a window
    count in the database for every refusal, on the cores the other teams' requests need. A refusal is remembered
    for REFUSAL_MEMORY_S, or its wait if shorter: no place in a moving window frees before the wait is over, so
    nothing is refused that the budgets would allow, except for that second after an operator resets the limits
    (and a key revoked meanwhile gets 429 instead of 401 for that second). Keyed by a digest of the presented key,
    which had been authenticated before it was refused.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, most: int = 10_000) -> None:
        self._clock = clock
        self._most = most
        self._refused: dict[bytes, tuple[float, float]] = {}  # digest -> (remembered until, the wait's end)
        self._lock = threading.Lock()

    def wait(self, presented: str) -> float:
        """Seconds left of a remembered refusal of this key, else 0.0."""
        found = self._refused.get(_digest(presented))
        now = self._clock()
        if found is None or now >= found[0]:
            return 0.0
        return found[1] - now

    def remember(self, presented: str, wait: float) -> None:
        now = self._clock()
        with self._lock:
            if len(self._refused) >= self._most:  # many keys refused at once: keep the memory bounded
                self._refused = {k: v for k, v in self._refused.items() if v[0] > now}
                if len(self._refused) >= self._most:
                    self._refused.clear()
            self._refused[_digest(presented)] = (now + min(wait, REFUSAL_MEMORY_S), now + wait)


class RateLimits:
    """The API's limits: per key and per team (spent together), and failed authentications per address."""

    def __init__(
        self,
        key: Budget,
        team: Budget,
        auth_failures: Budget,
        storage: Storage,
        searches_in_flight: int = 2,
        expanding_searches_in_flight: int = 1,
    ) -> None:
        self.limiter = MovingWindowRateLimiter(storage)
        self.key = key.item("key")
        self.team = team.item("team")
        self.auth_failures = auth_failures.item("auth-failures")
        self.searches_in_flight = searches_in_flight
        self.expanding_searches_in_flight = expanding_searches_in_flight
        self._searching: Counter[str] = Counter()
        self._expanding = 0
        # Retry-After is counted on the storage's clock (the memory storage's is time.time).
        self._clock: Callable[[], float] = getattr(storage, "clock", time.time)
        self._lock = threading.Lock()  # this process's key and team windows are checked and spent as one step
        self.recent_refusals = RecentRefusals()

    def _wait(self, item: RateLimitItem, identifier: str) -> float:
        """Seconds until the oldest request in the window leaves it."""
        reset = self.limiter.get_window_stats(item, identifier).reset_time
        return max(reset - self._clock(), 0.001)

    def take(self, key_id: str, team: str | None, cost: int = 1) -> float:
        """Spend `cost` of the key's and the team's budget (the admin has no team): 0.0 or seconds to wait.

        On Kaiku's database both are spent together and taken back together when either is over (two requests
        racing for the last place may both be refused, never both allowed). On another `limits` storage both are
        checked before either is spent; a replica spending the team's last place between the check and the
        spending can cost the key one place for a refused request, never more than the budgets allow.
        A cost above a burst waits for an empty window and takes all of it.
        """
        budgets = [(self.key, key_id)] + ([(self.team, team)] if team is not None else [])
        storage = self.limiter.storage
        if isinstance(storage, DatabaseStorage):  # both windows in one commit and one count: every request pays this
            entries = [
                (item.key_for(who), item.amount, item.get_expiry(), min(cost, item.amount)) for item, who in budgets
            ]
            if storage.acquire_entries(entries):
                return 0.0
            short = [(item, who) for (item, who), entry in zip(budgets, entries, strict=True)
                     if not self.limiter.test(item, who, cost=entry[3])]  # fmt: skip
            return max((self._wait(item, who) for item, who in short), default=0.001)  # none: a race, retry soon
        with self._lock:
            spent = [(item, who, min(cost, item.amount)) for item, who in budgets]
            short = [(item, who) for item, who, price in spent if not self.limiter.test(item, who, cost=price)]
            if short:
                return max(self._wait(item, who) for item, who in short)
            for item, who, price in spent:
                if not self.limiter.hit(item, who, cost=price):
                    return self._wait(item, who)
        return 0.0

    @contextmanager
    def search_slot(self, owner: str, expanding: bool = False) -> Iterator[str | None]:
        """Hold one of the owner's (a team's, or the admin key's) search slots, and for a search with prefix or
        fuzzy terms one of the slots all such searches share. Yields None, or why no slot was free."""
        with self._lock:
            refused = None
            if self._searching[owner] >= self.searches_in_flight:
                refused = f"this team already has {self.searches_in_flight} searches running"
            elif expanding and self._expanding >= self.expanding_searches_in_flight:
                refused = f"{self.expanding_searches_in_flight} searches with prefix or fuzzy terms are running"
            else:
                self._searching[owner] += 1
                self._expanding += expanding
        try:
            yield refused
        finally:
            if refused is None:
                with self._lock:
                    self._expanding -= expanding
                    self._searching[owner] -= 1
                    if not self._searching[owner]:
                        del self._searching[owner]

    def close(self) -> None:
        if isinstance(self.limiter.storage, DatabaseStorage):
            self.limiter.storage.close()

    def auth_blocked(self, address: str) -> float:
        """Seconds this address must wait before its next key is even checked (0.0: go ahead)."""
        if self.limiter.test(self.auth_failures, address):
            return 0.0
        return self._wait(self.auth_failures, address)

    def auth_failed(self, address: str) -> None:
        self.limiter.hit(self.auth_failures, address)


def retry_after_header(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
