"""Score detected incidents against labelled windows (the format of the NAB `labelled_windows.json`).

A labels file maps a series' file name to a list of `[start, end]` windows (ISO 8601; naive means UTC). An
incident whose start falls inside a window is a hit; precision = incidents starting inside a window / incidents,
recall = windows with at least one incident starting inside / windows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kaiku.alerts.detector import Incident
from kaiku.errors import ServiceError

Window = tuple[datetime, datetime]


class LabelsError(ServiceError, ValueError):
    """An unreadable or malformed labels file."""


def _time(text: str) -> datetime:
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def read_labels(path: Path) -> dict[str, list[Window]]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("expected an object mapping file names to lists of [start, end]")
        return {str(name): [(_time(a), _time(b)) for a, b in windows] for name, windows in raw.items()}
    except (OSError, ValueError, TypeError) as exc:
        raise LabelsError(f"cannot read labels {path}: {exc}") from None


@dataclass(frozen=True)
class Score:
    incidents: int
    hits: int  # incidents starting inside a window
    windows: int
    found: int  # windows with at least one incident starting inside
    weeks: float  # length of the series

    @property
    def precision(self) -> float:
        return self.hits / self.incidents if self.incidents else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.windows if self.windows else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def per_week(self) -> float:
        return self.incidents / self.weeks if self.weeks else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.incidents + other.incidents,
            self.hits + other.hits,
            self.windows + other.windows,
            self.found + other.found,
            self.weeks + other.weeks,
        )


def score_incidents(incidents: list[Incident], windows: list[Window], span: timedelta) -> Score:
    inside = [any(a <= inc.start <= b for a, b in windows) for inc in incidents]
    found = sum(any(a <= inc.start <= b for inc in incidents) for a, b in windows)
    return Score(len(incidents), sum(inside), len(windows), found, span / timedelta(days=7))
