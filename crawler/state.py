"""Incremental crawl state: what each (source, query) has already fetched, kept between runs.

One small JSON file (`KAIKU_STATE_PATH`, by default `<data_dir>/crawl-state.json`) maps
`"<source id>\\x1f<query>"` to a dict whose meaning belongs to the spider: Mastodon keeps the newest
status id, Bluesky / Reddit / HN / YouTube / RSS the newest publication time, the App Store the newest
review id. A spider reads its entries when it starts and saves new ones only for the queries whose
every request succeeded, when the crawl finishes: a run that was cut short or met a 429 it could not
retry past fetches the same range again next time rather than leaving a hole.

Writes go to a temporary file that replaces the old one, so a crash never leaves half a file; a lock
keeps concurrent crawls in one process from losing each other's updates (separate processes writing
the same file at the same moment can still lose one update, which costs one re-fetch, not data).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from crawler.errors import CrawlerError

STATE_FILE = "crawl-state.json"
_SEPARATOR = "\x1f"
_lock = threading.Lock()


class CrawlState:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CrawlerError(f"{self.path}: cannot read crawl state: {exc}") from exc
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise CrawlerError(f"{self.path}: crawl state is not valid JSON ({exc}); delete it to start over") from exc
        if not isinstance(data, dict):
            raise CrawlerError(f"{self.path}: crawl state is not a JSON object; delete it to start over")
        return data

    def get(self, source_id: str, query: str) -> dict[str, Any]:
        with _lock:
            entry = self._read().get(f"{source_id}{_SEPARATOR}{query}")
        return dict(entry) if isinstance(entry, dict) else {}

    def update(self, source_id: str, entries: dict[str, dict[str, Any]]) -> None:
        """Replace the state of each query in `entries` (query -> state), keeping every other entry."""
        if not entries:
            return
        with _lock:
            data = self._read()
            for query, state in entries.items():
                data[f"{source_id}{_SEPARATOR}{query}"] = state
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.path)
