"""CPU priority of background work: a crawl (and the scoring inside it) yields the CPU to the API's requests."""

from __future__ import annotations

import os


def lower_priority(niceness: int) -> int:
    """Run this process at `niceness` (0-19) at least from now on; returns the niceness it runs at.

    Call it before the process starts its threads (the scheduler's pool, torch's): on Linux each thread has its
    own niceness and a new one takes its creator's. Only ever lowers the priority: an unprivileged process cannot
    raise it back, and one started under `nice` at a lower priority keeps its own.
    """
    if not hasattr(os, "nice"):  # not a POSIX system
        return 0
    current = os.nice(0)
    return os.nice(niceness - current) if niceness > current else current
