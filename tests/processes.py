"""Kaiku's own processes started as a user starts them, for tests that stop or kill them."""

from __future__ import annotations

import subprocess
import sys


def start_scheduler(environment: dict[str, str], *options: str) -> tuple[subprocess.Popen[str], str]:
    """`kaiku scheduler [options]` in a new process, once it says it is running, and what it printed until then."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "scheduler", *options],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("scheduler running"):
            return process, "".join(lines)
    process.wait(timeout=10)
    raise AssertionError(f"the scheduler did not start (exit {process.returncode}):\n{''.join(lines)}")
