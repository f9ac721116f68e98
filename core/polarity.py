"""Polarity and the sentiment interface every model implementation (sentiment/) satisfies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Polarity:
    """Probabilities over negative / neutral / positive; they sum to 1."""

    negative: float
    neutral: float
    positive: float

    @property
    def label(self) -> str:
        values = (self.negative, self.neutral, self.positive)
        return LABELS[values.index(max(values))]

    def as_dict(self) -> dict[str, float]:
        return {"negative": self.negative, "neutral": self.neutral, "positive": self.positive}


@runtime_checkable
class SentimentClassifier(Protocol):
    """Scores batches of texts into polarity probabilities.

    `model_id` and `model_version` are stored with every mention so a later
    model change can find and re-score what an older model judged.
    """

    model_id: str
    model_version: str

    def predict(self, texts: Sequence[str]) -> list[Polarity]: ...
