"""The layers of docs/design.md §3 point one way: import-linter checks the contracts in pyproject.toml."""

from __future__ import annotations

import ast
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


def test_benchmarks_do_not_import_the_tests() -> None:
    """What benchmarks share with the tests lives in bench/ (stand_ins.py, platform_fakes.py, browser.py)."""
    offending = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offending += [f"{path.name}: {name}" for name in names if name.split(".")[0] == "tests"]
    assert offending == []
