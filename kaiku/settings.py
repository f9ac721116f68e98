"""Process settings from the environment (prefix KAIKU_); built by `get_settings`, never at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kaiku.config import ConfigError

REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("kaiku"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAIKU_", extra="forbid")

    config_dir: Path = Field(default=REPO_CONFIGS, description="Folder holding brands/sources/alerts YAML")
    data_dir: Path = Field(default_factory=_default_data_dir, description="Kaiku's own state")
    elasticsearch_url: str | None = Field(
        default=None, description="A real cluster; unset means the local development engine"
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
    batch_size: int = 32
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    demo_site_port: int = 8765
    # Look for near-duplicates of new mentions in the index too (one query each; docs/crawler.md has the cost).
    dedup_lookup_index: bool = True

    @property
    def engine_data_dir(self) -> Path:
        return self.data_dir / "engine"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or Path(platformdirs.user_cache_dir("kaiku")) / "models"

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
