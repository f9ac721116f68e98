"""The XED emotion -> polarity rule and the readers of the training data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentiment.training.data import (
    projection_languages,
    read_neutral,
    read_projections,
    read_uci,
    read_xed,
    xed_polarity,
)

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


def test_read_neutral_keeps_each_line_once(tmp_path: Path) -> None:
    source = tmp_path / "neu_fi.txt"
    source.write_text("Mennään kotiin.\n\nMennään kotiin.\n...\nKello on viisi.\n", encoding="utf-8")
    examples = read_neutral(source, "fi")
    assert [(example.text, example.label, example.source) for example in examples] == [
        ("Mennään kotiin.", "neutral", "xed-neutral"),
        ("Kello on viisi.", "neutral", "xed-neutral"),
    ]


def test_read_projections_skips_alignment_debris(tmp_path: Path) -> None:
    folder = tmp_path / "xed" / "projections"
    folder.mkdir(parents=True)
    (folder / "de-projections.tsv").write_text(
        "Das Geschäft läuft sehr schlecht.\t6\n"
        "Was ist mit dir passiert?\t4, 7\n"
        "en/1990/1.xml.gz\tde/1990/2.xml.gz\t288\t263\tThat guy.\tDer Typ.\t6, 7\n"  # several tabs
        'Noel equals Leon."""\tNoel ist Leon.\n'  # a quoted field spilling over: no emotion numbers
        "Großartig!\t5, 9\n",  # 9 is no XED emotion
        encoding="utf-8",
    )
    (folder / "fr-projections.tsv").write_text("Merci beaucoup.\t8\n", encoding="utf-8")
    assert projection_languages(tmp_path) == ["de", "fr"]
    examples = read_projections(tmp_path, "de")
    assert [(example.text, example.label, example.lang, example.source) for example in examples] == [
        ("Das Geschäft läuft sehr schlecht.", "negative", "de", "xed-projection"),
        ("Was ist mit dir passiert?", "negative", "de", "xed-projection"),
    ]


def test_comfort_templates_are_neutral_split_apart_and_not_the_behaviour_table() -> None:
    from sentiment.training.comfort import comfort_examples, split_comfort
    from tests.sentiment.test_behaviour import MUST, TABLE

    examples = comfort_examples()
    assert {example.label for example in examples} == {"neutral"}
    assert {example.lang for example in examples} == {"fi", "en"}
    train, held = split_comfort(seed=20201208)
    assert len(train) + len(held) == len(examples)
    assert not {example.text for example in train} & {example.text for example in held}
    assert {example.lang for example in held} == {"fi", "en"}
    # The behavioural check must test what the head generalises to, not what it was shown.
    assert not {example.text.lower() for example in examples} & {text.lower() for text, _ in MUST + TABLE}
