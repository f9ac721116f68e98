"""The layers of docs/design.md §3 point one way: import-linter checks the contracts in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

pytestmark = pytest.mark.unit

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_imports_follow_the_layers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(PYPROJECT.parent)  # the root packages are found from the checkout
    status = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out  # the report names each import that breaks a contract
