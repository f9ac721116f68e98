"""A small fixed data set whose metrics are computed by hand in tests/api/test_analytics_api.py.

Times are chosen around the 2026 spring DST change in Helsinki (Sunday 29 March, 03:00 +02:00 -> 04:00 +03:00)
and so that UTC bucketing would put R1 and R4 in the wrong week.
"""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from core.mention import Mention, mention_id
from indexer.admin import ensure_index
from indexer.writer import BulkWriter

CRAWLED = datetime(2026, 4, 20, tzinfo=UTC)

# name: (brand, published_at, experience, followers, lang, negative, positive, engagement, text)
ROWS: dict[str, tuple] = {
    # Monday 00:30 in Helsinki, still Sunday in UTC: week of 23 March locally.
    "R1": ("revontuli", "2026-03-22T22:30:00+00:00", "anger", 100, "fi", 0.9, 0.05, {"likes": 3},
           "Kamala kokemus, huone oli likainen"),
    "R2": ("revontuli", "2026-03-25T12:00:00+00:00", "delight", 50, "en", 0.05, 0.8, {"likes": 10, "replies": 5},
           "Wonderful stay, the staff went above and beyond"),
    "R3": ("revontuli", "2026-03-26T12:00:00+00:00", "comfort", None, "fi", 0.2, 0.3, {}, "Ihan tavallinen yö"),
    # Monday 00:30 +03:00 (after the DST change), Sunday 21:30 in UTC: second week locally.
    "R4": ("revontuli", "2026-03-29T21:30:00+00:00", "anger", 10, "fi", 0.7, 0.1, {"shares": 20},
           "Aamiaisella kahvi oli kylmä ja henkilökunta töykeä"),
    "R5": ("revontuli", "2026-03-31T08:00:00+00:00", "delight", 0, "en", 0.01, 0.95, {}, "Magical northern lights"),
    "R6": ("revontuli", "2026-04-01T08:00:00+00:00", None, 5, None, None, None, {}, "Not scored yet"),
    "T1": ("tunturi", "2026-03-24T10:00:00+00:00", "anger", 1000, "en", 0.8, 0.1, {}, "Rude staff and a cold room"),
    "T2": ("tunturi", "2026-03-24T11:00:00+00:00", "anger", None, "fi", 0.85, 0.05, {}, "Huone oli kylmä"),
    "T3": ("tunturi", "2026-04-02T10:00:00+00:00", "comfort", 7, "fi", 0.3, 0.3, {}, "Ihan ok"),
    # Outside the competitive set, and outside the requested window: never counted.
    "X1": ("merituuli", "2026-03-24T10:00:00+00:00", "anger", 5, "fi", 0.9, 0.0, {}, "Huono kylpylä"),
    "B1": ("revontuli", "2026-03-22T21:59:00+00:00", "anger", 1, "fi", 0.9, 0.0, {}, "Just before the window"),
    "A1": ("revontuli", "2026-04-12T21:00:00+00:00", "delight", 1, "en", 0.0, 0.9, {}, "Exactly at the window's end"),
}  # fmt: skip

WINDOW = {"from": "2026-03-23T00:00:00+02:00", "to": "2026-04-13T00:00:00+03:00"}


def seed(es: Elasticsearch, alias: str) -> dict[str, Mention]:
    ensure_index(es, alias, now=CRAWLED)
    mentions = {}
    for name, (brand, published, experience, followers, lang, neg, pos, engagement, text) in ROWS.items():
        mentions[name] = Mention(
            id=mention_id("reviews", f"https://demo/{name}"),
            brand=brand,
            source="reviews" if name != "R2" else "rss",
            url=f"https://demo/{name}",
            text=text,
            lang=lang,
            experience=experience,
            author_followers=followers,
            polarity=None if neg is None else {"negative": neg, "neutral": round(1 - neg - pos, 2), "positive": pos},
            engagement=engagement,
            published_at=datetime.fromisoformat(published),
            crawled_at=CRAWLED,
        )
    report = BulkWriter(es, alias, refresh=True).write(list(mentions.values()))
    assert report.indexed == len(ROWS) and not report.failed
    return mentions
