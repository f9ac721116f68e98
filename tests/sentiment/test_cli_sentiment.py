"""`kaiku sentiment score` as a user runs it: JSON lines out, clear errors with exit code 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from core.experience import DEFAULT_THRESHOLDS, classify_experience
from core.polarity import Polarity
from core.settings import get_settings
from sentiment.models.e5_head import model_text_thresholds

INPUT = "Kamala kokemus, en suosittele kenellekään.\n\n   \nBest hotel ever, the staff were wonderful!\n"


@pytest.fixture
def score(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KAIKU_SENTIMENT_MODEL", raising=False)
    monkeypatch.delenv("KAIKU_SENTIMENT_LABELS", raising=False)

    def invoke(*args: str, stdin: str = INPUT, **env: str):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        return CliRunner().invoke(app, ["sentiment", "score", *args], input=stdin.encode("utf-8"))

    yield invoke
    get_settings.cache_clear()


def records(output: str) -> list[dict]:
    """The scored records (blank input lines get a record with label null)."""
    return [row for row in map(json.loads, output.splitlines()) if row["label"] is not None]


@pytest.mark.unit
def test_one_json_line_per_input_line_blank_lines_included(score, tiny_checkpoints: dict[str, Path]) -> None:
    result = score("--model", str(tiny_checkpoints["three"]))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(INPUT.splitlines()) == 4  # output line N answers input line N
    rows = [json.loads(line) for line in lines]
    assert [row["text"] for row in rows] == INPUT.splitlines()
    for blank in rows[1:3]:
        assert blank["label"] is None and blank["polarity"] is None and blank["experience"] is None
    assert "kenellekään" in result.stdout  # ensure_ascii=False: Finnish stays readable
    for row in (rows[0], rows[3]):
        assert set(row) == {"text", "label", "polarity", "experience", "reason"}
        assert set(row["polarity"]) == {"negative", "neutral", "positive"}
        assert row["label"] in row["polarity"]
        assert row["experience"] in {"anger", "comfort", "delight"}
        assert row["reason"]


@pytest.mark.unit
def test_model_and_labels_come_from_settings(score, tiny_checkpoints: dict[str, Path]) -> None:
    folder = str(tiny_checkpoints["emotions"])
    mapping = "anger=negative,joy=positive,optimism=positive,sadness=negative"
    result = score(KAIKU_SENTIMENT_MODEL=folder, KAIKU_SENTIMENT_LABELS=mapping)
    assert result.exit_code == 0, result.output
    assert len(records(result.stdout)) == 2


@pytest.mark.unit
def test_unmappable_labels_are_a_message_and_exit_2(score, tiny_checkpoints: dict[str, Path]) -> None:
    result = score("--model", str(tiny_checkpoints["emotions"]))
    assert result.exit_code == 2
    assert "error:" in result.output and "'optimism'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.unit
def test_unloadable_model_is_a_message_and_exit_2(score, tmp_path: Path) -> None:
    result = score("--model", str(tmp_path / "missing-model"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


@pytest.mark.unit
def test_empty_input_writes_nothing_and_blank_lines_a_null_record_each(
    score, tiny_checkpoints: dict[str, Path]
) -> None:
    result = score("--model", str(tiny_checkpoints["two"]), stdin="")
    assert result.exit_code == 0
    assert result.stdout == ""
    result = score("--model", str(tiny_checkpoints["two"]), stdin="\n \n")
    assert result.exit_code == 0
    assert [json.loads(line)["label"] for line in result.stdout.splitlines()] == [None, None]


@pytest.mark.slow
def test_default_model_end_to_end(score, converted_cache: Path) -> None:
    stdin = "Huono palvelu ja likainen huone, ei koskaan enää.\nBest hotel ever, the staff were wonderful!\n"
    result = score(stdin=stdin, KAIKU_MODEL_CACHE_DIR=str(converted_cache))
    assert result.exit_code == 0, result.output
    negative, positive = records(result.stdout)
    assert negative["label"] == "negative"
    assert positive["label"] == "positive"
    assert positive["experience"] == "delight"


@pytest.mark.unit
def test_model_named_on_the_command_line_brings_its_own_thresholds(score, tiny_checkpoints: dict[str, Path]) -> None:
    # The configured model is the default head (calibrated thresholds below 0.5); --model names a model
    # without stored thresholds, which must be judged at the class defaults (0.80), not at the head's.
    configured = model_text_thresholds("default")
    assert max(configured) < DEFAULT_THRESHOLDS.text_anger  # else this test could not tell them apart
    result = score("--model", str(tiny_checkpoints["two"]))
    assert result.exit_code == 0, result.output
    rows = records(result.stdout)
    # A two-label model's larger probability is at least 0.5, above the head's thresholds: had those been
    # applied, every row would be a tail. Below 0.80 the class defaults leave a row in the comfort zone.
    assert any(max(row["polarity"].values()) < DEFAULT_THRESHOLDS.text_anger for row in rows)
    for row in rows:
        polarity = Polarity(**row["polarity"])
        assert (row["experience"], row["reason"]) == classify_experience(polarity, thresholds=DEFAULT_THRESHOLDS)


@pytest.mark.slow
def test_default_model_on_the_command_line_brings_its_calibrated_thresholds(
    score, converted_cache: Path, tiny_checkpoints: dict[str, Path]
) -> None:
    stdin = "Best hotel ever, the staff were wonderful!\n"
    result = score(
        "--model",
        "default",
        stdin=stdin,
        KAIKU_MODEL_CACHE_DIR=str(converted_cache),
        KAIKU_SENTIMENT_MODEL=str(tiny_checkpoints["three"]),
    )
    assert result.exit_code == 0, result.output
    [row] = records(result.stdout)
    _, delight = model_text_thresholds("default")
    assert row["experience"] == "delight"
    assert row["reason"].endswith(f">= {delight:.2f})")
    assert delight != DEFAULT_THRESHOLDS.text_delight
