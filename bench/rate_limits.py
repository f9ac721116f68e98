"""What counting rate limits in the shared database costs per request, next to counting them in process memory.

    python bench/rate_limits.py [--requests 2000] [--keys 50]

Times `RateLimits.take` (a key's and its team's window, checked and spent: what every authenticated request does)
on each storage of KAIKU_RATE_LIMIT_STORAGE: `memory://` and `database` on a SQLite file (the default database). Keys
are spread over `--keys` keys of 10 teams; the budgets are large enough that nothing is refused. Prints p50 and p95
in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from api.ratelimit import Budget, RateLimits, open_storage
from kaiku.db import open_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--keys", type=int, default=50)
    args = parser.parse_args()
    budget = Budget(per_minute=1_000_000, burst=1_000_000)
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'kaiku.db'}")
        for uri in ("memory://", "database"):
            limits = RateLimits(budget, budget, budget, open_storage(uri, db))
            times = []
            for n in range(args.requests):
                started = time.perf_counter()
                assert limits.take(f"key{n % args.keys}", f"team{n % 10}") == 0.0
                times.append((time.perf_counter() - started) * 1000)
            p95 = statistics.quantiles(times, n=20)[18]
            print(f"{uri:10} {args.requests} requests: p50 {statistics.median(times):.3f} ms, p95 {p95:.3f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
