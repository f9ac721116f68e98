"""Each brand's norm, read from the mention store: the net polarity of its recent scored mentions.

The window ends `gap_days` before now so that a spike in progress does not become its own norm (the alerts
would otherwise go quiet exactly when they matter). A brand with too little history borrows its industry's
norm: the mentions of every configured brand of the same industry. Each norm is read once per crawl.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from core.config import Brand
from core.defaults import BASELINE_DAYS, BASELINE_MIN_HISTORY
from core.experience import Baseline
from core.store import MentionLookup, StoreError

logger = logging.getLogger(__name__)


class BrandBaselines:
    def __init__(
        self,
        store: MentionLookup,
        brands: list[Brand],
        min_history: int = BASELINE_MIN_HISTORY,
        days: int = BASELINE_DAYS,
        gap_days: int = 7,
        sample: int = 2000,
        now: datetime | None = None,
    ) -> None:
        self._store, self._brands = store, {brand.id: brand for brand in brands}
        self._min_history, self._sample = min_history, sample
        end = (now or datetime.now(UTC)) - timedelta(days=gap_days)
        self._window = (end - timedelta(days=days), end)
        self._cache: dict[str, Baseline | None] = {}

    def for_brand(self, brand_id: str) -> Baseline | None:
        """The brand's norm, else its industry's, else None (no relative judgement yet)."""
        if brand_id not in self._cache:
            norm = self._read(f"brand {brand_id}", [brand_id])
            if norm is None or norm.count < self._min_history:
                norm = None
                brand = self._brands.get(brand_id)
                if brand is not None and brand.industry:
                    peers = [b.id for b in self._brands.values() if b.industry == brand.industry]
                    industry = self._read(f"industry {brand.industry}", peers)
                    if industry is not None and industry.count >= self._min_history:
                        norm = industry
            self._cache[brand_id] = norm
        return self._cache[brand_id]

    def _read(self, scope: str, brand_ids: list[str]) -> Baseline | None:
        try:
            nets = self._store.polarity_nets(brand_ids, *self._window, self._sample)
        except StoreError as exc:  # no norm is a safe answer: the absolute rule still holds
            logger.warning("baseline of %s unavailable: %s", scope, exc)
            return None
        return Baseline.of(scope, nets) if nets else None
