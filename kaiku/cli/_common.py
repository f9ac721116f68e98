"""Helpers shared by the CLI modules: turning Kaiku's errors into a message and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from indexer import IndexerError
from kaiku.config import ConfigError
from kaiku.engine import EngineError
from sentiment import SentimentError

EXPECTED_ERRORS: tuple[type[Exception], ...] = (ConfigError, EngineError, IndexerError, SentimentError)


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
