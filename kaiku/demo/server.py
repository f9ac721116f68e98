"""Serving the bundled demo review site (kaiku/demo/site/) over HTTP on loopback.

`serve_site()` returns at once with the site running in a daemon thread; `stop()` shuts it down.
Port 0 picks a free port (tests); `kaiku demo` uses the configured `demo_site_port`.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SITE_DIR = Path(__file__).resolve().parent / "site"


class _QuietHandler(SimpleHTTPRequestHandler):
    # Declaring the charset spares clients a guess; every page of the site is UTF-8.
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        pass  # one line per request on stderr would drown the crawl's own output


class DemoSite:
    """A running demo site; `url` has no trailing slash."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.url = f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoSite:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_site(port: int = 0, host: str = "127.0.0.1", directory: Path = SITE_DIR) -> DemoSite:
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="kaiku-demo-site", daemon=True
    )
    thread.start()
    return DemoSite(server, thread)
