"""Building the long-lived parts from settings, once, for every entry point (crawl, demo, API)."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch
from sqlalchemy import Engine

from indexer.spool import Spool, SpoolingWriter
from indexer.writer import BulkWriter
from kaiku.settings import Settings
from sentiment import SentimentClassifier


def configured_classifier(settings: Settings) -> SentimentClassifier:
    """The sentiment model the settings name; a SentimentError when it cannot be loaded."""
    from sentiment.loader import load_classifier

    return load_classifier(
        settings.sentiment_model,
        cache_dir=settings.resolved_model_cache_dir,
        device=settings.device,
        labels=settings.sentiment_labels,
        batch_size=settings.batch_size,
        threads=settings.torch_threads,
        precision=settings.precision,
    )


def ready_index(settings: Settings) -> Elasticsearch:
    """A client to the configured engine, checked reachable, with the template and current index in place."""
    from indexer.admin import ensure_index
    from indexer.client import engine_info, make_client

    client = make_client(settings.engine_url, settings.elasticsearch_api_key)
    engine_info(client)
    ensure_index(client, settings.index_alias)
    return client


def mention_writer(settings: Settings, client: Elasticsearch) -> SpoolingWriter:
    """The writer every crawl uses: bulk writes that spool to disk while the engine is unreachable."""
    from indexer.spool import LocalEngineDurability

    # The local engine acknowledges before its state is on disk; Elasticsearch (translog durability
    # `request`, set by the index template) does not: see indexer/spool.py.
    durability = LocalEngineDurability(settings.engine_data_dir) if settings.elasticsearch_url is None else None
    return SpoolingWriter(
        BulkWriter(client, settings.index_alias), Spool(settings.resolved_spool_dir), durability=durability
    )


def database(settings: Settings) -> Engine:
    """Kaiku's own database (incidents, outbox, cases, job results), tables created when missing."""
    from kaiku.db import open_database

    return open_database(settings.resolved_database_url)


def crawl_settings_from(settings: Settings) -> dict[str, Any]:
    """The Scrapy settings every crawl takes from Kaiku's settings (`kaiku crawl` and the scheduler alike)."""
    from crawler.spiders.api import credential_settings

    return {
        **credential_settings(settings),  # platform credentials and the crawl state file
        "KAIKU_BATCH_SIZE": settings.batch_size,
        "KAIKU_DEDUP_LOOKUP_INDEX": settings.dedup_lookup_index,
        "KAIKU_BASELINE_MIN_HISTORY": settings.baseline_min_history,
        "KAIKU_BASELINE_DAYS": settings.baseline_days,
        "KAIKU_EXPERIENCE_THRESHOLDS": settings.experience_thresholds,
    }
