"""The local development engine: noida-db speaking the Elasticsearch REST API (docs/design.md §7).

One class serves both `kaiku engine start|stop|status` and the test fixture:
the engine runs as a child process in its own session, with a pid file in its
data directory so a later command can find and stop it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from kaiku.errors import ServiceError


class EngineError(ServiceError):
    """The local engine cannot be started, found or stopped."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def engine_binary() -> Path:
    try:
        binary = Path(str(files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError as exc:
        raise EngineError("the local engine needs the noida-db package: pip install noida-db==0.2.3") from exc
    if not binary.is_file():
        raise EngineError(f"noida-db binary not found at {binary}")
    return binary


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LocalEngine:
    data_dir: Path
    port: int = 9200
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kaiku-engine.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "kaiku-engine.log"

    def answers(self, timeout: float = 1.0) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/", timeout=timeout) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def running_pid(self) -> int | None:
        if not self.pid_file.exists():
            return None
        try:
            pid = int(self.pid_file.read_text().strip())
        except ValueError:
            return None
        return pid if _pid_alive(pid) else None

    def start(self, wait_seconds: float = 30.0) -> int:
        """Start the engine in the background and wait until it answers; returns its pid."""
        pid = self.running_pid()
        if pid is not None and self.answers():
            return pid
        if self.answers():
            raise EngineError(f"something else already answers on {self.url}; choose another port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(engine_binary()), "start", "--data-dir", str(self.data_dir), "--host", self.host,
            "--only", "elasticsearch", "--elasticsearch-port", str(self.port),
        ]  # fmt: skip
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EngineError(f"the engine exited with code {process.returncode}; see {self.log_file}")
            if self.answers(timeout=0.5):
                return process.pid
            time.sleep(0.1)
        self.stop()
        raise EngineError(f"the engine did not answer on {self.url} within {wait_seconds:.0f}s")

    def stop(self, wait_seconds: float = 15.0) -> bool:
        """Stop the engine (data is kept); False when it was not running."""
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.1)
            _reap(pid)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True


def _reap(pid: int) -> None:
    """Collect the exit status when the engine is our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
