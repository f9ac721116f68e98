"""Helpers shared by the CLI modules: turning Kaiku's errors into a message and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from indexer import IndexerError
from kaiku.config import ConfigError
from sentiment import SentimentError

EXPECTED_ERRORS = (ConfigError, IndexerError, SentimentError)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a clear one-line-per-problem message and exit 2 instead of a traceback."""
    try:
        yield
    except EXPECTED_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2) from exc
