"""CPU priority of background work: a crawl (and the scoring inside it) yields the CPU to the API's requests."""

from __future__ import annotations

import os
from pathlib import Path

_THREADS = Path("/proc/self/task")  # Linux: one entry per thread of this process


def lower_priority(niceness: int) -> int:
    """Run this process at `niceness` (0-19) at least from now on; returns the niceness it runs at.

    On Linux each thread has a niceness of its own and a new thread takes its creator's: every thread running now
    (a library's pool started at import) is lowered, and threads started later inherit it. Only ever lowers the
    priority: an unprivileged process cannot raise it back, and one started under `nice` at a lower priority keeps
    its own.
    """
    if not hasattr(os, "setpriority"):  # not a POSIX system
        return 0
    threads = [int(entry.name) for entry in _THREADS.iterdir()] if _THREADS.is_dir() else [0]
    for thread in threads:
        try:
            if os.getpriority(os.PRIO_PROCESS, thread) < niceness:
                os.setpriority(os.PRIO_PROCESS, thread, niceness)
        except ProcessLookupError:  # the thread ended meanwhile
            continue
    return os.getpriority(os.PRIO_PROCESS, 0)
