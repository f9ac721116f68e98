"""What the API process holds for its lifetime: settings, the engine client, the loaded model."""

from __future__ import annotations

from dataclasses import dataclass

from elasticsearch import Elasticsearch
from sqlalchemy import Engine

from kaiku.settings import Settings
from sentiment import SentimentClassifier


@dataclass
class AppState:
    settings: Settings
    client: Elasticsearch
    classifier: SentimentClassifier | None = None
    model_error: str | None = None
    db: Engine | None = None  # Kaiku's own database, opened on first use (cases)
