"""scripts/install.sh's choice of torch build, run against a stand-in .venv/bin/python that records pip calls."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install.sh"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# Answers `-c <code>` with FAKE_TORCH (the installed torch's version; unset: not installed) and records every
# `-m pip ...` call; a pip call naming FAKE_UNREACHABLE fails as an unreachable index does.
FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1" = -c ]; then
    [ -n "${FAKE_TORCH:-}" ] && echo "$FAKE_TORCH" && exit 0
    exit 1
fi
echo "$*" >> "$PIP_LOG"
if [ -n "${FAKE_UNREACHABLE:-}" ] && [[ "$*" == *"$FAKE_UNREACHABLE"* ]]; then exit 1; fi
exit 0
"""


def install(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    shutil.copy(SCRIPT, tmp_path / "scripts" / "install.sh")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True, exist_ok=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    log = tmp_path / "pip.log"
    log.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("KAIKU_TORCH", "FAKE_"))}
    result = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "install.sh")],
        env={**environment, "PIP_LOG": str(log), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result, [call.removeprefix("-m pip install --quiet --disable-pip-version-check ") for call in calls]


def test_script_parses() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_cpu_build_by_default_from_the_cpu_index(tmp_path: Path) -> None:
    result, calls = install(tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls == [f"--timeout 15 --retries 1 --index-url {CPU_INDEX} torch==2.13.0", "-e .[test]"]


def test_unreachable_cpu_index_falls_back_to_the_configured_index(tmp_path: Path) -> None:
    result, calls = install(tmp_path, FAKE_UNREACHABLE=CPU_INDEX)
    assert result.returncode == 0, result.stderr
    assert calls[1:] == ["torch==2.13.0", "-e .[test]"]
    assert "not reachable" in result.stderr


def test_cuda_on_request_from_the_configured_index(tmp_path: Path) -> None:
    result, calls = install(tmp_path, KAIKU_TORCH="cuda")
    assert result.returncode == 0, result.stderr
    assert calls == ["torch==2.13.0", "-e .[test]"]


def test_installed_torch_of_the_pinned_version_is_kept(tmp_path: Path) -> None:
    result, calls = install(tmp_path, FAKE_TORCH="2.13.0+cpu")
    assert result.returncode == 0, result.stderr
    assert calls == ["-e .[test]"]
    result, calls = install(tmp_path, FAKE_TORCH="2.12.1")  # another version is replaced
    assert calls[0].endswith(f"--index-url {CPU_INDEX} torch==2.13.0")


def test_unknown_choice_is_an_error_before_installing_anything(tmp_path: Path) -> None:
    result, calls = install(tmp_path, KAIKU_TORCH="rocm")
    assert result.returncode == 2
    assert "KAIKU_TORCH must be 'cpu' or 'cuda'" in result.stderr
    assert calls == []
