"""Crawls yield the CPU to the API: the niceness of a crawl process, of the threads it runs and of those it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from cli import app
from core.settings import Settings, get_settings
from tests.processes import start_scheduler

REPO = Path(__file__).resolve().parents[2]

# Run in a child process: a lowered priority cannot be raised back, and the test process must keep its own.
LOWER_THEN_START_A_THREAD = """
import os, threading
from core.priority import lower_priority

def niceness():
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

release = threading.Event()
earlier = threading.Thread(target=release.wait)  # a pool a library started at import
earlier.start()
print(lower_priority(int(os.environ["WANTED"])))
print(niceness())
print(os.getpriority(os.PRIO_PROCESS, earlier.native_id))
release.set()
seen = []
later = threading.Thread(target=lambda: seen.append(niceness()))
later.start()
later.join()
print(seen[0])
print(lower_priority(0))  # asking for a higher priority leaves it lowered
"""


def _niceness_after(wanted: int) -> list[int]:
    environment = {**os.environ, "WANTED": str(wanted)}
    result = subprocess.run([sys.executable, "-c", LOWER_THEN_START_A_THREAD], cwd=REPO, env=environment,
                            capture_output=True, text=True, check=True)  # fmt: skip
    return [int(line) for line in result.stdout.split()]


def test_a_process_its_running_threads_and_those_it_starts_afterwards_run_at_the_niceness_asked() -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    wanted = min(own + 5, 19)
    assert _niceness_after(wanted) == [wanted] * 5


def test_a_process_already_at_a_lower_priority_keeps_it() -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert _niceness_after(max(own - 1, 0)) == [own] * 5


def test_the_crawl_niceness_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAIKU_CRAWL_NICE")
    assert Settings().crawl_nice == 10
    for bad in (-1, 20):
        with pytest.raises(ValidationError, match="crawl_nice"):
            Settings(crawl_nice=bad)


def test_kaiku_crawl_lowers_its_priority_first(monkeypatch: pytest.MonkeyPatch) -> None:
    lowered: list[int] = []
    monkeypatch.setattr("cli.crawl.lower_priority", lowered.append)
    monkeypatch.setenv("KAIKU_CRAWL_NICE", "12")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["crawl", "no-such-source"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and lowered == [12]


def _niceness_of_every_thread(pid: int) -> set[int]:
    found = set()
    for thread in os.listdir(f"/proc/{pid}/task"):
        try:
            found.add(os.getpriority(os.PRIO_PROCESS, int(thread)))
        except ProcessLookupError:  # the thread ended meanwhile
            continue
    return found


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the threads of a process from /proc")
@pytest.mark.parametrize(("role", "lowered"), [("crawl", True), ("all", True), ("control", False)])
def test_the_scheduler_runs_every_thread_of_a_crawling_role_at_the_crawl_niceness(
    tmp_path: Path, role: str, lowered: bool
) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    wanted = min(own + 5, 19)
    environment = {**os.environ, "KAIKU_DATA_DIR": str(tmp_path), "KAIKU_CRAWL_NICE": str(wanted)}
    environment.pop("KAIKU_CONFIG_DIR", None)
    process, _ = start_scheduler(environment, "--role", role)
    try:
        found = _niceness_of_every_thread(process.pid)
    finally:
        process.kill()
        process.wait(timeout=10)
    assert found == {wanted if lowered else own}
