"""Labelled examples for the default model's head: XED (fi, en) emotions turned into polarity, plus UCI (en).

XED labels are Plutchik emotions, not polarity, so a rule decides (`xed_polarity`):
  * joy / trust are positive, anger / disgust / fear / sadness negative;
  * anticipation / surprise carry no polarity of their own: alone they make a line
    neutral, beside emotions of one polarity they follow that polarity
    (joy + surprise is exactly the "delight" Kaiku looks for);
  * a line with both positive and negative emotions is ambiguous and dropped.
UCI sentences are binary (0 negative, 1 positive); they add no neutral examples.
XED's neutral lines (`neu_fi.txt`, `neu_en.txt`: no emotion at all, per its annotators) are
**neutral**: the "nothing special" of the comfort zone. XED's projections (Kajava et al. 2020)
carry the same emotion numbers on aligned subtitles in 27 more languages; the same rule applies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.polarity import LABELS

XED_EMOTIONS = {
    1: "anger",
    2: "anticipation",
    3: "disgust",
    4: "fear",
    5: "joy",
    6: "sadness",
    7: "surprise",
    8: "trust",
}
POSITIVE_EMOTIONS = frozenset({"joy", "trust"})
NEGATIVE_EMOTIONS = frozenset({"anger", "disgust", "fear", "sadness"})
UNVALENCED_EMOTIONS = frozenset({"anticipation", "surprise"})
XED_RULE = (
    "joy/trust -> positive; anger/disgust/fear/sadness -> negative; anticipation/surprise alone -> neutral, "
    "beside emotions of one polarity -> that polarity; positive and negative emotions together -> dropped"
)
UCI_FILES = ("amazon", "imdb", "yelp")


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # one of LABELS
    lang: str  # "fi" | "en"
    source: str  # "xed" | "uci" | "xed-neutral" | "xed-projection"


def xed_polarity(emotions: Iterable[str]) -> str | None:
    """Polarity of one XED line from its emotions; None when the line is ambiguous or has no emotion."""
    found = set(emotions)
    unknown = found - POSITIVE_EMOTIONS - NEGATIVE_EMOTIONS - UNVALENCED_EMOTIONS
    if unknown:
        raise ValueError(f"not XED emotions: {sorted(unknown)}")
    positive, negative = bool(found & POSITIVE_EMOTIONS), bool(found & NEGATIVE_EMOTIONS)
    if positive and negative:
        return None
    if positive:
        return "positive"
    if negative:
        return "negative"
    return "neutral" if found else None


def _has_letters(text: str) -> bool:
    # Lines such as "!" or ", ..." carry an emotion only through the film scene; no text signal to learn.
    return any(char.isalpha() for char in text)


def read_xed(path: Path, lang: str) -> list[Example]:
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        text, _, codes = line.rpartition("\t")
        try:
            emotions = [XED_EMOTIONS[int(code)] for code in codes.split(",")]
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: bad emotion labels {codes!r}") from exc
        label = xed_polarity(emotions)
        if label is not None and _has_letters(text):
            examples.append(Example(text.strip(), label, lang, "xed"))
    return examples


def read_uci(folder: Path) -> list[Example]:
    """All three UCI files; the empty record each carries and repeated sentences are dropped."""
    labels_by_text: dict[str, set[str]] = {}
    for name in UCI_FILES:
        for record in json.loads((folder / f"{name}.json").read_text(encoding="utf-8")):
            text = (record.get("text") or "").strip()
            if text and record.get("class") in (0, 1):
                labels_by_text.setdefault(text, set()).add("positive" if record["class"] == 1 else "negative")
    # A sentence labelled both ways has no usable label.
    return [Example(text, labels.pop(), "en", "uci") for text, labels in labels_by_text.items() if len(labels) == 1]


def read_neutral(path: Path, lang: str) -> list[Example]:
    """XED's neutral lines, one per row; repeated lines and lines without a letter are dropped."""
    texts = dict.fromkeys(line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [Example(text, "neutral", lang, "xed-neutral") for text in texts if text and _has_letters(text)]


def projection_languages(data_dir: Path) -> list[str]:
    """Languages of `xed/projections/LANG-projections.tsv`, sorted."""
    folder = data_dir / "xed" / "projections"
    return sorted(path.name.removesuffix("-projections.tsv") for path in folder.glob("*-projections.tsv"))


def read_projections(data_dir: Path, lang: str) -> list[Example]:
    """One projection file; lines that are not exactly `text<TAB>emotion numbers` are skipped.

    The projected files carry alignment debris (rows with corpus paths and several tabs, quoted
    fields spanning lines): a few hundred in some languages, no usable label in any of them.
    """
    path = data_dir / "xed" / "projections" / f"{lang}-projections.tsv"
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) != 2:
            continue
        text, codes = fields[0].strip(), fields[1].split(",")
        if not all(code.strip().isdigit() and int(code) in XED_EMOTIONS for code in codes):
            continue
        label = xed_polarity(XED_EMOTIONS[int(code)] for code in codes)
        if label is not None and _has_letters(text):
            examples.append(Example(text, label, lang, "xed-projection"))
    return examples


def load_examples(data_dir: Path) -> list[Example]:
    """Every usable example under a data folder laid out as docs/sentiment.md "Data and citations" describes (XED
    annotated lines and UCI sentences)."""
    examples = read_xed(data_dir / "xed" / "fi-annotated.tsv", "fi")
    examples += read_xed(data_dir / "xed" / "en-annotated.tsv", "en")
    examples += read_uci(data_dir / "uci")
    assert all(example.label in LABELS for example in examples)
    return examples
