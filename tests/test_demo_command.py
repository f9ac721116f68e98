"""`kaiku demo --no-serve` against the session's engine: the README's first command, minus the install."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaiku.cli import app
from kaiku.engine import LocalEngine, free_port
from kaiku.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("store", ["embedded", "elasticsearch"])
def test_demo_crawls_scores_indexes_and_prints_requests(
    request: pytest.FixtureRequest, store: str, converted_cache: Path, alias: str, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    if store == "elasticsearch":
        engine: LocalEngine = request.getfixturevalue("engine")
        monkeypatch.setenv("KAIKU_ELASTICSEARCH_URL", engine.url)
    else:
        monkeypatch.delenv("KAIKU_ELASTICSEARCH_URL", raising=False)
    monkeypatch.setenv("KAIKU_MODEL_CACHE_DIR", str(converted_cache))
    monkeypatch.setenv("KAIKU_INDEX_ALIAS", alias)
    monkeypatch.setenv("KAIKU_DEMO_SITE_PORT", str(free_port()))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "--no-serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "indexed 29, index failures: none" in result.output
    assert "store: 29 scored mentions" in result.output
    if store == "embedded":
        assert (tmp_path / "data" / "mentions.sqlite3").exists()
    assert "/v1/mentions?brand=revontuli&experience=anger" in result.output
    assert "Authorization: Bearer kaiku_" in result.output
