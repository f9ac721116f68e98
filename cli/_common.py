"""Helpers shared by the CLI modules: turning Kaiku's errors into a message and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import NoReturn

import typer

from core.config import ConfigError
from indexer import IndexerError
from kaiku.db import DatabaseError
from kaiku.local_engine import EngineError
from sentiment import SentimentError

EXPECTED_ERRORS: tuple[type[Exception], ...] = (ConfigError, EngineError, IndexerError, SentimentError, DatabaseError)


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a clear message and exit 2 instead of a traceback for errors a user can fix."""
    try:
        yield
    except EXPECTED_ERRORS as exc:
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
