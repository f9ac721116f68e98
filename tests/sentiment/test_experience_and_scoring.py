"""The anger / comfort / delight rule and batch scoring, with a fake classifier (no model needed)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.experience import ExperienceThresholds, classify_experience, normalise_rating
from core.polarity import Polarity, SentimentClassifier
from core.scoring import score_batch

pytestmark = pytest.mark.unit


class KeywordClassifier:
    """Deterministic stand-in: 'awful' is negative, 'great' positive, anything else neutral."""

    model_id = "test/keywords"
    model_version = "1"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        self.calls.append(list(texts))
        return [
            Polarity(0.9, 0.05, 0.05)
            if "awful" in text
            else Polarity(0.05, 0.05, 0.9)
            if "great" in text
            else Polarity(0.2, 0.6, 0.2)
            for text in texts
        ]


def test_the_fake_keeps_the_protocol() -> None:
    assert isinstance(KeywordClassifier(), SentimentClassifier)


@pytest.mark.parametrize(
    ("polarity", "rating", "rating_max", "experience", "reason_part"),
    [
        (Polarity(0.85, 0.1, 0.05), None, None, "anger", "strongly negative"),
        (Polarity(0.05, 0.1, 0.85), None, None, "delight", "strongly positive"),
        (Polarity(0.6, 0.3, 0.1), None, None, "comfort", "no tail reached"),
        (Polarity(0.6, 0.3, 0.1), 1, 5, "anger", "rating 1/5"),
        (Polarity(0.1, 0.3, 0.6), 5, 5, "delight", "rating 5/5"),
        (Polarity(0.1, 0.3, 0.6), 1, 5, "comfort", "rating 1/5"),  # the text does not back the extreme rating
        (Polarity(0.45, 0.1, 0.45), 3, 5, "comfort", "rating 3/5"),
        # A rating anchors the class; the text only has to lean the same way.
        (Polarity(0.85, 0.1, 0.05), 5, 5, "comfort", "does not lean positive"),
        (Polarity(0.02, 0.03, 0.95), 4, 5, "comfort", "middle of the scale"),  # text cannot promote a 4-star review
        (Polarity(0.55, 0.2, 0.25), 2, 5, "anger", "bottom of the scale"),
        (Polarity(0.40, 0.1, 0.50), 10, 10, "delight", "rating 10/10"),
        (Polarity(0.05, 0.1, 0.85), 7, 10, "comfort", "rating 7/10"),
    ],
)
def test_experience_rule(polarity, rating, rating_max, experience, reason_part) -> None:
    found, reason = classify_experience(polarity, rating, rating_max)
    assert found == experience
    assert reason_part in reason


def test_thresholds_are_configurable() -> None:
    lenient = ExperienceThresholds(text_anger=0.5)
    assert classify_experience(Polarity(0.6, 0.3, 0.1), thresholds=lenient)[0] == "anger"


@pytest.mark.parametrize(
    ("rating", "rating_max", "expected"),
    [(1, 5, 0.0), (5, 5, 1.0), (3, 5, 0.5), (None, 5, None), (4, None, None), (7, 5, 1.0), (10, 10, 1.0)],
)
def test_normalise_rating(rating, rating_max, expected) -> None:
    assert normalise_rating(rating, rating_max) == expected


def test_score_batch_calls_the_classifier_once_and_keeps_order() -> None:
    classifier = KeywordClassifier()
    texts = ["great stay", "awful food", "it was a hotel"]
    scored = score_batch(classifier, texts, ratings=[(None, None), (1, 5), (3, 5)])
    assert classifier.calls == [texts]
    assert [item.label for item in scored] == ["positive", "negative", "neutral"]
    assert [item.experience for item in scored] == ["delight", "anger", "comfort"]
    assert "rating 1/5" in scored[1].reason


def test_score_batch_rejects_mismatched_ratings() -> None:
    with pytest.raises(ValueError, match="2 texts but 1 ratings"):
        score_batch(KeywordClassifier(), ["a", "b"], ratings=[(None, None)])
