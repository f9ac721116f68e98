"""The `kaiku` command as a user runs it: clear messages and exit codes, never a bare traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli import app
from core.settings import get_settings
from kaiku.local_engine import free_port


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
def test_status_of_a_stopped_engine_is_one_line_and_exit_1(run) -> None:
    port = free_port()
    result = run("engine", "status", KAIKU_ENGINE_PORT=str(port))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"local engine at http://127.0.0.1:{port}: not running (start it: kaiku engine start)"
    ]
    remote = run("engine", "status", KAIKU_ELASTICSEARCH_URL=f"http://127.0.0.1:{port}")
    assert remote.exit_code == 1
    assert remote.output.splitlines() == [
        f"remote cluster at http://127.0.0.1:{port}: not running (check KAIKU_ELASTICSEARCH_URL)"
    ]


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the tree (typer's own click types: matched by their attributes)."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


@pytest.mark.unit
def test_boolean_options_are_flags_and_help_shows_no_bool_value(run) -> None:
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) > 20
    bool_options = 0
    for path, command in commands:
        for param in command.params:
            if getattr(param, "type_descriptor", None) and param.type_descriptor.annotation is bool:
                bool_options += 1
                assert param.is_flag, f"kaiku {' '.join(path)} {param.opts[0]} takes a value: make it a flag"
        shown = run(*path, "--help")
        assert shown.exit_code == 0, (path, shown.output)
        assert "<bool>" not in shown.output and "BOOLEAN" not in shown.output, (path, shown.output)
    assert bool_options >= 5
    # A flag is given bare; the --no- form turns it off.
    assert "--deliver / --no-deliver" in run("alerts", "check", "--help").output


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


@pytest.mark.unit
def test_demo_makes_an_admin_key_for_the_api_it_serves_and_never_prints_a_configured_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from cli.demo.run import with_admin_key
    from core.settings import Settings

    settings, line = with_admin_key(Settings(data_dir=tmp_path, elasticsearch_url="http://127.0.0.1:9"), True)
    assert settings.admin_key is not None
    key = settings.admin_key.get_secret_value()
    assert line.endswith(key) and len(key) > 30
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/admin/teams", headers={"Authorization": f"Bearer {key}"}).status_code == 200

    configured = Settings(data_dir=tmp_path, admin_key="the-operators-secret")
    kept, line = with_admin_key(configured, True)
    assert kept.admin_key == configured.admin_key and "the-operators-secret" not in line
    unchanged, line = with_admin_key(Settings(data_dir=tmp_path), False)  # --no-serve: no API to make one for
    assert unchanged.admin_key is None and "KAIKU_ADMIN_KEY" in line
