"""Evaluate a classifier on labelled files: per-language accuracy, macro-F1, per-class F1 and confusion matrix.

Input files hold one `label<TAB>text` per line. A polarity label (negative / neutral / positive) is
scored against the model's polarity; an experience label (anger / comfort / delight) against the
experience rule applied to it as to an unrated mention (core/experience.py, with the given
thresholds and no brand norm). One file may mix both. Malformed lines are counted, reported with
file and line number, and skipped: one bad line never hides the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.experience import ANGER, COMFORT, DEFAULT_THRESHOLDS, DELIGHT, ExperienceThresholds, classify_experience
from core.language import decide_language
from core.polarity import LABELS, SentimentClassifier

UNKNOWN_LANGUAGE = "unknown"
ALL = "all"
POLARITY, EXPERIENCE = "polarity", "experience"
EXPERIENCES = (ANGER, COMFORT, DELIGHT)
TASK_LABELS = {POLARITY: LABELS, EXPERIENCE: EXPERIENCES}


@dataclass(frozen=True)
class LabelledText:
    label: str
    text: str
    origin: str  # "path:line", for error messages

    @property
    def task(self) -> str:
        return POLARITY if self.label in LABELS else EXPERIENCE


@dataclass
class ReadResult:
    examples: list[LabelledText] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "path:line: problem"


def read_labelled_files(paths: Sequence[Path]) -> ReadResult:
    """Every well-formed line of every file; blank lines are skipped silently, bad ones reported."""
    known = LABELS + EXPERIENCES
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
            elif label not in known:
                result.errors.append(f"{where}: label {label!r} is not one of {', '.join(known)}")
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
    # confusion[gold][predicted] = count, over `labels` in order
    confusion: dict[str, dict[str, int]]
    f1: dict[str, float]  # per label present in the gold data
    # Polarity only: among gold negative / positive lines, how often P(negative) vs P(positive) is right.
    pos_neg_accuracy: float | None = None

    def as_dict(self) -> dict[str, object]:
        report: dict[str, object] = {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "f1": {label: round(value, 4) for label, value in self.f1.items()},
            "confusion": self.confusion,
        }
        if self.pos_neg_accuracy is not None:
            report["pos_neg_accuracy"] = round(self.pos_neg_accuracy, 4)
        return report


def slice_metrics(
    gold: Sequence[str],
    predicted: Sequence[str],
    labels: Sequence[str] = LABELS,
    pos_neg_correct: Sequence[bool] | None = None,
) -> SliceMetrics:
    """Macro-F1 averages over the labels present in `gold` (a binary set such as UCI has no neutral gold,
    and a class nobody labelled should not count as an F1 of zero)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    f1s = {}
    for label in labels:
        support = sum(confusion[label].values())
        if support == 0:
            continue
        tp = confusion[label][label]
        predicted_as = sum(confusion[g][label] for g in labels)
        precision = tp / predicted_as if predicted_as else 0.0
        recall = tp / support
        f1s[label] = 0.0 if tp == 0 else 2 * precision * recall / (precision + recall)
    n = len(gold)
    correct = sum(confusion[label][label] for label in labels)
    return SliceMetrics(
        n=n,
        accuracy=correct / n if n else 0.0,
        macro_f1=sum(f1s.values()) / len(f1s) if f1s else 0.0,
        confusion=confusion,
        f1=f1s,
        pos_neg_accuracy=sum(pos_neg_correct) / len(pos_neg_correct) if pos_neg_correct else None,
    )


def detect_language(text: str) -> str:
    """The crawler's language rule for an undeclared text (lingua, min confidence 0.5), else 'unknown'."""
    return decide_language(text, None).lang or UNKNOWN_LANGUAGE


def evaluate(
    classifier: SentimentClassifier,
    examples: Sequence[LabelledText],
    lang: str | None = None,
    detect: Callable[[str], str] = detect_language,
    thresholds: ExperienceThresholds = DEFAULT_THRESHOLDS,
) -> dict[str, dict[str, SliceMetrics]]:
    """{task: {language: metrics}} for the tasks present ('polarity', 'experience'); languages given or
    detected per text, sorted by name, plus 'all' when there are several."""
    if not examples:
        return {}
    languages = [lang] * len(examples) if lang else [detect(example.text) for example in examples]
    polarities = classifier.predict([example.text for example in examples])
    predicted = [
        polarity.label if example.task == POLARITY else classify_experience(polarity, thresholds=thresholds)[0]
        for example, polarity in zip(examples, polarities, strict=True)
    ]
    # Whether P(negative) vs P(positive) gets a gold negative / positive line right; None for other lines.
    pos_neg = [
        (polarity.negative >= polarity.positive) == (example.label == "negative")
        if example.label in ("negative", "positive")
        else None
        for example, polarity in zip(examples, polarities, strict=True)
    ]

    def metrics(task: str, indices: list[int]) -> SliceMetrics:
        return slice_metrics(
            [examples[i].label for i in indices],
            [predicted[i] for i in indices],
            TASK_LABELS[task],
            [correct for i in indices if (correct := pos_neg[i]) is not None] if task == POLARITY else None,
        )

    report: dict[str, dict[str, SliceMetrics]] = {}
    for task in (POLARITY, EXPERIENCE):
        by_language: dict[str, list[int]] = {}
        for index, language in enumerate(languages):
            if examples[index].task == task:
                by_language.setdefault(language, []).append(index)
        if not by_language:
            continue
        report[task] = {language: metrics(task, indices) for language, indices in sorted(by_language.items())}
        if len(by_language) != 1:
            report[task][ALL] = metrics(task, [i for indices in by_language.values() for i in indices])
    return report


def format_table(report: dict[str, dict[str, SliceMetrics]]) -> str:
    """Plain-text tables per task: one summary row per language, then each language's confusion matrix."""
    lines: list[str] = []
    for task, metrics in report.items():
        labels = TASK_LABELS[task]
        if lines:
            lines.append("")
        header = f"{task:10} {'n':>6} {'accuracy':>9} {'macro-F1':>9} " + " ".join(
            f"{'F1 ' + label:>11}" for label in labels
        )
        lines.append(header + (f" {'pos/neg acc':>11}" if task == POLARITY else ""))
        for language, slice_ in metrics.items():
            f1s = " ".join(f"{slice_.f1[label]:11.3f}" if label in slice_.f1 else f"{'-':>11}" for label in labels)
            row = f"{language:10} {slice_.n:6} {slice_.accuracy:9.3f} {slice_.macro_f1:9.3f} {f1s}"
            if task == POLARITY:
                row += f" {slice_.pos_neg_accuracy:11.3f}" if slice_.pos_neg_accuracy is not None else f" {'-':>11}"
            lines.append(row)
        for language, slice_ in metrics.items():
            lines.append("")
            lines.append(f"{language} {task}: confusion (rows gold, columns predicted)")
            lines.append(f"{'':10}" + "".join(f"{label:>10}" for label in labels))
            for gold in labels:
                lines.append(f"{gold:10}" + "".join(f"{slice_.confusion[gold][p]:10}" for p in labels))
    return "\n".join(lines)
