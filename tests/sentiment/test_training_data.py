"""The XED emotion -> polarity rule and the readers of the training data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentiment.training_data import read_uci, read_xed, xed_polarity

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("emotions", "expected"),
    [
        ({"joy"}, "positive"),
        ({"joy", "trust"}, "positive"),
        ({"joy", "surprise"}, "positive"),
        ({"anger", "disgust"}, "negative"),
        ({"fear", "anticipation"}, "negative"),
        ({"sadness"}, "negative"),
        ({"anticipation"}, "neutral"),
        ({"surprise", "anticipation"}, "neutral"),
        ({"joy", "sadness"}, None),
        ({"trust", "anger", "surprise"}, None),
        (set(), None),
    ],
)
def test_xed_polarity_rule(emotions: set[str], expected: str | None) -> None:
    assert xed_polarity(emotions) == expected


def test_unknown_emotion_is_an_error() -> None:
    with pytest.raises(ValueError, match="love"):
        xed_polarity({"love"})


def test_read_xed_applies_the_rule_and_drops_letterless_lines(tmp_path: Path) -> None:
    source = tmp_path / "fi-annotated.tsv"
    source.write_text(
        "Ihanaa!\t5\nMitä nyt?\t7, 2\nVihaan tätä.\t1, 3\nKyllä ja ei.\t5, 6\n!\t1, 4\n\n", encoding="utf-8"
    )
    examples = read_xed(source, "fi")
    assert [(example.text, example.label) for example in examples] == [
        ("Ihanaa!", "positive"),
        ("Mitä nyt?", "neutral"),
        ("Vihaan tätä.", "negative"),
    ]
    assert {example.lang for example in examples} == {"fi"}


def test_read_xed_reports_the_bad_line(tmp_path: Path) -> None:
    source = tmp_path / "en-annotated.tsv"
    source.write_text("fine\t5\nbroken\t9\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        read_xed(source, "en")


def test_read_uci_drops_empty_records_and_conflicting_repeats(tmp_path: Path) -> None:
    records = {
        "amazon": [{"text": "Great phone.", "class": 1}, {"text": "", "class": None}],
        "imdb": [{"text": "Dull film.", "class": 0}, {"text": "Great phone.", "class": 1}],
        "yelp": [{"text": "So-so.", "class": 1}, {"text": "So-so.", "class": 0}],
    }
    for name, rows in records.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(rows), encoding="utf-8")
    examples = read_uci(tmp_path)
    assert sorted((example.text, example.label) for example in examples) == [
        ("Dull film.", "negative"),
        ("Great phone.", "positive"),
    ]
