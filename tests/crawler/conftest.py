"""Fixtures for the crawler tests: fake stats, the configuration and the demo site (the keyword classifier and the
collecting writer are in bench/stand_ins.py, shared with the benchmarks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.demo.server import DemoSite, serve_site
from core.config import KaikuConfig, load_config

PAGES = Path(__file__).resolve().parent / "pages"
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


class FakeStats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count

    def get_value(self, key: str, default: int | None = None) -> int | None:
        return self.values.get(key, default)


@pytest.fixture(scope="session")
def kaiku_config() -> KaikuConfig:
    return load_config(CONFIGS)


@pytest.fixture(scope="module")
def demo_site() -> Iterator[DemoSite]:
    site = serve_site(port=0)
    yield site
    site.stop()
