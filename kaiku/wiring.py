"""Building the long-lived parts from settings, once, for every entry point (crawl, demo, API)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from core.config import Brand
from core.experience import ExperienceThresholds
from core.polarity import SentimentClassifier
from core.settings import Settings
from crawler.context import CrawlContext
from crawler.spiders.platform import credential_settings
from indexer.es_store import ElasticsearchMentionStore
from indexer.spool import LocalEngineDurability, Spool, SpoolingWriter
from indexer.sqlite_store import SQLiteMentionStore
from indexer.store import MentionStore
from kaiku.db import open_database
from sentiment.loader import load_classifier
from sentiment.models.e5_head import model_text_thresholds

if TYPE_CHECKING:
    from kaiku.teams import TeamStore


def configured_classifier(settings: Settings) -> SentimentClassifier:
    """The sentiment model the settings name; a SentimentError when it cannot be loaded."""
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
        return ElasticsearchMentionStore.connect(
            settings.elasticsearch_url, settings.index_alias, settings.elasticsearch_api_key, refresh=refresh
        )
    return SQLiteMentionStore(settings.resolved_store_path)


def ready_store(settings: Settings, refresh: bool = False) -> MentionStore:
    """The configured store, checked reachable, with its schema (or template and current index) in place."""
    store = mention_store(settings, refresh=refresh)
    store.ensure_ready()
    return store


def mention_writer(settings: Settings, store: MentionStore) -> SpoolingWriter:
    """The writer every crawl uses: batches that spool to disk while the store is unreachable."""
    # The local engine acknowledges before its state is on disk; Elasticsearch (translog durability `request`, set
    # by the index template) and the embedded store (a committed transaction) do not: see indexer/spool.py.
    local_engine = f"http://{settings.engine_host}:{settings.engine_port}"
    on_local_engine = (settings.elasticsearch_url or "").rstrip("/") == local_engine
    durability = LocalEngineDurability(settings.engine_data_dir) if on_local_engine else None
    return SpoolingWriter(store, Spool(settings.resolved_spool_dir), durability=durability)


def experience_thresholds(settings: Settings, model: str | None = None) -> ExperienceThresholds:
    """The experience rule's thresholds for scoring with `model` (default: the configured one): each the user set,
    else the model's calibrated text thresholds (the default head's json), else the rule's defaults."""
    return settings.experience_thresholds(model_text_thresholds(model or settings.sentiment_model))


def database(settings: Settings) -> Engine:
    """Kaiku's own database (incidents, outbox, cases, job results), tables created when missing."""
    return open_database(settings.resolved_database_url)


def crawl_context(
    settings: Settings, brands: Sequence[Brand], classifier: SentimentClassifier, store: MentionStore
) -> CrawlContext:
    """What every crawl works with (`kaiku crawl`, the scheduler, the demo): the brands, the configured classifier,
    the spooling writer into `store`, `store` itself for near-duplicates and norms, and the experience thresholds."""
    return CrawlContext(
        brands=list(brands),
        classifier=classifier,
        writer=mention_writer(settings, store),
        store=store,
        thresholds=experience_thresholds(settings),
    )


def team_store(settings: Settings, db: Engine | None = None) -> TeamStore:
    """Teams and keys in Kaiku's database (`db`, or the configured one), with an older Kaiku's team file
    (KAIKU_API_DB, default DATA_DIR/api.sqlite3) imported the first time one is found."""
    from kaiku.teams import TeamStore, import_legacy_teams

    db = db or database(settings)
    import_legacy_teams(db, settings.resolved_api_db)
    return TeamStore(db)


def crawl_settings_from(settings: Settings) -> dict[str, Any]:
    """The Scrapy settings every crawl takes from Kaiku's settings (`kaiku crawl` and the scheduler alike)."""
    return {
        **credential_settings(settings),  # platform credentials and the crawl state file
        "KAIKU_BATCH_SIZE": settings.batch_size,
        "KAIKU_DEDUP_LOOKUP_INDEX": settings.dedup_lookup_index,
        "KAIKU_BASELINE_MIN_HISTORY": settings.baseline_min_history,
        "KAIKU_BASELINE_DAYS": settings.baseline_days,
    }
