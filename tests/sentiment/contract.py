"""The contract every `SentimentClassifier` keeps; each implementation's tests run it on a loaded model."""

from __future__ import annotations

import math

from core.polarity import LABELS, Polarity, SentimentClassifier

CONTRACT_TEXTS = [
    "Kamala kokemus, en suosittele kenellekään.",
    "ok",
    "Best hotel ever, the staff were wonderful!",
    "Hotellin aamiainen oli erinomainen ja henkilökunta ystävällistä, palaamme varmasti uudelleen ensi kesänä.",
    "x " * 700,  # far beyond 512 tokens: must be truncated, not fail
]


def check_classifier_contract(classifier: SentimentClassifier) -> list[Polarity]:
    assert isinstance(classifier, SentimentClassifier)
    assert classifier.model_id and isinstance(classifier.model_id, str)
    assert classifier.model_version and isinstance(classifier.model_version, str)
    assert classifier.predict([]) == []

    batch = classifier.predict(CONTRACT_TEXTS)
    assert len(batch) == len(CONTRACT_TEXTS)
    for polarity in batch:
        assert isinstance(polarity, Polarity)
        values = list(polarity.as_dict().values())
        assert all(0.0 <= value <= 1.0 for value in values)
        assert math.isclose(sum(values), 1.0, abs_tol=1e-4)
        assert polarity.label in LABELS

    # Length sorting and padding must not change any text's result, nor the output order. Reduced
    # precisions round a batch's sums differently from a single text's: about 1e-3 in bfloat16.
    tolerance = 1e-4 if getattr(classifier, "precision", "float32") == "float32" else 1e-2
    one_by_one = [classifier.predict([text])[0] for text in CONTRACT_TEXTS]
    for batched, single in zip(batch, one_by_one, strict=True):
        for name in LABELS:
            assert math.isclose(getattr(batched, name), getattr(single, name), abs_tol=tolerance), (batched, single)
    return batch
