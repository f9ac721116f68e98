"""`kaiku keys`: the key it prints authenticates against the team store; errors are messages, exit 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from core.settings import Settings, get_settings
from kaiku.wiring import team_store

pytestmark = pytest.mark.unit


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))

    def invoke(*args: str):
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args))

    yield invoke
    get_settings.cache_clear()


def test_create_list_revoke(run, tmp_path: Path) -> None:
    created = run("keys", "create", "--team", "marketing", "--brand", "revontuli")
    assert created.exit_code == 0, created.output
    assert "team marketing (brands: revontuli)" in created.output
    key = created.output.strip().splitlines()[-1]
    store = team_store(Settings(data_dir=tmp_path / "data"))
    found = store.key_and_team(key)
    assert found is not None and found[0].team == "marketing" and found[1].brands == ("revontuli",)
    info = found[0]
    second = run("keys", "create", "--team", "marketing", "--brand", "tunturi")
    assert "brands: revontuli, tunturi" in second.output
    listed = run("keys", "list", "--team", "marketing")
    assert listed.output.count("active") == 2 and key not in listed.output
    assert run("keys", "revoke", info.id).exit_code == 0
    assert store.key_and_team(key) is None
    assert "revoked" in run("keys", "list", "--team", "marketing").output


def test_errors_name_the_problem(run) -> None:
    unknown = run("keys", "create", "--team", "marketing", "--brand", "nosuch")
    assert unknown.exit_code == 2 and "--brand: unknown brands nosuch" in unknown.output
    bad_id = run("keys", "create", "--team", "Bad Team")
    assert bad_id.exit_code == 2 and "team id" in bad_id.output
    assert run("keys", "list", "--team", "ghost").exit_code == 2
    assert run("keys", "revoke", "nope").exit_code == 2
