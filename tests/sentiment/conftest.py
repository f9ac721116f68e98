"""Sentiment fixtures: tiny random checkpoints built on the spot, and one conversion of the real model per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sentiment.tiny_models import build_tiny_checkpoint


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    variants = {
        "two": ["LABEL_0", "LABEL_1"],
        "three": ["negative", "neutral", "positive"],
        "five": ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
        "emotions": ["anger", "joy", "optimism", "sadness"],
        "bare": None,
    }
    return {name: build_tiny_checkpoint(root / name, labels) for name, labels in variants.items()}
