"""Crawled text is data: a review written to attack Kaiku goes through the whole path without doing anything.

A page on loopback carries a review whose title and body hold markup, script, template and query syntax and a
spreadsheet formula. It is crawled by the real spider and pipelines into the real local engine, then read
back through the API (JSON, search with the same text as the query, CSV export) and rendered into an alert
email. Everywhere it must come out as the same characters, escaped where the medium needs it, never obeyed.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from api.app import create_app
from bench.stand_ins import KeywordClassifier
from cli.demo.server import serve_site
from core.config import load_config
from core.settings import REPO_CONFIGS, Settings
from crawler.context import CrawlContext
from crawler.runner import run_crawl
from indexer.admin import ensure_index
from indexer.es_store import ElasticsearchMentionStore
from indexer.writer import BulkWriter
from kaiku.alerts.messages import AlertFacts, mentions_query_url, render_alert
from kaiku.wiring import team_store
from tests.api.conftest import bearer

pytestmark = pytest.mark.integration

ATTACK_TITLE = '=HYPERLINK("http://evil.example","klik") <img src=x onerror=alert(1)>Hotelli Revontuli'
ATTACK_BODY = (
    "Kamala kokemus Hotelli Revontulessa, 1 < 2 & 3 > 2. </script><script>alert('xss')</script> "
    "{{7*7}} ${jndi:ldap://x} "
    'brand:tunturi OR * AND (lang:"fi" text.fi:/.*/) \\ ~ ^ [0 TO *] =HYPERLINK("http://evil.example","x")'
)


def attack_page() -> str:
    review = {
        "@context": "https://schema.org",
        "@type": "Hotel",
        "name": "Hotelli Revontuli Levi",
        "review": [
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": "<b>Mallory</b>"},
                "datePublished": "2026-11-19",
                "name": ATTACK_TITLE,
                "reviewBody": ATTACK_BODY,
                "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5},
            }
        ],
    }
    jsonld = json.dumps(review, ensure_ascii=False).replace("</", "<\\/")  # as a site must embed it in HTML
    return (
        '<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8"><title>x</title>'
        f'<script type="application/ld+json">{jsonld}</script></head><body></body></html>'
    )


def test_a_hostile_review_is_stored_served_searched_exported_and_emailed_as_plain_text(
    engine, es: Elasticsearch, alias: str, tmp_path: Path
) -> None:
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "index.html").write_text(attack_page(), encoding="utf-8")
    config = load_config(REPO_CONFIGS)
    ensure_index(es, alias)
    with serve_site(port=0, directory=site_dir) as site:
        source = config.source("demo-reviews").model_copy(update={"start_urls": [site.url + "/"]})
        summary = run_crawl(
            source,
            CrawlContext(
                config.brands,
                KeywordClassifier(),
                BulkWriter(es, alias, refresh=True),
                ElasticsearchMentionStore(es, alias),
            ),
            allow_private_urls=True,
        )
    assert summary.indexed == 1, summary.format()
    [stored] = [hit["_source"] for hit in es.search(index=alias, query={"match_all": {}})["hits"]["hits"]]
    # Markup in a review body is page formatting, not words: extraction keeps the text and drops the tags. Every
    # other character, however it looks to an engine, a template or a spreadsheet, is kept exactly.
    assert "<script>" not in stored["text"]
    assert stored["text"] == ATTACK_BODY.replace("</script><script>alert('xss')</script> ", "")
    assert stored["title"] == '=HYPERLINK("http://evil.example","klik") Hotelli Revontuli'
    assert stored["author"] == "Mallory"

    settings = Settings(elasticsearch_url=engine.url, index_alias=alias, data_dir=tmp_path)
    store = team_store(settings)
    key = store.create_key(store.create_team("north", brands=["revontuli"]).id).secret
    with TestClient(create_app(settings), headers=bearer(key)) as api:
        one = api.get(f"/v1/mentions/{stored['id']}")
        assert one.headers["content-type"].startswith("application/json")
        assert one.json()["text"] == stored["text"]
        # Query syntax in a search is only words to match (the review has no word "unclosed"); a bare `*` would
        # expand every indexed word and is refused by the query-cost bound, naming it.
        for query, hits in ((ATTACK_TITLE, 0), ("text.fi:/.*/", 0), ('"unclosed', 0), ("(((", 0),
                            ("kamala (kokemus | xyzzy) -tunturi", 1)):  # fmt: skip
            found = api.get("/v1/mentions", params={"q": query, "brand": "revontuli"})
            assert found.status_code == 200, (query, found.text)
            assert found.json()["count"] == hits, (query, found.json())
        for query in (ATTACK_BODY, "*", "brand:tunturi OR *"):
            refused = api.get("/v1/mentions", params={"q": query, "brand": "revontuli"})
            assert refused.status_code == 422, (query, refused.text)
            assert refused.json()["limit"] == "MIN_PREFIX_LENGTH"
        # Highlights are HTML fragments: the crawled text in them is escaped, only the match markers are tags.
        highlighted = api.get("/v1/mentions", params={"q": "kamala kokemus", "highlight": "true"}).json()
        [fragment] = highlighted["data"][0]["highlight"]["text"]
        assert "<em>Kamala</em>" in fragment and "1 &lt; 2 &amp; 3 &gt; 2" in fragment
        assert fragment.replace("<em>", "").replace("</em>", "").count("<") == 0
        exported = api.get("/v1/mentions/export", params={"format": "csv", "brand": "revontuli"}).text
        [row] = list(csv.DictReader(io.StringIO(exported)))
        assert row["title"] == "'" + stored["title"], "a cell starting with = must not become a formula"
        assert row["text"] == stored["text"]

    published = datetime.fromisoformat(stored["published_at"])
    facts = AlertFacts(
        rule_id="r", brand_name="Revontuli", experience="anger", window=timedelta(hours=1),
        cooldown=timedelta(hours=6), start=published, peak=published, peak_value=9, baseline=1.0, score=8.0,
        severity="high", mentions=[stored],
        query_url=mentions_query_url("https://kaiku.example/", "revontuli", "anger", published),
    )  # fmt: skip
    email = render_alert(facts, "fi")
    assert "1 &lt; 2 &amp; 3 &gt; 2" in email.html and "1 < 2" not in email.html
    assert "<script" not in email.html and "<img" not in email.html
    assert "1 < 2 & 3 > 2" in email.text  # the plain-text part: the characters as written
