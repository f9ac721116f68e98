"""Multilingual sentiment: polarity models and the experience class rule."""

from sentiment.base import LABELS, Polarity, SentimentClassifier, SentimentError
from sentiment.experience import ExperienceThresholds, classify_experience
from sentiment.loader import DEFAULT_SPEC, load_classifier
from sentiment.scoring import Scored, score_batch

__all__ = [
    "DEFAULT_SPEC",
    "LABELS",
    "ExperienceThresholds",
    "Polarity",
    "Scored",
    "SentimentClassifier",
    "SentimentError",
    "classify_experience",
    "load_classifier",
    "score_batch",
]
