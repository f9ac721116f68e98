"""What every extractor produces: a `Statement` of the mention (core/mention.py) with the source's own key."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from core.mention import SourceName, Statement


class Record(Statement):
    """One review, post or comment as its source states it, read by a pure parser (no Scrapy, no network)."""

    model_config = ConfigDict(frozen=True)

    key: str  # stable identity across re-crawls (the platform's id, the review's URL...), for the mention id
    item_reviewed: str | None = None  # what it is about when the text may not name it (a hotel, an app)

    def as_json(self, source: SourceName) -> dict[str, Any]:
        """The JSON line `kaiku parse` prints: the same fields, in the same order, for every source."""
        return {
            "source": source,
            "url": self.url,
            "author": self.author,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "title": self.title,
            "text": self.text,
            "rating": self.rating,
            "rating_max": self.rating_max,
            "lang": self.lang,
            "item_reviewed": self.item_reviewed,
            "item_rating": self.item_rating.model_dump() if self.item_rating else None,
        }
