"""A quarter of mentions for the dashboard's browser tests and screenshots: two competing brands, both languages,
a visible anger spike, an open incident on it and cases in several states.

Deterministic (fixed seed), small enough to index in a few seconds on the local engine.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch
from sqlalchemy import Engine, insert

from core.mention import Engagement, Mention, mention_id
from indexer.admin import ensure_index
from indexer.writer import BulkWriter
from kaiku.db import cases, incidents

# The quarter shown: 13 ISO weeks in Helsinki, Monday 24 August to Sunday 22 November 2026.
PERIOD = {"from": "2026-08-24", "to": "2026-11-22", "interval": "week", "tz": "Europe/Helsinki"}
END = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # Monday 23 November 00:00 in Helsinki
START = END - timedelta(weeks=13)
SPIKE_START = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
SPIKE_END = SPIKE_START + timedelta(hours=6)

# A mention the search test looks for: its words appear nowhere else.
KNOWN = {"id": mention_id("reviews", "https://reviews.example/revontuli/lauteet"), "query": "lauteet",
         "text": "Saunan lauteet olivat rikki koko viikon, eikä kukaan korjannut niitä."}  # fmt: skip

TEXTS: dict[tuple[str, str], list[str]] = {
    ("fi", "anger"): [
        "Huone oli likainen ja henkilökunta töykeä.",
        "Aamiaisella kahvi oli kylmä eikä kukaan välittänyt.",
        "Odotimme vastaanotossa tunnin. Todella huono palvelu.",
        "Varaus oli kadonnut ja meille tarjottiin vain kalliimpaa huonetta.",
    ],
    ("fi", "comfort"): [
        "Ihan tavallinen yö, sänky oli ok.",
        "Sijainti hyvä ja hinta kohtuullinen.",
        "Siisti huone, ei mitään erityistä.",
        "Aamiainen oli tavanomainen mutta riittävä.",
    ],
    ("fi", "delight"): [
        "Upea sauna ja ihana henkilökunta, tulemme uudestaan!",
        "Revontulet näkyivät huoneen ikkunasta, unohtumaton kokemus.",
        "Paras aamiainen koskaan, kiitos keittiölle.",
    ],
    ("en", "anger"): [
        "Rude staff and a cold room. Never again.",
        "The booking was lost and nobody apologised.",
        "Dirty bathroom and the breakfast ran out at eight.",
    ],
    ("en", "comfort"): [
        "A decent stay, nothing special.",
        "Good location, fair price.",
        "The room was fine and the bed comfortable enough.",
    ],
    ("en", "delight"): [
        "Wonderful stay, the staff went above and beyond.",
        "Magical northern lights right from the sauna.",
        "Best breakfast we have had in Lapland!",
    ],
}
AUTHORS = ["Aino K.", "Mikko", "traveller_82", "Sanna L.", "J. Smith", "Eero", "northbound", "Laura M.", "Pekka V."]
SOURCES = ["reviews", "reviews", "rss", "mastodon"]


def _mention(rng: random.Random, n: int, brand: str, published: datetime, experience: str) -> Mention:
    lang = "fi" if rng.random() < 0.6 else "en"
    source = rng.choice(SOURCES)
    negative = {"anger": 0.6 + 0.4 * rng.random(), "comfort": 0.2 * rng.random()}.get(experience, 0.05 * rng.random())
    positive = 0.6 + 0.4 * rng.random() if experience == "delight" else 0.2 * rng.random() * (1 - negative)
    stars = {"anger": rng.choice([1, 2]), "comfort": rng.choice([3, 4]), "delight": 5}[experience]
    return Mention(
        id=mention_id(source, f"https://{source}.example/{brand}/{n}"),
        brand=brand,
        source=source,
        url=f"https://{source}.example/{brand}/{n}",
        author=rng.choice(AUTHORS),
        author_followers=rng.choice([None, rng.randint(0, 5000)]),
        text=rng.choice(TEXTS[(lang, experience)]),
        lang=lang,
        rating=stars if source == "reviews" else None,
        rating_max=5 if source == "reviews" else None,
        published_at=published,
        crawled_at=END,
        polarity={"negative": negative, "neutral": max(0.0, 1 - negative - positive), "positive": positive},
        experience=experience,
        engagement=Engagement(likes=rng.randint(0, 60), replies=rng.randint(0, 8)),
    )


def mentions(per_week: int = 40, seed: int = 17) -> list[Mention]:
    """Weekly volumes that drift, delight growing for revontuli; an anger spike in SPIKE_START..SPIKE_END."""
    rng = random.Random(seed)
    out: list[Mention] = []
    for week in range(13):
        for brand, scale, delight_trend in (("revontuli", 1.0, 0.01), ("tunturi", 0.7, -0.005)):
            count = int(per_week * scale * (0.8 + 0.4 * rng.random()))
            delight = max(0.05, 0.12 + delight_trend * week)
            for _ in range(count):
                published = START + timedelta(weeks=week, seconds=rng.randint(0, 7 * 86400 - 1))
                weights = [0.12, 1 - 0.12 - delight, delight]
                experience = rng.choices(["anger", "comfort", "delight"], weights=weights)[0]
                out.append(_mention(rng, len(out), brand, published, experience))
    for _ in range(14):  # the spike
        published = SPIKE_START + timedelta(seconds=rng.randint(0, int((SPIKE_END - SPIKE_START).total_seconds()) - 1))
        out.append(_mention(rng, len(out), "revontuli", published, "anger"))
    known = _mention(rng, len(out), "revontuli", datetime(2026, 11, 12, 9, 0, tzinfo=UTC), "anger")
    out.append(known.model_copy(update={"id": KNOWN["id"], "text": KNOWN["text"], "lang": "fi", "source": "reviews",
                                        "url": "https://reviews.example/revontuli/lauteet"}))  # fmt: skip
    return out


def seed(es: Elasticsearch, alias: str, per_week: int = 40) -> list[Mention]:
    ensure_index(es, alias, now=END)
    rows = mentions(per_week)
    report = BulkWriter(es, alias, refresh=True).write(rows)
    assert report.indexed == len(rows) and not report.failed, report
    return rows


def seed_alerts(db: Engine, rows: list[Mention]) -> None:
    """One open incident on the spike, and cases in each column (one responded case whose follow-up is due)."""
    now = datetime.now(UTC)
    with db.begin() as conn:
        conn.execute(
            insert(incidents).values(
                rule_id="revontuli-anger", brand="revontuli", experience="anger", status="open",
                start=SPIKE_START, end=SPIKE_END, peak=SPIKE_START + timedelta(hours=2), peak_value=5,
                baseline=0.3, score=8.5, severity="high", window_seconds=3600, opened_at=SPIKE_START,
                updated_at=SPIKE_END,
            )
        )  # fmt: skip
        angry = [m for m in rows if m.brand == "revontuli" and m.experience == "anger"][:4]
        for status, mention in zip(["open", "open", "responded", "closed"], angry, strict=True):
            responded = now - timedelta(days=12)  # so the responded case's follow-up (10 days) is due
            conn.execute(
                insert(cases).values(
                    mention_id=mention.id, brand=mention.brand, mention_url=mention.url, owner="aino@example.com",
                    language="fi", status=status, note="Soitetaan asiakkaalle" if status == "open" else None,
                    created_at=now - timedelta(days=14), updated_at=now,
                    responded_at=None if status == "open" else responded,
                    follow_up_at=responded + timedelta(days=10) if status == "responded" else None,
                )
            )  # fmt: skip
