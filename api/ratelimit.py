"""Rate limiting in process memory: token buckets per API key, per team, and for failed logins per address.

Each bucket holds up to `burst` tokens and refills at `per_minute`; a request spends one token, a heavy one
(a costly text query, api/query_cost.py) more. A request is allowed only when both its key's and its team's
bucket can pay, so a team cannot multiply its budget by making more keys. A request finding a bucket empty
gets 429 with Retry-After (seconds until the tokens are back). Failed authentications spend tokens of the
client address's bucket, so a client guessing keys is refused (429) before its guesses are even checked.
Limits are per API process.

Tokens bound how many requests a team sends, not how long the store works on them: a team may also have at
most `searches_in_flight` searches running at once, and all teams together at most
`expanding_searches_in_flight` searches with prefix or fuzzy terms (the ones a store expands into many terms):
429 beyond, so that however a team spends its budget it holds only a bounded share of the store, and other
teams' ordinary searches do not queue behind it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

MAX_BUCKETS = 100_000  # beyond this many keys/addresses, full (idle) buckets are forgotten: memory stays bounded


class TokenBuckets:
    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def _wait(self, tokens: float, cost: float) -> float:
        # A cost above the burst could never be paid in full: it waits for a full bucket and takes it all.
        return max(0.0, min(cost, self.burst) - tokens) / self.rate

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens of `key`: 0.0 when allowed, else the seconds to wait before trying again."""
        with self._lock:
            return take_together([(self, key)], cost)

    def peek(self, key: str, cost: float = 1.0) -> float:
        """The seconds until `key` could spend `cost` tokens (0.0: now), spending nothing."""
        with self._lock:
            return self._wait(self._tokens(key, self._clock()), cost)

    def _spend(self, key: str, cost: float, now: float) -> None:
        self._buckets[key] = (max(0.0, self._tokens(key, now) - cost), now)
        if len(self._buckets) > MAX_BUCKETS:
            self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        for key in [k for k in self._buckets if self._tokens(k, now) >= self.burst]:
            del self._buckets[key]


def take_together(buckets: Sequence[tuple[TokenBuckets, str]], cost: float = 1.0) -> float:
    """Spend `cost` from every (buckets, key) pair, or from none: 0.0 when allowed, else the longest wait.

    The caller holds whatever lock serialises these buckets (TokenBuckets.take holds its own).
    """
    waits = []
    for bucket, key in buckets:
        waits.append(bucket._wait(bucket._tokens(key, bucket._clock()), cost))
    if max(waits, default=0.0) > 0:
        return max(waits)
    for bucket, key in buckets:
        bucket._spend(key, cost, bucket._clock())
    return 0.0


class RateLimits:
    """The API's limits: per key and per team (spent together), and failed authentications per address."""

    def __init__(
        self,
        key_per_minute: int,
        key_burst: int,
        team_per_minute: int,
        team_burst: int,
        auth_failures_per_minute: int,
        auth_failure_burst: int,
        searches_in_flight: int = 2,
        expanding_searches_in_flight: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.searches_in_flight = searches_in_flight
        self.expanding_searches_in_flight = expanding_searches_in_flight
        self._searching: Counter[str] = Counter()
        self._expanding = 0
        self.keys = TokenBuckets(key_per_minute, key_burst, clock)
        self.teams = TokenBuckets(team_per_minute, team_burst, clock)
        self.auth_failures = TokenBuckets(auth_failures_per_minute, auth_failure_burst, clock)
        self._lock = threading.Lock()  # key and team buckets are checked and spent as one step

    def take(self, key_id: str, team: str | None, cost: float = 1.0) -> float:
        """Spend `cost` of the key's and the team's budget (the admin has no team): 0.0 or seconds to wait."""
        pairs = [(self.keys, key_id)] + ([(self.teams, team)] if team is not None else [])
        with self._lock:
            return take_together(pairs, cost)

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

    def auth_blocked(self, address: str) -> float:
        """Seconds this address must wait before its next key is even checked (0.0: go ahead)."""
        return self.auth_failures.peek(address)

    def auth_failed(self, address: str) -> None:
        self.auth_failures.take(address)


def retry_after_header(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
