"""Helpers shared by the CLI modules: Kaiku's errors become a message and an exit code here, once.

Exit codes: 0 everything went through; 1 the command ran but part of its work failed (mentions not indexed,
an engine that is not running); 2 it could not do its work for a reason the user can fix: every `KaikuError`
(configuration, store, model, database, crawl start, teams, ...), or a bad argument."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import NoReturn

import typer

from core.errors import KaikuError

USER_ERROR = 2


def fail(message: str, code: int = USER_ERROR) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a clear message and exit 2 instead of a traceback for errors a user can fix."""
    try:
        yield
    except KaikuError as exc:
        fail(str(exc))


def parse_now(text: str | None) -> datetime:
    """`--now` for commands with a controllable clock: ISO 8601, naive means UTC; unset means the real time."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        fail(f"--now: not an ISO 8601 time: {text!r} (e.g. 2026-11-20T12:40:00+00:00)")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
