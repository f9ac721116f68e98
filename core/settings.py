"""Process settings from the environment (prefix KAIKU_); built by `get_settings`, never at import time."""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import ConfigError
from core.defaults import BASELINE_DAYS, BASELINE_MIN_HISTORY, BATCH_SIZE
from core.experience import DEFAULT_THRESHOLDS, ExperienceThresholds

# The sample configuration in the checkout: read-only seed of a user's editable configuration, never written.
REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"
CONFIG_FILES = ("brands.yaml", "sources.yaml", "alerts.yaml")


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("kaiku"))


def seed_config_dir(target: Path, samples: Path = REPO_CONFIGS) -> None:
    """Copy the sample configuration into `target` if it holds none yet; a configured folder is left alone.

    A folder with a brands.yaml is configured (sources.yaml and alerts.yaml are optional, and a user may have
    removed them on purpose), so nothing is ever copied over a user's files.
    """
    if (target / "brands.yaml").exists() or not samples.is_dir():
        return
    target.mkdir(parents=True, exist_ok=True)
    for name in CONFIG_FILES:
        sample, copy = samples / name, target / name
        if sample.exists() and not copy.exists():
            # Written under a temporary name and renamed: a process starting beside this one never reads half a file.
            partial = target / f".{name}.seeding-{os.getpid()}"
            shutil.copyfile(sample, partial)
            os.replace(partial, copy)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAIKU_", extra="forbid")

    config_dir: Path = Field(
        default=Path(),  # replaced in _editable_config_dir unless KAIKU_CONFIG_DIR is set
        description="Folder holding brands/sources/alerts YAML; default: <data_dir>/config when KAIKU_DATA_DIR is set, "
        "else the user's config dir, seeded from the sample configs/ on first use",
    )
    data_dir: Path = Field(default_factory=_default_data_dir, description="Kaiku's own state")
    elasticsearch_url: str | None = Field(
        default=None,
        description="An Elasticsearch cluster (or the local engine) holding the mentions; unset: the embedded store",
    )
    store_path: Path | None = Field(
        default=None, description="The embedded mention store (SQLite) [<data_dir>/mentions.sqlite3]"
    )
    elasticsearch_api_key: str | None = None
    engine_host: str = "127.0.0.1"
    engine_port: int = 9200
    index_alias: str = "kaiku-mentions"
    sentiment_model: str = Field(
        default="default", description="'default' (offline e5 + head), a transformers hub id or a folder"
    )
    sentiment_labels: str | None = Field(
        default=None, description="Label mapping for a transformers model, e.g. 'LABEL_0=negative,...'"
    )
    model_cache_dir: Path | None = None
    device: str = "cpu"
    batch_size: int = BATCH_SIZE
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = Field(
        default=1, ge=1, le=64, description="API server processes on the one port (`kaiku serve`): one per core"
    )
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest request body the API reads")
    demo_site_port: int = 8765
    baseline_min_history: int = Field(
        default=BASELINE_MIN_HISTORY, ge=1, description="Mentions a brand needs before its own norm counts"
    )
    baseline_days: int = Field(default=BASELINE_DAYS, ge=7, description="How far back a brand's norm looks")
    # The experience rule's thresholds (docs/sentiment.md, "The experience class"); checked together below.
    # Unset: the sentiment model's own calibrated values (the default head's json), else the rule's defaults.
    experience_text_anger: float | None = Field(
        default=None, description="Unrated: P(negative) from which a text is anger [default: the model's]"
    )
    experience_text_delight: float | None = Field(
        default=None, description="Unrated: P(positive) from which it is delight [default: the model's]"
    )
    experience_rating_anger: float = Field(default=0.25, description="Rating on [0, 1] at or below which it is anger")
    experience_rating_delight: float = Field(default=1.0, description="Rating on [0, 1] from which it is delight")
    experience_outlier_z: float = Field(default=2.5, description="|z| against the brand's norm that makes an outlier")
    experience_usual_z: float = Field(default=1.0, description="|z| within which a confident text is usual")
    allow_private_urls: bool = Field(
        default=False, description="Let crawls fetch loopback and private addresses (development, tests, the demo)"
    )
    spool_dir: Path | None = Field(default=None, description="Mentions waiting for the engine (default DATA_DIR/spool)")
    # Platform credentials (docs/crawler.md): only ever from the environment, never from configs/.
    crawl_state_path: Path | None = Field(default=None, description="Incremental crawl state [<data_dir>/...]")
    mastodon_token: str | None = None
    bluesky_token: str | None = None
    bluesky_handle: str | None = None
    bluesky_app_password: str | None = None
    reddit_client_id: str | None = None
    reddit_client_secret: str | None = None
    youtube_api_key: str | None = None
    # Alerts, outbox, cases and the scheduler (docs/alerts.md).
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL for incidents, outbox, cases; unset: SQLite in data_dir"
    )
    scheduler_url: str | None = Field(default=None, description="SQLAlchemy URL of the job store; unset: database")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "kaiku@localhost"
    smtp_timeout: float = 10.0
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle to verify the SMTP server; unset: system")
    public_api_url: str = Field(default="http://127.0.0.1:8000", description="Base of the API links in emails")
    alert_history_days: int = Field(default=28, ge=1, description="Counts read per check for the baseline")
    alert_check_interval_minutes: int = Field(default=5, ge=1)
    outbox_interval_seconds: int = Field(default=60, ge=5)
    outbox_retry_base_seconds: int = Field(default=30, ge=1)
    outbox_retry_max_seconds: int = Field(default=3600, ge=1)
    crawl_shard: int = Field(default=0, ge=0, description="This crawl worker's share of the sources (0-based)")
    crawl_shards: int = Field(default=1, ge=1, description="How many crawl workers share the sources")
    crawl_nice: int = Field(
        default=10, ge=0, le=19, description="Niceness of crawl processes (0-19): higher yields the CPU to the API"
    )
    followup_days: int = Field(default=10, ge=1, description="A responded case is followed up this many days later")
    retention_days: int | None = Field(default=None, ge=1, description="Delete mentions older than this; unset: keep")
    scheduler_misfire_grace_seconds: int | None = Field(
        default=None, ge=1, description="A run later than this is skipped; unset: run once however late"
    )
    admin_key: SecretStr | None = Field(default=None, description="Key for /v1/admin (teams and keys); unset: no admin")
    metrics_key: SecretStr | None = Field(
        default=None, description="Key that may read /metrics only (for Prometheus); the admin key may too"
    )
    api_db: Path | None = Field(
        default=None,
        description="Teams file of Kaiku before teams moved into the database: imported into it once, on the first "
        "start that finds it, then no longer read (default DATA_DIR/api.sqlite3)",
    )
    rate_limit_storage: str = Field(
        default="database",
        description="Where rate limits are counted: `database` (Kaiku's database, shared by every API replica), "
        "`memory://` (each API process on its own) or a storage URI of the `limits` library (redis://host:6379)",
    )
    rate_limit_per_minute: int = Field(default=600, ge=1, description="Sustained requests per minute per API key")
    rate_limit_burst: int = Field(default=60, ge=1, description="Requests one key may send at once")
    team_rate_limit_per_minute: int = Field(
        default=1200, ge=1, description="Sustained requests per minute per team, all its keys together"
    )
    team_rate_limit_burst: int = Field(default=120, ge=1, description="Requests one team may send at once")
    team_searches_in_flight: int = Field(
        default=2, ge=1, description="Full-text searches one team may have running at once (429 beyond)"
    )
    expanding_searches_in_flight: int = Field(
        default=1, ge=1, description="Searches with prefix or fuzzy terms running at once, all teams together"
    )
    auth_failures_per_minute: int = Field(
        default=10, ge=1, description="Failed authentications per minute one client address may make"
    )
    auth_failure_burst: int = Field(
        default=20, ge=1, description="Failed authentications in a row before an address gets 429"
    )
    cors_allowed_origins: str = Field(
        default="", description="Comma-separated origins a browser may call the API from; empty: none (no CORS)"
    )
    torch_threads: int | None = Field(
        default=None, description="CPU threads for scoring; unset: the cores this process may run on"
    )
    precision: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto",
        description="Scoring number format; auto: bfloat16 where the device computes it natively, else float32",
    )

    def experience_thresholds(self, calibrated: tuple[float, float] | None = None) -> ExperienceThresholds:
        """The experience rule's thresholds: each one the user set, else for the text thresholds the scoring model's
        calibrated (text_anger, text_delight) where given (kaiku.wiring.experience_thresholds reads them from the
        model), else the rule's defaults."""
        default_anger, default_delight = calibrated or (DEFAULT_THRESHOLDS.text_anger, DEFAULT_THRESHOLDS.text_delight)
        return ExperienceThresholds(
            text_anger=default_anger if self.experience_text_anger is None else self.experience_text_anger,
            text_delight=default_delight if self.experience_text_delight is None else self.experience_text_delight,
            rating_anger=self.experience_rating_anger,
            rating_delight=self.experience_rating_delight,
            outlier_z=self.experience_outlier_z,
            usual_z=self.experience_usual_z,
        )

    @model_validator(mode="after")
    def _thresholds_consistent(self) -> Settings:
        # The checks do not depend on the model's calibrated text thresholds: each is in range on its own.
        try:
            self.experience_thresholds()  # ExperienceThresholds checks its values when built
        except ValueError as exc:
            message = str(exc)
            for name in ExperienceThresholds.__dataclass_fields__:  # the variables the user set, by their names
                message = message.replace(name, f"KAIKU_EXPERIENCE_{name.upper()}")
            raise ValueError(message) from exc
        return self

    @model_validator(mode="after")
    def _editable_config_dir(self) -> Settings:
        # The management API writes the configuration, so it lives with the user's files, never in the checkout.
        if "config_dir" not in self.model_fields_set:
            explicit_data_dir = "data_dir" in self.model_fields_set
            self.config_dir = (
                self.data_dir / "config" if explicit_data_dir else Path(platformdirs.user_config_dir("kaiku"))
            )
            seed_config_dir(self.config_dir)
        return self

    @model_validator(mode="after")
    def _shard_in_range(self) -> Settings:
        if self.crawl_shard >= self.crawl_shards:
            raise ValueError(
                f"KAIKU_CRAWL_SHARD must be below KAIKU_CRAWL_SHARDS ({self.crawl_shards}), got {self.crawl_shard}"
            )
        return self

    # Look for near-duplicates of new mentions in the index too (one query each; docs/crawler.md has the cost).
    dedup_lookup_index: bool = True

    @property
    def engine_data_dir(self) -> Path:
        return self.data_dir / "engine"

    @property
    def resolved_spool_dir(self) -> Path:
        return self.spool_dir or self.data_dir / "spool"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or Path(platformdirs.user_cache_dir("kaiku")) / "models"

    @property
    def resolved_crawl_state_path(self) -> Path:
        return self.crawl_state_path or self.data_dir / "crawl-state.json"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'kaiku.db'}"

    @property
    def resolved_scheduler_url(self) -> str:
        return self.scheduler_url or self.resolved_database_url

    @property
    def resolved_api_db(self) -> Path:
        return self.api_db or self.data_dir / "api.sqlite3"

    @property
    def resolved_store_path(self) -> Path:
        return self.store_path or self.data_dir / "mentions.sqlite3"

    @property
    def engine_url(self) -> str:
        return self.elasticsearch_url or f"http://{self.engine_host}:{self.engine_port}"


@lru_cache
def get_settings() -> Settings:
    """The process settings; an invalid environment variable is a ConfigError naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  KAIKU_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"environment: invalid settings\n{problems}") from exc
