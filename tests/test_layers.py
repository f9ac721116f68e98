"""The layers of docs/design.md §3 point one way: import-linter checks the contracts in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
# In a fresh process, from the checkout: run inside the test process, after the other tests, the check failed
# without a report (their imports and sys.path are not the checkout's plain state).
CHECK = "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True, no_logo=True))"


def test_imports_follow_the_layers() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr  # the report names each import that breaks a rule
