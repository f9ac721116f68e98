"""Multilingual sentiment: the polarity models behind `core.polarity.SentimentClassifier`, their conversion and
training. The experience-class rule every layer shares is core/experience.py."""

from sentiment.errors import SentimentError
from sentiment.loader import DEFAULT_SPEC, load_classifier

__all__ = ["DEFAULT_SPEC", "SentimentError", "load_classifier"]
