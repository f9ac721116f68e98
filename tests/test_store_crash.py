"""A crawl writing into the embedded store is killed (SIGKILL) inside a write, then run again.

Real parts throughout: Scrapy crawling a review site on loopback in a process of its own, Kaiku's pipelines and
its writer (the spool in front of the SQLite store). The kill lands while the crawl holds the store's write lock,
so in the middle of a batch. Afterwards: the store holds whole batches only, its rollups equal a count of its
mentions; the crawl run again (the reviews spider keeps no state between runs, so it fetches every page again)
leaves every review in the store exactly once, and the metrics count each of them once.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.stand_ins import CollectingWriter, KeywordClassifier
from cli.demo.server import serve_site
from core.config import load_config, source_of
from core.settings import REPO_CONFIGS, Settings
from crawler.context import CrawlContext
from crawler.runner import run_crawl
from indexer.buckets import Bucket
from indexer.queries import MentionFilters
from indexer.sqlite_store import SQLiteMentionStore
from indexer.store import Selection
from tests.indexer.test_sqlite_store import rollup_is_exact

pytestmark = pytest.mark.integration

PAGES, PER_PAGE, BATCH = 40, 25, 100
SETTINGS = {"KAIKU_BATCH_SIZE": BATCH, "KAIKU_DETECT_LANGUAGE": False, "DOWNLOAD_DELAY": 0}


def write_site(folder: Path) -> None:
    """PAGES hotel pages of PER_PAGE distinct reviews each, all linked from the front page."""
    rng = random.Random(5)
    for page in range(PAGES):
        reviews = []
        for n in range(PER_PAGE):
            words = " ".join("".join(rng.choices("adehiklmnoprstuvy", k=rng.randint(3, 8))) for _ in range(12))
            reviews.append({
                "@type": "Review", "author": {"@type": "Person", "name": f"Arvioija {page}-{n}"},
                "datePublished": f"2026-{1 + page % 10:02d}-{1 + n:02d}", "reviewBody": f"Tunturi Inn: {words}.",
                "reviewRating": {"@type": "Rating", "ratingValue": 1 + n % 5},
            })  # fmt: skip
        data = {"@context": "https://schema.org", "@type": "Hotel", "name": "Tunturi Inn Ylläs", "review": reviews}
        (folder / f"page-{page}.html").write_text(
            f'<html lang="fi"><head><script type="application/ld+json">{json.dumps(data)}</script></head></html>',
            encoding="utf-8",
        )
    links = "".join(f'<a href="/page-{page}.html">{page}</a> ' for page in range(PAGES))
    (folder / "index.html").write_text(f"<html><body>{links}</body></html>", encoding="utf-8")


def crawl_into_store(data_dir: str, site_url: str) -> None:
    """What `kaiku crawl` does with the embedded store, in a process of its own."""
    from kaiku.wiring import mention_store, mention_writer

    settings = Settings(data_dir=Path(data_dir), allow_private_urls=True)
    store = mention_store(settings)
    source = source_of(id="hotels", spider="reviews", start_urls=[site_url + "/"])
    brands = load_config(REPO_CONFIGS).brands
    run_crawl(
        source,
        CrawlContext(brands, KeywordClassifier(), mention_writer(settings, store), store),
        SETTINGS,
        allow_private_urls=True,
    )


def writing(path: Path) -> bool:
    """True when another connection holds the store's write lock: a batch is being written right now."""
    db = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # database is locked
        return True
    finally:
        db.close()


def test_a_crawl_killed_inside_a_write_commits_nothing_half_and_loses_nothing(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    write_site(tmp_path / "site")
    data_dir = tmp_path / "data"
    path = data_dir / "mentions.sqlite3"
    store = SQLiteMentionStore(path)
    store.ensure_ready()
    spawn = multiprocessing.get_context("spawn")
    with serve_site(port=0, directory=tmp_path / "site") as site:
        expected = CollectingWriter()
        source = source_of(id="hotels", spider="reviews", start_urls=[site.url + "/"])
        brands = load_config(REPO_CONFIGS).brands
        run_crawl(source, CrawlContext(brands, KeywordClassifier(), expected), SETTINGS, allow_private_urls=True)
        expected_ids = sorted({mention.id for mention in expected.mentions})
        assert len(expected_ids) == PAGES * PER_PAGE

        crawl = spawn.Process(target=crawl_into_store, args=(str(data_dir), site.url))
        crawl.start()
        deadline = time.monotonic() + 120
        while not (store.count(Selection()) >= 2 * BATCH and writing(path)):
            assert crawl.is_alive() and time.monotonic() < deadline, "the crawl ended before it could be killed"
            time.sleep(0.002)
        os.kill(crawl.pid or 0, signal.SIGKILL)
        crawl.join()
        killed_at = store.count(Selection())
        assert 2 * BATCH <= killed_at < len(expected_ids), "killed in the middle of the crawl"
        assert killed_at % BATCH == 0, f"{killed_at} mentions: part of a batch was committed"
        assert rollup_is_exact(path)

        again = spawn.Process(target=crawl_into_store, args=(str(data_dir), site.url))
        again.start()
        again.join(300)
        assert again.exitcode == 0

    stored = [mention["id"] for mention in store.export(MentionFilters())]
    assert sorted(stored) == expected_ids  # every review once: nothing lost, nothing twice
    assert rollup_is_exact(path)
    year = Bucket(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert store.brand_counts_per_bucket(["tunturi"], [year])[0]["tunturi"].volume == len(expected_ids)
