"""Serving the bundled demo review site (cli/demo/site/) over HTTP on loopback.

`serve_site()` returns at once with the site running in a daemon thread; `stop()` shuts it down.
Port 0 picks a free port (tests); `kaiku demo` uses the configured `demo_site_port`.

The pages are written as of the week of SITE_WEEK. Served with `today`, every date in them moves by whole weeks
so that SITE_WEEK becomes the current week: the demo's data then always ends last week, whatever day the demo
runs, and the requests of docs/api.md ("last week", "the last 7 days") find it. Weekdays stay as written.
"""

from __future__ import annotations

import calendar
import io
import re
import sys
import threading
from datetime import date, datetime, timedelta
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SITE_DIR = Path(__file__).resolve().parent / "site"
# The Monday of the week the pages were written in; their newest review is from the week before.
SITE_WEEK = date(2026, 11, 16)
# The demo's hotels, and the weeks of docs/api.md's walk-through, are in Helsinki time.
SITE_ZONE = ZoneInfo("Europe/Helsinki")

_MONTHS = {name: number for number, name in enumerate(calendar.month_name) if name}
_ISO_DATE = re.compile(r"(?<![\w-])(\d{4})-(\d{2})-(\d{2})(?!\d)")  # also the date of 2026-10-15T09:12:00+03:00
_FINNISH_DATE = re.compile(r"(?<![\w.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\w)")
_ENGLISH_DATE = re.compile(rf"(?<!\w)(\d{{1,2}}) ({'|'.join(_MONTHS)}) (\d{{4}})(?!\w)")


def site_today() -> date:
    """Today in the site's time zone: the `today` that `kaiku demo` serves the site with."""
    return datetime.now(SITE_ZONE).date()


def weeks_to_shift(today: date) -> int:
    """Whole weeks from SITE_WEEK to the week of `today`."""
    return (today - SITE_WEEK).days // 7


def shift_dates(text: str, weeks: int) -> str:
    """`text` with every date (2026-11-14, 14.11.2026, 14 November 2026) moved by `weeks` weeks, format kept."""
    delta = timedelta(weeks=weeks)

    def iso(match: re.Match[str]) -> str:
        return (date(*map(int, match.groups())) + delta).isoformat()

    def finnish(match: re.Match[str]) -> str:
        day, month, year = map(int, match.groups())
        moved = date(year, month, day) + delta
        return f"{moved.day}.{moved.month}.{moved.year}"

    def english(match: re.Match[str]) -> str:
        moved = date(int(match[3]), _MONTHS[match[2]], int(match[1])) + delta
        return f"{moved.day} {calendar.month_name[moved.month]} {moved.year}"

    text = _ISO_DATE.sub(iso, text)
    text = _FINNISH_DATE.sub(finnish, text)
    return _ENGLISH_DATE.sub(english, text)


class _QuietHandler(SimpleHTTPRequestHandler):
    # Declaring the charset spares clients a guess; every page of the site is UTF-8.
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
    }

    # Set per server (serve_site): weeks to move the pages' dates by; 0 serves the files as they are.
    shift_weeks = 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        pass  # one line per request on stderr would drown the crawl's own output

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if not self.shift_weeks or path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = shift_dates(path.read_text(encoding="utf-8"), self.shift_weeks).encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.extensions_map[".html"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops its connection mid-request (a crawl stopping, a browser tab closed) is no error of the
        # site's: the base class would print a traceback for it.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class DemoSite:
    """A running demo site; `url` has no trailing slash."""

    def __init__(self, server: _SiteServer, thread: threading.Thread) -> None:
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


def serve_site(
    port: int = 0, host: str = "127.0.0.1", directory: Path = SITE_DIR, today: date | None = None
) -> DemoSite:
    """Serve `directory`; with `today`, the pages' dates are moved so that SITE_WEEK is the week of `today`."""
    handler_class = type("_SiteHandler", (_QuietHandler,), {"shift_weeks": weeks_to_shift(today) if today else 0})
    handler = partial(handler_class, directory=str(directory))
    server = _SiteServer((host, port), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="kaiku-demo-site", daemon=True
    )
    thread.start()
    return DemoSite(server, thread)
