"""Map a sequence-classification model's own labels onto negative / neutral / positive.

Sentiment models name their outputs in many ways ("negative", "NEG", "LABEL_0",
"1 star", "very positive"). Each output index gets one polarity; probabilities of
outputs that share a polarity are added (so a 5-star model's "4 stars" and
"5 stars" both count as positive). A polarity no output maps to gets 0, as
neutral does for a 2-label model. Anything unrecognised is an error naming the
labels, never a guess; `labels="LABEL_0=negative,..."` states the mapping outright.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.polarity import LABELS
from sentiment.errors import SentimentError

NEGATIVE, NEUTRAL, POSITIVE = LABELS

_NAMED = {
    NEGATIVE: {"negative", "neg", "very negative", "very_negative"},
    NEUTRAL: {"neutral", "neu"},
    POSITIVE: {"positive", "pos", "very positive", "very_positive"},
}
_BY_NAME = {name: polarity for polarity, names in _NAMED.items() for name in names}
_STARS = re.compile(r"^([1-5])\s*stars?$")
_GENERIC = re.compile(r"^(?:label_?)?(\d+)$")
# Generic names (LABEL_0, "0") follow the common convention of ordered scales: low index is negative.
_ORDERED = {
    2: (NEGATIVE, POSITIVE),
    3: (NEGATIVE, NEUTRAL, POSITIVE),
    5: (NEGATIVE, NEGATIVE, NEUTRAL, POSITIVE, POSITIVE),
}
_STAR_POLARITY = {1: NEGATIVE, 2: NEGATIVE, 3: NEUTRAL, 4: POSITIVE, 5: POSITIVE}


def _normalise(name: str) -> str:
    return " ".join(str(name).strip().lower().split())


def parse_label_override(spec: str) -> dict[str, str]:
    """'LABEL_0=negative, LABEL_1=positive' -> {'label_0': 'negative', 'label_1': 'positive'} (keys normalised)."""
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        name, sep, polarity = part.partition("=")
        name, polarity = _normalise(name), _normalise(polarity)
        if not sep or not name:
            raise SentimentError(f"label mapping {part.strip()!r} is not of the form LABEL=polarity")
        if polarity not in LABELS:
            raise SentimentError(f"label mapping {part.strip()!r}: polarity must be one of {', '.join(LABELS)}")
        if name in mapping and mapping[name] != polarity:
            raise SentimentError(f"label mapping names {name!r} twice")
        mapping[name] = polarity
    if not mapping:
        raise SentimentError(f"label mapping {spec!r} is empty")
    return mapping


def _guess(name: str, index: int, n_labels: int) -> str | None:
    key = _normalise(name)
    if key in _BY_NAME:
        return _BY_NAME[key]
    if match := _STARS.match(key):
        return _STAR_POLARITY[int(match.group(1))]
    if (match := _GENERIC.match(key)) and n_labels in _ORDERED and int(match.group(1)) == index:
        return _ORDERED[n_labels][index]
    return None


def map_labels(id2label: Mapping[int, str] | Mapping[str, str], override: str | None = None) -> list[str]:
    """The polarity of every model output, in output index order."""
    if not id2label:
        raise SentimentError("the model declares no labels (config.id2label is empty)")
    by_index = {int(index): str(name) for index, name in id2label.items()}  # JSON configs give string keys
    indices = sorted(by_index)
    if indices != list(range(len(indices))):
        raise SentimentError(f"the model's label indices are not 0..{len(indices) - 1}: {indices}")
    names = [by_index[index] for index in indices]
    if override is not None:
        explicit = parse_label_override(override)
        resolved = [explicit.get(_normalise(name), explicit.get(str(index))) for index, name in enumerate(names)]
        unknown = sorted(set(explicit) - {_normalise(name) for name in names} - {str(i) for i in indices})
        if unknown:
            raise SentimentError(f"label mapping names labels the model does not have: {', '.join(unknown)}")
    else:
        resolved = [_guess(name, index, len(names)) for index, name in enumerate(names)]
    missing = [name for name, polarity in zip(names, resolved, strict=True) if polarity is None]
    if missing:
        raise SentimentError(
            f"cannot map the model's labels {', '.join(map(repr, missing))} onto negative/neutral/positive "
            f"(model labels: {', '.join(names)}); give a mapping, e.g. --labels "
            f"'{','.join(f'{name}=...' for name in names)}'"
        )
    polarities = [polarity for polarity in resolved if polarity is not None]
    if NEGATIVE not in polarities or POSITIVE not in polarities:
        raise SentimentError(
            f"the label mapping {dict(zip(names, polarities, strict=True))} needs both a negative and a positive label"
        )
    return polarities
