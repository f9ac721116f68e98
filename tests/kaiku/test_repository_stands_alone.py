"""The repository stands on its own: nothing points to the development team's folders outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\.\./shared/|/work[/]shared|\bDESIGN\.md\b")  # written so as not to match itself


def test_no_file_refers_to_folders_outside_the_repository() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = {
        name
        for name in files
        if name.endswith((".py", ".md", ".sh", ".toml", ".yaml", ".yml")) and name != "CHANGELOG.md"
        if (ROOT / name).is_file() and OUTSIDE.search((ROOT / name).read_text(encoding="utf-8", errors="replace"))
    }
    assert offenders == set(), "docs/design.md and docs/ hold what a reader needs: point there instead"
