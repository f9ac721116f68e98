"""TransformersClassifier on tiny random checkpoints the tests build themselves (no download, no real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment import SentimentError
from sentiment.loader import load_classifier
from tests.sentiment.contract import check_classifier_contract

pytestmark = pytest.mark.unit


def load(folder: Path, **options):
    return load_classifier(str(folder), cache_dir=folder.parent / "unused-cache", **options)


@pytest.mark.parametrize("variant", ["two", "three", "five"])
def test_tiny_checkpoints_keep_the_contract(tiny_checkpoints: dict[str, Path], variant: str) -> None:
    classifier = load(tiny_checkpoints[variant], batch_size=2)
    assert classifier.model_id == str(tiny_checkpoints[variant])
    check_classifier_contract(classifier)


def test_two_label_model_has_no_neutral(tiny_checkpoints: dict[str, Path]) -> None:
    classifier = load(tiny_checkpoints["two"])
    assert classifier.label_polarities == ["negative", "positive"]
    assert all(polarity.neutral == 0.0 for polarity in classifier.predict(["ok", "best hotel ever"]))


def test_five_star_model_merges_the_ends(tiny_checkpoints: dict[str, Path]) -> None:
    import torch

    classifier = load(tiny_checkpoints["five"], precision="float32")  # exact sums: no rounding of bfloat16
    assert classifier.label_polarities == ["negative", "negative", "neutral", "positive", "positive"]
    encoded = classifier.tokenizer(["kamala kokemus"], return_tensors="pt")
    with torch.inference_mode():
        stars = torch.softmax(classifier.model(**encoded).logits, dim=-1)[0].tolist()
    polarity = classifier.predict(["kamala kokemus"])[0]
    assert polarity.negative == pytest.approx(stars[0] + stars[1], abs=1e-5)
    assert polarity.neutral == pytest.approx(stars[2], abs=1e-5)
    assert polarity.positive == pytest.approx(stars[3] + stars[4], abs=1e-5)


def test_explicit_mapping_overrides_the_names(tiny_checkpoints: dict[str, Path]) -> None:
    classifier = load(tiny_checkpoints["two"], labels="LABEL_0=positive,LABEL_1=negative")
    assert classifier.label_polarities == ["positive", "negative"]


def test_unmappable_labels_name_themselves(tiny_checkpoints: dict[str, Path]) -> None:
    with pytest.raises(SentimentError) as error:
        load(tiny_checkpoints["emotions"])
    assert "'anger'" in str(error.value) and "'optimism'" in str(error.value)
    mapped = load(tiny_checkpoints["emotions"], labels="anger=negative,joy=positive,optimism=positive,sadness=negative")
    assert mapped.label_polarities == ["negative", "positive", "positive", "negative"]


def test_version_names_the_folder_and_hashes_the_weights(tiny_checkpoints: dict[str, Path]) -> None:
    import hashlib

    folder = tiny_checkpoints["three"]
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert load(folder, precision="float32").model_version == f"three+{digest[:12]}"


def test_a_base_model_without_a_trained_head_is_refused(tiny_checkpoints: dict[str, Path]) -> None:
    with pytest.raises(SentimentError, match="not a trained sequence classifier"):
        load(tiny_checkpoints["bare"])


def test_an_unloadable_folder_is_a_sentiment_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty-model"
    empty.mkdir()
    with pytest.raises(SentimentError, match="cannot load sentiment model"):
        load(empty)
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{ not json")
    with pytest.raises(SentimentError, match="cannot load sentiment model"):
        load(broken)


def test_a_missing_folder_is_not_sent_to_the_hub(tmp_path: Path) -> None:
    with pytest.raises(SentimentError, match="does not exist"):
        load(tmp_path / "no-such-model")


def test_an_unusable_device_is_a_sentiment_error(tiny_checkpoints: dict[str, Path]) -> None:
    with pytest.raises(SentimentError, match="device"):
        load(tiny_checkpoints["three"], device="no-such-device")


def test_loader_rejects_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(SentimentError, match="no sentiment model"):
        load_classifier("  ", cache_dir=tmp_path)
    with pytest.raises(SentimentError, match="label mapping applies to transformers models only"):
        load_classifier("default", cache_dir=tmp_path, labels="LABEL_0=negative")
    with pytest.raises(SentimentError, match="batch size"):
        load_classifier("default", cache_dir=tmp_path, batch_size=0)
