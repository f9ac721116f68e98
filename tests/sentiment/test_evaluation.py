"""`sentiment.evaluation` and `kaiku sentiment eval`: reading labelled files, metrics, table and JSON output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from core.polarity import Polarity
from core.settings import get_settings
from sentiment.evaluation import evaluate, format_table, read_labelled_files, slice_metrics


class KeywordClassifier:
    """Unit-test fake: 'hyvä'/'good' positive, 'huono'/'bad' negative, else neutral."""

    model_id = "keyword"
    model_version = "1"

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        out = []
        for text in texts:
            lowered = text.lower()
            if "hyvä" in lowered or "good" in lowered:
                out.append(Polarity(0.1, 0.1, 0.8))
            elif "huono" in lowered or "bad" in lowered:
                out.append(Polarity(0.8, 0.1, 0.1))
            else:
                out.append(Polarity(0.1, 0.8, 0.1))
        return out


@pytest.mark.unit
def test_reads_good_lines_and_reports_each_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "mixed.tsv"
    path.write_text(
        "positive\tHyvä palvelu\n\nno tab here\nangry\tBad label\nneutral\t   \nnegative\tHuono ruoka\n",
        encoding="utf-8",
    )
    result = read_labelled_files([path])
    assert [(e.label, e.text) for e in result.examples] == [("positive", "Hyvä palvelu"), ("negative", "Huono ruoka")]
    assert result.examples[1].origin == f"{path}:6"
    assert len(result.errors) == 3
    assert result.errors[0] == f"{path}:3: no tab between label and text"
    assert "'angry' is not one of negative, neutral, positive" in result.errors[1]
    assert result.errors[2].endswith(":5: empty text")


@pytest.mark.unit
def test_metrics_confusion_accuracy_and_macro_f1() -> None:
    gold = ["negative", "negative", "neutral", "positive", "positive", "positive"]
    predicted = ["negative", "positive", "neutral", "positive", "positive", "neutral"]
    metrics = slice_metrics(gold, predicted)
    assert metrics.n == 6
    assert metrics.accuracy == pytest.approx(4 / 6)
    assert metrics.confusion["negative"] == {"negative": 1, "neutral": 0, "positive": 1}
    assert metrics.confusion["positive"] == {"negative": 0, "neutral": 1, "positive": 2}
    # F1: negative 2*1*.5/1.5=.667, neutral 2*.5*1/1.5=.667, positive 2*(2/3)*(2/3)/(4/3)=.667
    assert metrics.macro_f1 == pytest.approx(2 / 3)


@pytest.mark.unit
def test_macro_f1_ignores_labels_without_gold() -> None:
    # A binary set (no neutral gold): a perfect classifier scores 1.0, not 2/3.
    metrics = slice_metrics(["negative", "positive"], ["negative", "positive"])
    assert metrics.macro_f1 == 1.0


@pytest.mark.unit
def test_evaluate_groups_by_detected_language_and_adds_all(tmp_path: Path) -> None:
    path = tmp_path / "both.tsv"
    path.write_text(
        "positive\tHyvä palvelu, kiitos\nnegative\tHuono ruoka\npositive\tGood food\npositive\tNot bad\n",
        encoding="utf-8",
    )
    examples = read_labelled_files([path]).examples
    detect = {"Hyvä palvelu, kiitos": "fi", "Huono ruoka": "fi", "Good food": "en", "Not bad": "en"}.__getitem__
    report = evaluate(KeywordClassifier(), examples, detect=detect)
    assert list(report) == ["polarity"]
    metrics = report["polarity"]
    assert list(metrics) == ["en", "fi", "all"]
    assert metrics["fi"].accuracy == 1.0
    assert metrics["en"].accuracy == 0.5
    assert metrics["all"].n == 4
    assert metrics["en"].f1 == {"positive": 2 / 3}  # no negative gold in en: its F1 does not count
    assert metrics["all"].pos_neg_accuracy == 0.75  # the keyword fake reads "Not bad" as negative
    table = format_table(report)
    assert "fi polarity: confusion (rows gold, columns predicted)" in table
    assert table.splitlines()[1].split() == ["en", "2", "0.500", "0.667", "-", "-", "0.667", "0.500"]


@pytest.mark.unit
def test_given_language_is_one_slice(tmp_path: Path) -> None:
    path = tmp_path / "fi.tsv"
    path.write_text("positive\tHyvä\nnegative\tGood\n", encoding="utf-8")
    examples = read_labelled_files([path]).examples

    def never(text: str) -> str:
        raise AssertionError("a given language must not be detected")

    metrics = evaluate(KeywordClassifier(), examples, lang="fi", detect=never)["polarity"]
    assert list(metrics) == ["fi"]
    assert metrics["fi"].accuracy == 0.5
    assert evaluate(KeywordClassifier(), [], lang="fi") == {}


@pytest.mark.unit
def test_experience_labels_are_scored_through_the_experience_rule(tmp_path: Path) -> None:
    from core.experience import ExperienceThresholds

    path = tmp_path / "mixed.tsv"
    path.write_text(
        "anger\tHuono ruoka\ncomfort\tTavallinen tuoli\ndelight\tHyvä palvelu\ndelight\tIhan ok\n"
        "negative\tHuono\nangry\tHuono\n",
        encoding="utf-8",
    )
    read = read_labelled_files([path])
    assert [example.task for example in read.examples] == ["experience"] * 4 + ["polarity"]
    assert read.errors == [
        f"{path}:6: label 'angry' is not one of negative, neutral, positive, anger, comfort, delight"
    ]
    report = evaluate(KeywordClassifier(), read.examples, lang="fi")
    experience = report["experience"]["fi"]
    assert experience.confusion["delight"] == {"anger": 0, "comfort": 1, "delight": 1}
    assert experience.f1 == {"anger": 1.0, "comfort": 2 / 3, "delight": 2 / 3}
    assert experience.pos_neg_accuracy is None
    assert report["polarity"]["fi"].n == 1
    # The thresholds decide: at 0.85 the keyword model's 0.8 is no longer a tail, everything is comfort.
    strict = ExperienceThresholds(text_anger=0.85, text_delight=0.85)
    assert (
        evaluate(KeywordClassifier(), read.examples, lang="fi", thresholds=strict)["experience"]["fi"].accuracy == 0.25
    )
    table = format_table(report)
    assert "fi experience: confusion (rows gold, columns predicted)" in table
    assert "F1 comfort" in table


@pytest.fixture
def run_eval(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KAIKU_SENTIMENT_MODEL", raising=False)
    monkeypatch.delenv("KAIKU_SENTIMENT_LABELS", raising=False)
    get_settings.cache_clear()

    def invoke(*args: str):
        return CliRunner().invoke(app, ["sentiment", "eval", *args])

    yield invoke
    get_settings.cache_clear()


@pytest.mark.unit
def test_cli_eval_json_with_given_language(run_eval, tiny_checkpoints: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "fi.tsv"
    path.write_text("positive\tHyvä\nnegative\tHuono\nbroken line\n", encoding="utf-8")
    result = run_eval(str(path), "--lang", "fi", "--json", "--model", str(tiny_checkpoints["three"]))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["lines"] == 2 and report["skipped"] == 1
    assert list(report["polarity"]) == ["fi"] and "experience" not in report
    fi = report["polarity"]["fi"]
    assert fi["n"] == 2
    assert sum(sum(row.values()) for row in fi["confusion"].values()) == 2
    assert f"skipped {path}:3: no tab between label and text" in result.stderr


@pytest.mark.unit
def test_cli_eval_table(run_eval, tiny_checkpoints: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "en.tsv"
    path.write_text("positive\tGreat\nneutral\tIt is a chair\n", encoding="utf-8")
    result = run_eval(str(path), "--lang", "en", "--model", str(tiny_checkpoints["three"]))
    assert result.exit_code == 0, result.output
    assert "2 lines, 0 malformed skipped" in result.stdout
    assert "en polarity: confusion (rows gold, columns predicted)" in result.stdout


@pytest.mark.unit
def test_cli_eval_reports_experience_with_the_configured_thresholds(
    run_eval, monkeypatch: pytest.MonkeyPatch, tiny_checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "experience.tsv"
    path.write_text("anger\tHuono\ncomfort\tTuoli\ndelight\tHyvä\n", encoding="utf-8")
    monkeypatch.setenv("KAIKU_EXPERIENCE_TEXT_ANGER", "0.7")
    get_settings.cache_clear()
    result = run_eval(str(path), "--lang", "fi", "--json", "--model", str(tiny_checkpoints["three"]))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # Not the default head: the delight threshold is the class default, the anger one the user's.
    assert report["experience_thresholds"] == {"text_anger": 0.7, "text_delight": 0.8}
    fi = report["experience"]["fi"]
    assert fi["n"] == 3 and set(fi["f1"]) <= {"anger", "comfort", "delight"}
    assert sum(sum(row.values()) for row in fi["confusion"].values()) == 3
    assert "polarity" not in report


@pytest.mark.unit
def test_cli_eval_errors(run_eval, tmp_path: Path) -> None:
    missing = run_eval(str(tmp_path / "nope.tsv"))
    assert missing.exit_code == 2
    assert "not a file" in missing.stderr
    empty = tmp_path / "bad.tsv"
    empty.write_text("just text\n", encoding="utf-8")
    nothing = run_eval(str(empty))
    assert nothing.exit_code == 2
    assert "no labelled lines" in nothing.stderr and "1 malformed" in nothing.stderr
