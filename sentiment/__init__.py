"""Multilingual sentiment: polarity models and the experience class rule."""

from sentiment.base import LABELS, Polarity, SentimentClassifier, SentimentError
from sentiment.experience import ExperienceThresholds, classify_experience
from sentiment.scoring import Scored, score_batch

__all__ = [
    "LABELS",
    "ExperienceThresholds",
    "Polarity",
    "Scored",
    "SentimentClassifier",
    "SentimentError",
    "classify_experience",
    "score_batch",
]
