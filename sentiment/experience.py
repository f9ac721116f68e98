"""Experience class: anger / comfort / delight from the model's intensity and the star rating.

The rule is deliberately explainable; every decision returns its reason, which is
stored with the mention. Outliers are the tails only: an ordinary negative or
positive remark stays in the comfort zone.

- With a star rating, the rating is the customer's own verdict against their
  expectations, so it anchors the class: the bottom of the scale is anger and the
  top is delight when the text leans the same way; everything between is comfort.
  The text cannot promote a 4-star review to delight: models are over-confident
  on mildly positive prose.
- Without a rating, the text decides, and only when the model is confident.

Relative baselines (brand and industry norms) come later, once history exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sentiment.base import Polarity

ANGER, COMFORT, DELIGHT = "anger", "comfort", "delight"


@dataclass(frozen=True)
class ExperienceThresholds:
    """Where the tails begin. Probabilities are the model's; ratings are normalised to [0, 1]."""

    text_anger: float = 0.80  # unrated: P(negative) at or above this is an angry text
    text_delight: float = 0.80  # unrated: P(positive) at or above this is a delighted text
    rating_anger: float = 0.25  # normalised rating at or below (1-2 of 5 stars) is the angry tail
    rating_delight: float = 1.0  # normalised rating at or above (5 of 5 stars) is the delighted tail


DEFAULT_THRESHOLDS = ExperienceThresholds()


def normalise_rating(rating: float | None, rating_max: float | None, rating_min: float = 1.0) -> float | None:
    """Map a rating on [rating_min, rating_max] onto [0, 1]; None when there is no usable rating."""
    if rating is None or rating_max is None or rating_max <= rating_min:
        return None
    return min(1.0, max(0.0, (rating - rating_min) / (rating_max - rating_min)))


def _classify_rated(polarity: Polarity, stars: float, rating_text: str, t: ExperienceThresholds) -> tuple[str, str]:
    neg, pos = polarity.negative, polarity.positive
    leaning = f"negative {neg:.2f}, positive {pos:.2f}"
    if stars <= t.rating_anger:
        if neg > pos:
            return ANGER, f"{rating_text} at the bottom of the scale and text leans negative ({leaning})"
        return COMFORT, f"{rating_text} at the bottom of the scale but text does not lean negative ({leaning})"
    if stars >= t.rating_delight:
        if pos > neg:
            return DELIGHT, f"{rating_text} at the top of the scale and text leans positive ({leaning})"
        return COMFORT, f"{rating_text} at the top of the scale but text does not lean positive ({leaning})"
    return COMFORT, f"{rating_text} in the middle of the scale ({leaning})"


def classify_experience(
    polarity: Polarity,
    rating: float | None = None,
    rating_max: float | None = None,
    thresholds: ExperienceThresholds = DEFAULT_THRESHOLDS,
) -> tuple[str, str]:
    """Return (experience, reason)."""
    stars = normalise_rating(rating, rating_max)
    if stars is not None:
        return _classify_rated(polarity, stars, f"rating {rating:g}/{rating_max:g}", thresholds)
    neg, pos = polarity.negative, polarity.positive
    if neg >= thresholds.text_anger:
        return ANGER, f"no rating; text strongly negative (p={neg:.2f} >= {thresholds.text_anger:.2f})"
    if pos >= thresholds.text_delight:
        return DELIGHT, f"no rating; text strongly positive (p={pos:.2f} >= {thresholds.text_delight:.2f})"
    return COMFORT, f"no rating; no tail reached (negative {neg:.2f}, positive {pos:.2f})"
