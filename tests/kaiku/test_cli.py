"""The `kaiku` command as a user runs it: clear messages and exit codes, never a bare traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaiku.cli import app
from kaiku.engine import free_port
from kaiku.settings import get_settings


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    """Invoke the CLI with its own data dir; settings are rebuilt for every invocation."""
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KAIKU_ELASTICSEARCH_URL", raising=False)

    def invoke(*args: str, **env: str):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args))

    yield invoke
    get_settings.cache_clear()


@pytest.mark.unit
def test_unreachable_engine_is_a_message_and_exit_2(run) -> None:
    result = run("index", "init", KAIKU_ELASTICSEARCH_URL="http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "not reachable" in result.output
    assert "Traceback" not in result.output


@pytest.mark.unit
def test_invalid_setting_names_the_variable(run) -> None:
    result = run("index", "init", KAIKU_ENGINE_PORT="ninety")
    assert result.exit_code == 2
    assert "KAIKU_ENGINE_PORT" in result.output


@pytest.mark.integration
def test_engine_lifecycle_and_index_init(run) -> None:
    port = str(free_port())
    assert run("engine", "status", KAIKU_ENGINE_PORT=port).exit_code == 1
    started = run("engine", "start", KAIKU_ENGINE_PORT=port)
    try:
        assert started.exit_code == 0, started.output
        assert f"127.0.0.1:{port}" in started.output
        assert run("engine", "status").exit_code == 0
        first = run("index", "init")
        again = run("index", "init")
        assert first.exit_code == again.exit_code == 0
        assert first.output == again.output
    finally:
        assert run("engine", "stop").output.strip() == "engine stopped"
    assert run("engine", "status").exit_code == 1
    assert run("engine", "stop").output.strip() == "engine was not running"


@pytest.mark.unit
def test_engine_commands_refuse_a_remote_cluster(run) -> None:
    result = run("engine", "start", KAIKU_ELASTICSEARCH_URL="https://es.example:9200")
    assert result.exit_code == 2
    assert "KAIKU_ELASTICSEARCH_URL" in result.output


@pytest.mark.integration
def test_index_replay_drains_the_spool(run, engine, tmp_path: Path) -> None:
    from indexer.spool import Spool
    from tests.indexer.test_indexer import make_mention

    alias = "replay-cli"
    Spool(tmp_path / "data" / "spool").append([make_mention(n) for n in range(3)])
    result = run("index", "replay", KAIKU_ELASTICSEARCH_URL=engine.url, KAIKU_INDEX_ALIAS=alias)
    assert result.exit_code == 0, result.output
    assert "replayed 3, failed 0, still spooled 0" in result.output
    assert run("index", "replay").output.startswith("replayed 0")
