"""`kaiku scheduler` is killed (SIGKILL, no clean-up) in the middle of a crawl and started again.

Real processes throughout: the scheduler as a user starts it, Scrapy crawling the demo site on loopback at
a polite pace, a real model (a tiny checkpoint built here) and the local engine. After the restart the job
store still holds every job, and the crawl run again leaves each mention in the engine exactly once.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from bench.stand_ins import CollectingWriter, KeywordClassifier
from cli.demo.server import DemoSite, serve_site
from core.config import load_config
from core.settings import REPO_CONFIGS, Settings
from crawler.context import CrawlContext
from crawler.runner import run_crawl
from kaiku.local_engine import LocalEngine
from kaiku.scheduler.service import JobStoreView
from tests.processes import start_scheduler
from tests.sentiment.tiny_models import build_tiny_checkpoint

pytestmark = pytest.mark.integration

CRAWL_JOB = "crawl:demo-reviews"


@pytest.fixture
def site() -> Iterator[DemoSite]:
    running = serve_site(port=0)
    yield running
    running.stop()


def slow_demo_config(tmp_path: Path, site: DemoSite) -> Path:
    """The repository's configs with the demo source pointed at `site`, two requests a second."""
    folder = tmp_path / "configs"
    shutil.copytree(REPO_CONFIGS, folder)
    (folder / "sources.yaml").write_text(
        "sources:\n"
        "  - id: demo-reviews\n"
        "    spider: reviews\n"
        f"    start_urls: [{site.url}/]\n"
        "    schedule: 1d\n"
        "    requests_per_minute: 120\n",
        encoding="utf-8",
    )
    return folder


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.2)


def stored_ids(es: Elasticsearch, alias: str) -> list[str]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, query={"match_all": {}}, size=1000, source=["id"])["hits"]["hits"]
    return [hit["_source"]["id"] for hit in hits]


def test_a_scheduler_killed_mid_crawl_resumes_and_stores_each_mention_once(
    engine: LocalEngine, es: Elasticsearch, alias: str, site: DemoSite, tmp_path: Path
) -> None:
    config_dir = slow_demo_config(tmp_path, site)
    config = load_config(config_dir)
    expected = CollectingWriter()
    unhurried = config.source("demo-reviews").model_copy(update={"requests_per_minute": None})
    run_crawl(
        unhurried,
        CrawlContext(config.brands, KeywordClassifier(), expected),
        {"DOWNLOAD_DELAY": 0},
        allow_private_urls=True,
    )
    expected_ids = sorted({mention.id for mention in expected.mentions})
    assert len(expected_ids) > 10

    environment = {
        **os.environ,
        "KAIKU_DATA_DIR": str(tmp_path / "data"),
        "KAIKU_CONFIG_DIR": str(config_dir),
        "KAIKU_ELASTICSEARCH_URL": engine.url,
        "KAIKU_INDEX_ALIAS": alias,
        "KAIKU_SENTIMENT_MODEL": str(build_tiny_checkpoint(tmp_path / "model", ["negative", "neutral", "positive"])),
        "KAIKU_BATCH_SIZE": "2",  # a write every two mentions: the kill lands between writes
        "KAIKU_OUTBOX_INTERVAL_SECONDS": "5",  # the scheduler wakes at least this often and sees "run now"
        "KAIKU_ALLOW_PRIVATE_URLS": "true",
    }
    store = JobStoreView(Settings(data_dir=tmp_path / "data"))

    first, _ = start_scheduler(environment)
    try:
        assert store.run_now(CRAWL_JOB, datetime.now(UTC))
        wait_for(lambda: es.indices.exists_alias(name=alias) and len(stored_ids(es, alias)) > 0, 90, "a first write")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    partial = stored_ids(es, alias)
    assert 0 < len(partial) < len(expected_ids), "killed in the middle of the crawl"

    second, _ = start_scheduler(environment)
    try:
        assert sorted(job.id for job in store.get_jobs()) == [
            "alerts:check",
            "cases:reminders",
            CRAWL_JOB,
            "outbox:deliver",
            "retention",
        ]
        assert store.run_now(CRAWL_JOB, datetime.now(UTC))
        wait_for(lambda: len(stored_ids(es, alias)) == len(expected_ids), 120, "the crawl run again")
        time.sleep(2)  # anything written twice would show up now
    finally:
        second.send_signal(signal.SIGTERM)
        output, _ = second.communicate(timeout=60)
    assert second.returncode == 0, output
    assert "scheduler stopped" in output
    assert sorted(stored_ids(es, alias)) == expected_ids
    store.close()
