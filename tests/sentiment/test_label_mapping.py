"""How model labels become negative / neutral / positive."""

from __future__ import annotations

import pytest

from sentiment import SentimentError
from sentiment.models.label_mapping import map_labels, parse_label_override

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["negative", "neutral", "positive"], ["negative", "neutral", "positive"]),
        (["NEG", "NEU", "POS"], ["negative", "neutral", "positive"]),
        (["Positive", "Negative"], ["positive", "negative"]),
        (["LABEL_0", "LABEL_1"], ["negative", "positive"]),
        (["LABEL_0", "LABEL_1", "LABEL_2"], ["negative", "neutral", "positive"]),
        (["0", "1", "2"], ["negative", "neutral", "positive"]),
        (
            ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
            ["negative", "negative", "neutral", "positive", "positive"],
        ),
        (
            ["Very Negative", "Negative", "Neutral", "Positive", "Very Positive"],
            ["negative", "negative", "neutral", "positive", "positive"],
        ),
        (
            ["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3", "LABEL_4"],
            ["negative", "negative", "neutral", "positive", "positive"],
        ),
    ],
)
def test_common_label_names_are_recognised(labels: list[str], expected: list[str]) -> None:
    assert map_labels(dict(enumerate(labels))) == expected


def test_string_keys_from_a_json_config_are_accepted() -> None:
    assert map_labels({"1": "positive", "0": "negative"}) == ["negative", "positive"]


def test_unknown_labels_are_an_error_naming_them() -> None:
    with pytest.raises(SentimentError) as error:
        map_labels({0: "anger", 1: "joy", 2: "positive", 3: "sadness"})
    message = str(error.value)
    assert "'anger'" in message and "'joy'" in message and "'sadness'" in message
    assert "--labels" in message


def test_generic_labels_of_an_unusual_count_are_not_guessed() -> None:
    with pytest.raises(SentimentError, match="LABEL_3"):
        map_labels(dict(enumerate(["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3"])))


def test_override_maps_every_label_and_wins_over_names() -> None:
    id2label = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert map_labels(id2label, "LABEL_0=positive, LABEL_1=neutral,LABEL_2=negative") == [
        "positive",
        "neutral",
        "negative",
    ]
    assert map_labels({0: "anger", 1: "joy"}, "anger=negative,joy=positive") == ["negative", "positive"]
    assert map_labels({0: "anger", 1: "joy"}, "0=negative,1=positive") == ["negative", "positive"]


def test_override_must_cover_every_label() -> None:
    with pytest.raises(SentimentError, match="'optimism'"):
        map_labels({0: "anger", 1: "joy", 2: "optimism"}, "anger=negative,joy=positive")


def test_override_naming_a_missing_label_is_an_error() -> None:
    with pytest.raises(SentimentError, match="label_9"):
        map_labels({0: "LABEL_0", 1: "LABEL_1"}, "LABEL_0=negative,LABEL_1=positive,LABEL_9=neutral")


@pytest.mark.parametrize("spec", ["LABEL_0", "LABEL_0=happy", "=negative", " , "])
def test_malformed_override_is_an_error(spec: str) -> None:
    with pytest.raises(SentimentError):
        parse_label_override(spec)


def test_a_mapping_without_both_tails_is_an_error() -> None:
    with pytest.raises(SentimentError, match="both a negative and a positive"):
        map_labels({0: "LABEL_0", 1: "LABEL_1"}, "LABEL_0=negative,LABEL_1=neutral")


def test_no_labels_is_an_error() -> None:
    with pytest.raises(SentimentError):
        map_labels({})
