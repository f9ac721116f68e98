"""Building the long-lived parts from settings, once, for every entry point (crawl, demo, API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from indexer.spool import Spool, SpoolingWriter
from indexer.store import MentionStore
from kaiku.settings import Settings
from sentiment import SentimentClassifier

if TYPE_CHECKING:
    from kaiku.teams import TeamStore


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


def mention_store(settings: Settings, refresh: bool = False) -> MentionStore:
    """The configured store: Elasticsearch where KAIKU_ELASTICSEARCH_URL is set, else the embedded one in the data
    dir (KAIKU_STORE_PATH). `refresh` makes Elasticsearch writes searchable at once (the embedded store always is)."""
    if settings.elasticsearch_url:
        from indexer.es_store import ElasticsearchMentionStore

        return ElasticsearchMentionStore.connect(
            settings.elasticsearch_url, settings.index_alias, settings.elasticsearch_api_key, refresh=refresh
        )
    from indexer.sqlite_store import SQLiteMentionStore

    return SQLiteMentionStore(settings.resolved_store_path)


def ready_store(settings: Settings, refresh: bool = False) -> MentionStore:
    """The configured store, checked reachable, with its schema (or template and current index) in place."""
    store = mention_store(settings, refresh=refresh)
    store.ensure_ready()
    return store


def mention_writer(settings: Settings, store: MentionStore) -> SpoolingWriter:
    """The writer every crawl uses: batches that spool to disk while the store is unreachable."""
    from indexer.spool import LocalEngineDurability

    # The local engine acknowledges before its state is on disk; Elasticsearch (translog durability `request`, set
    # by the index template) and the embedded store (a committed transaction) do not: see indexer/spool.py.
    local_engine = f"http://{settings.engine_host}:{settings.engine_port}"
    on_local_engine = (settings.elasticsearch_url or "").rstrip("/") == local_engine
    durability = LocalEngineDurability(settings.engine_data_dir) if on_local_engine else None
    return SpoolingWriter(store, Spool(settings.resolved_spool_dir), durability=durability)


def database(settings: Settings) -> Engine:
    """Kaiku's own database (incidents, outbox, cases, job results), tables created when missing."""
    from kaiku.db import open_database

    return open_database(settings.resolved_database_url)


def team_store(settings: Settings, db: Engine | None = None) -> TeamStore:
    """Teams and keys in Kaiku's database (`db`, or the configured one), with an older Kaiku's team file
    (KAIKU_API_DB, default DATA_DIR/api.sqlite3) imported the first time one is found."""
    from kaiku.teams import TeamStore, import_legacy_teams

    db = db or database(settings)
    import_legacy_teams(db, settings.resolved_api_db)
    return TeamStore(db)


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
