"""Brand norms read from the real local engine, and a crawl that judges an unrated mention against its brand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from bench.stand_ins import KeywordClassifier
from cli.demo.server import serve_site
from core.config import KaikuConfig
from crawler.baselines import BrandBaselines
from crawler.context import CrawlContext
from crawler.runner import run_crawl
from indexer.admin import ensure_index
from indexer.es_store import ElasticsearchMentionStore
from indexer.writer import BulkWriter
from tests.indexer.test_indexer import make_mention

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def history(brand: str, count: int, net_centre: float, days_ago: int = 30, start: int = 0) -> list:
    """`count` scored mentions of `brand` whose net polarity spreads around `net_centre` (MAD 0.2)."""
    mentions = []
    for n in range(start, start + count):
        net = net_centre + 0.2 * ((n % 5) - 2)
        negative = max(0.0, -net) + 0.05
        positive = max(0.0, net) + 0.05
        mentions.append(
            make_mention(
                n,
                brand=brand,
                published_at=NOW - timedelta(days=days_ago, minutes=n % 1000),
                polarity={"negative": negative, "neutral": 1 - negative - positive, "positive": positive},
            )
        )
    return mentions


def test_norms_come_from_the_brand_else_its_industry_and_skip_the_last_week(
    es: Elasticsearch, alias: str, kaiku_config: KaikuConfig
) -> None:
    ensure_index(es, alias, now=NOW)
    writer = BulkWriter(es, alias, refresh=True)
    writer.write(history("revontuli", 60, -0.6))
    writer.write(history("tunturi", 10, +0.4, start=1000))
    writer.write(history("revontuli", 40, +0.9, days_ago=2, start=2000))  # a spike in progress: not the norm
    norms = BrandBaselines(ElasticsearchMentionStore(es, alias), kaiku_config.brands, now=NOW)
    revontuli = norms.for_brand("revontuli")
    assert revontuli is not None and revontuli.scope == "brand revontuli"
    assert revontuli.count == 60 and revontuli.median == pytest.approx(-0.6, abs=0.01)
    tunturi = norms.for_brand("tunturi")  # 10 of its own: borrows the hospitality industry's 70
    assert tunturi is not None and tunturi.scope == "industry hospitality" and tunturi.count == 70
    assert (
        BrandBaselines(ElasticsearchMentionStore(es, alias), kaiku_config.brands, now=NOW, min_history=100).for_brand(
            "revontuli"
        )
        is None
    )


def test_a_crawl_judges_an_unrated_mention_against_its_brand_norm(
    es: Elasticsearch, alias: str, kaiku_config: KaikuConfig, tmp_path: Path
) -> None:
    ensure_index(es, alias, now=NOW)
    writer = BulkWriter(es, alias, refresh=True)
    writer.write(history("revontuli", 60, -0.6))  # people grumble about this brand as a rule
    page = {
        "@context": "https://schema.org",
        "@type": "Hotel",
        "name": "Hotelli Revontuli Levi",
        "review": [
            {
                "@type": "Review",
                "author": "Tiina",
                "datePublished": NOW.date().isoformat(),
                "reviewBody": "Kamala aamiainen taas, kuten aina Hotelli Revontulessa.",
            }
        ],
    }
    (tmp_path / "index.html").write_text(
        '<html lang="fi"><head><meta charset="utf-8"><script type="application/ld+json">'
        f"{json.dumps(page, ensure_ascii=False)}</script></head><body></body></html>",
        encoding="utf-8",
    )
    with serve_site(port=0, directory=tmp_path) as site:
        source = kaiku_config.source("demo-reviews").model_copy(update={"start_urls": [site.url + "/"]})
        summary = run_crawl(
            source,
            CrawlContext(kaiku_config.brands, KeywordClassifier(), writer, ElasticsearchMentionStore(es, alias)),
            allow_private_urls=True,
        )
    assert summary.indexed == 1, summary.format()
    es.indices.refresh(index=alias)
    [stored] = [h["_source"] for h in es.search(index=alias, query={"term": {"author": "Tiina"}})["hits"]["hits"]]
    # 0.92 negative is anger in absolute terms, but ordinary for this brand.
    assert stored["experience"] == "comfort"
    assert "brand revontuli norm" in stored["experience_reason"] and "usual for it" in stored["experience_reason"]
