"""Counting a brand's outlier mentions per window in the mention store, as the regular series the detector needs.

The store gives only the non-empty slots, so the grid -- every slot from the start of the history to the current,
still filling, slot -- is completed with zeros here, in Python -- but only from the slot of the brand's first
mention on: the slots before it are history that does not exist (a brand added today), NaN, so that the detector's
warm-up applies to a new brand instead of 28 days of zeros making its first ordinary day look like a spike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from indexer.store import MentionStore

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CountSeries:
    timestamps: list[datetime]  # slot starts, aligned on the UTC epoch; the last one is the current slot
    values: list[float]  # NaN before the brand's first mention (no history), counts from there on
    step: timedelta

    @property
    def current_slot(self) -> datetime:
        return self.timestamps[-1]


def slot_start(when: datetime, step: timedelta) -> datetime:
    return EPOCH + ((when - EPOCH) // step) * step


def count_series(
    store: MentionStore,
    brand: str,
    experience: str,
    now: datetime,
    step: timedelta,
    history: timedelta,
) -> CountSeries:
    """Mentions of `brand` with this experience per `step`, published in [now - history, now)."""
    if now.tzinfo is None:
        raise ValueError("now must be time zone aware")
    current = slot_start(now, step)
    first = slot_start(now - history, step)
    counts = store.counts_per_slot(brand, experience, first, now, step)
    slots = (current - first) // step + 1
    timestamps = [first + i * step for i in range(slots)]
    # The brand's first mention of any experience: from then on, a slot without mentions is a real zero.
    oldest = store.first_published(brand)
    watched_from = slot_start(oldest, step) if oldest is not None else current + step
    values = [float(counts.get(ts, 0)) if ts >= watched_from else math.nan for ts in timestamps]
    return CountSeries(timestamps, values, step)
