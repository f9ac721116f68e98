"""Language of a mention: the page's declaration, checked against lingua's detection.

Pages often declare one language for the whole site (`<html lang="en">` on a page of Finnish
reviews), so the declaration is only a prior: a confident detection that disagrees wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from lingua import IsoCode639_1, LanguageDetectorBuilder

if TYPE_CHECKING:
    from lingua import LanguageDetector

# The markets Kaiku's users sell in, plus the languages most often mistaken for them (fi/et, sv/nb/da).
DEFAULT_LANGUAGES = ("fi", "en", "sv", "de", "fr", "es", "et", "ru", "nb", "da", "it", "nl", "pl", "pt")
# At or above this, a detection overrides the declared language; lingua's values sum to 1 over the candidates.
DEFAULT_MIN_CONFIDENCE = 0.9
# Without a declaration, a weaker detection is still better than nothing.
DEFAULT_MIN_CONFIDENCE_UNDECLARED = 0.5


@dataclass(frozen=True)
class LanguageDecision:
    lang: str | None
    detected: str | None
    confidence: float
    overridden: bool  # a declared language was replaced by the detection


@lru_cache(maxsize=4)
def detector(languages: tuple[str, ...] = DEFAULT_LANGUAGES, high_accuracy: bool = True) -> LanguageDetector:
    """Built once per process and language set: loading lingua's models takes seconds and ~300 MB (high accuracy)."""
    codes = [IsoCode639_1.from_str(code) for code in languages]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    if not high_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def decide_language(
    text: str,
    declared: str | None,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    min_confidence_undeclared: float = DEFAULT_MIN_CONFIDENCE_UNDECLARED,
    high_accuracy: bool = True,
) -> LanguageDecision:
    values = detector(languages, high_accuracy).compute_language_confidence_values(text)
    if not values or values[0].value <= 0:
        return LanguageDecision(declared, None, 0.0, False)
    top = values[0]
    detected = top.language.iso_code_639_1.name.lower()
    confidence = float(top.value)
    if declared is None:
        return LanguageDecision(
            detected if confidence >= min_confidence_undeclared else None, detected, confidence, False
        )
    if detected != declared and confidence >= min_confidence:
        return LanguageDecision(detected, detected, confidence, True)
    return LanguageDecision(declared, detected, confidence, False)
