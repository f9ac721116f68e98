"""Evaluate a classifier on labelled files: per-language accuracy, macro-F1 and confusion matrix.

Input files hold one `label<TAB>text` per line, labels from `LABELS`. Malformed lines are
counted, reported with file and line number, and skipped: one bad line never hides the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sentiment.base import LABELS, SentimentClassifier

UNKNOWN_LANGUAGE = "unknown"
ALL = "all"


@dataclass(frozen=True)
class LabelledText:
    label: str
    text: str
    origin: str  # "path:line", for error messages


@dataclass
class ReadResult:
    examples: list[LabelledText] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "path:line: problem"


def read_labelled_files(paths: Sequence[Path]) -> ReadResult:
    """Every well-formed line of every file; blank lines are skipped silently, bad ones reported."""
    result = ReadResult()
    for path in paths:
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.errors.append(f"{path}: cannot read: {exc}")
            continue
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            label, tab, text = line.partition("\t")
            label, text = label.strip(), text.strip()
            if not tab:
                result.errors.append(f"{where}: no tab between label and text")
            elif label not in LABELS:
                result.errors.append(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
            elif not text:
                result.errors.append(f"{where}: empty text")
            else:
                result.examples.append(LabelledText(label, text, where))
    return result


@dataclass(frozen=True)
class SliceMetrics:
    n: int
    accuracy: float
    macro_f1: float
    # confusion[gold][predicted] = count, over LABELS in order
    confusion: dict[str, dict[str, int]]

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "confusion": self.confusion,
        }


def slice_metrics(gold: Sequence[str], predicted: Sequence[str]) -> SliceMetrics:
    """Macro-F1 averages over the labels present in `gold` (a binary set such as UCI has no neutral gold,
    and a class nobody labelled should not count as an F1 of zero)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    confusion = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    f1s = []
    for label in LABELS:
        support = sum(confusion[label].values())
        if support == 0:
            continue
        tp = confusion[label][label]
        predicted_as = sum(confusion[g][label] for g in LABELS)
        precision = tp / predicted_as if predicted_as else 0.0
        recall = tp / support
        f1s.append(0.0 if tp == 0 else 2 * precision * recall / (precision + recall))
    n = len(gold)
    correct = sum(confusion[label][label] for label in LABELS)
    return SliceMetrics(
        n=n,
        accuracy=correct / n if n else 0.0,
        macro_f1=sum(f1s) / len(f1s) if f1s else 0.0,
        confusion=confusion,
    )


def detect_language(text: str) -> str:
    """The crawler's language rule for an undeclared text (lingua, min confidence 0.5), else 'unknown'."""
    from crawler.language import decide_language

    return decide_language(text, None).lang or UNKNOWN_LANGUAGE


def evaluate(
    classifier: SentimentClassifier,
    examples: Sequence[LabelledText],
    lang: str | None = None,
    detect: Callable[[str], str] = detect_language,
) -> dict[str, SliceMetrics]:
    """Metrics per language (given, or detected per text) plus 'all' when there are several; sorted by name."""
    if not examples:
        return {}
    languages = [lang] * len(examples) if lang else [detect(example.text) for example in examples]
    predicted = [polarity.label for polarity in classifier.predict([example.text for example in examples])]
    gold = [example.label for example in examples]
    by_language: dict[str, list[int]] = {}
    for index, language in enumerate(languages):
        by_language.setdefault(language, []).append(index)
    metrics = {
        language: slice_metrics([gold[i] for i in indices], [predicted[i] for i in indices])
        for language, indices in sorted(by_language.items())
    }
    if len(metrics) != 1:
        metrics[ALL] = slice_metrics(gold, predicted)
    return metrics


def format_table(metrics: dict[str, SliceMetrics]) -> str:
    """Plain-text table: one summary row per language, then each language's confusion matrix."""
    lines = [f"{'lang':8} {'n':>6} {'accuracy':>9} {'macro-F1':>9}"]
    for language, slice_ in metrics.items():
        lines.append(f"{language:8} {slice_.n:6} {slice_.accuracy:9.3f} {slice_.macro_f1:9.3f}")
    for language, slice_ in metrics.items():
        lines.append("")
        lines.append(f"{language}: confusion (rows gold, columns predicted)")
        lines.append(f"{'':10}" + "".join(f"{label:>10}" for label in LABELS))
        for gold in LABELS:
            lines.append(f"{gold:10}" + "".join(f"{slice_.confusion[gold][p]:10}" for p in LABELS))
    return "\n".join(lines)
