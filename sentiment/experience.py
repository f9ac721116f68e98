"""Experience class: anger / comfort / delight from the model's intensity and the star rating.

The rule is deliberately explainable; every decision returns its reason, which is
stored with the mention. Outliers are the tails only: an ordinary negative or
positive remark stays in the comfort zone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sentiment.base import Polarity

ANGER, COMFORT, DELIGHT = "anger", "comfort", "delight"


@dataclass(frozen=True)
class ExperienceThresholds:
    """Where the tails begin. Probabilities are the model's; ratings are normalised to [0, 1]."""

    text_anger: float = 0.80        # P(negative) at or above this is an angry text
    text_delight: float = 0.80      # P(positive) at or above this is a delighted text
    rating_anger: float = 0.25      # normalised rating at or below (1 of 5 stars) is angry
    rating_delight: float = 1.0     # normalised rating at or above (5 of 5 stars) is delighted
    rating_support: float = 0.50    # with an extreme rating, the text must lean this way at least this much


def normalise_rating(rating: float | None, rating_max: float | None, rating_min: float = 1.0) -> float | None:
    """Map a rating on [rating_min, rating_max] onto [0, 1]; None when there is no usable rating."""
    if rating is None or rating_max is None or rating_max <= rating_min:
        return None
    return min(1.0, max(0.0, (rating - rating_min) / (rating_max - rating_min)))


def classify_experience(
    polarity: Polarity,
    rating: float | None = None,
    rating_max: float | None = None,
    thresholds: ExperienceThresholds = ExperienceThresholds(),
) -> tuple[str, str]:
    """Return (experience, reason)."""
    t = thresholds
    neg, pos = polarity.negative, polarity.positive
    stars = normalise_rating(rating, rating_max)
    rating_text = f"rating {rating:g}/{rating_max:g}" if stars is not None else ""

    if stars is not None:
        if stars <= t.rating_anger and neg >= t.rating_support:
            return ANGER, f"{rating_text} at the bottom of the scale and text negative (p={neg:.2f})"
        if stars >= t.rating_delight and pos >= t.rating_support:
            return DELIGHT, f"{rating_text} at the top of the scale and text positive (p={pos:.2f})"
    if neg >= t.text_anger:
        return ANGER, f"text strongly negative (p={neg:.2f} >= {t.text_anger:.2f})" + (
            f"; {rating_text}" if rating_text else ""
        )
    if pos >= t.text_delight:
        return DELIGHT, f"text strongly positive (p={pos:.2f} >= {t.text_delight:.2f})" + (
            f"; {rating_text}" if rating_text else ""
        )
    parts = [f"no tail reached (negative {neg:.2f}, positive {pos:.2f})"]
    if rating_text:
        parts.append(rating_text)
    return COMFORT, "; ".join(parts)
