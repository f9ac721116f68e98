"""Batch scoring: polarity from a classifier plus the experience class and its reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.experience import DEFAULT_THRESHOLDS, Baseline, ExperienceThresholds, classify_experience
from core.mention import Experience
from core.polarity import Polarity, SentimentClassifier


@dataclass(frozen=True)
class Scored:
    polarity: Polarity
    experience: Experience
    reason: str

    @property
    def label(self) -> str:
        return self.polarity.label


def score_batch(
    classifier: SentimentClassifier,
    texts: Sequence[str],
    ratings: Sequence[tuple[float | None, float | None]] | None = None,
    thresholds: ExperienceThresholds = DEFAULT_THRESHOLDS,
    baselines: Sequence[Baseline | None] | None = None,
) -> list[Scored]:
    """Score texts in one call to the classifier; `ratings` holds (rating, rating_max) per text and `baselines`
    the norm of each text's brand (core/experience.py)."""
    if ratings is not None and len(ratings) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(ratings)} ratings")
    if baselines is not None and len(baselines) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(baselines)} baselines")
    polarities = classifier.predict(list(texts))
    pairs = ratings if ratings is not None else [(None, None)] * len(texts)
    norms = baselines if baselines is not None else [None] * len(texts)
    scored = []
    for polarity, (rating, rating_max), norm in zip(polarities, pairs, norms, strict=True):
        experience, reason = classify_experience(polarity, rating, rating_max, thresholds, norm)
        scored.append(Scored(polarity, experience, reason))
    return scored
