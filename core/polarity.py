"""Polarity and the sentiment interface every model implementation (sentiment/) satisfies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from core.mention import POLARITY_LABELS, Polarity

LABELS = POLARITY_LABELS


@runtime_checkable
class SentimentClassifier(Protocol):
    """Scores batches of texts into polarity probabilities.

    `model_id` and `model_version` are stored with every mention so a later
    model change can find and re-score what an older model judged.
    """

    model_id: str
    model_version: str

    def predict(self, texts: Sequence[str]) -> list[Polarity]: ...
