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

- Relative to the norm (docs/design.md §1): once a brand has enough scored history, an unrated mention's
  net polarity (positive - negative) is compared with the brand's own recent mentions -- or, while the
  brand has too little history, its industry's -- as a robust z-score (median and MAD). A strongly
  negative text that is usual for this brand stays in the comfort zone; a text far below the brand's norm
  is anger even when the model is less than sure; the same for delight. Rated mentions keep the rating's
  verdict: the stars already say how the experience compared with the customer's own expectation.
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
    outlier_z: float = 2.5  # |z| at or beyond this is an outlier against the norm
    usual_z: float = 1.0  # |z| within this is usual for the norm: a confident text is not an outlier

    def __post_init__(self) -> None:
        # A threshold out of range would silently make a class impossible (or universal): refuse it.
        # Above 1/3: a three-class probability can lead at 0.34, and the default head's calibrated thresholds
        # sit below 0.5 (docs/sentiment.md); at 1/3 or less every text would reach one of them.
        problems = [
            f"{name} must be above 1/3 and at most 1, got {value}"
            for name, value in (("text_anger", self.text_anger), ("text_delight", self.text_delight))
            if not 1 / 3 < value <= 1.0
        ]
        if not 0.0 <= self.rating_anger < self.rating_delight <= 1.0:
            problems.append(
                "ratings need 0 <= rating_anger < rating_delight <= 1, "
                f"got {self.rating_anger} and {self.rating_delight}"
            )
        if not 0.0 < self.usual_z < self.outlier_z:
            problems.append(f"z limits need 0 < usual_z < outlier_z, got {self.usual_z} and {self.outlier_z}")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class Baseline:
    """The norm an unrated mention is compared with: net polarity (positive - negative) of recent mentions."""

    scope: str  # e.g. "brand revontuli" or "industry hospitality", for the reason
    count: int
    median: float
    mad: float  # median absolute deviation

    MIN_SPREAD = 0.05  # a brand whose mentions all read alike still needs a finite z

    @classmethod
    def of(cls, scope: str, net_polarities: list[float]) -> Baseline:
        values = sorted(net_polarities)
        median = _median(values)
        return cls(scope, len(values), median, _median(sorted(abs(v - median) for v in values)))

    def z(self, net: float) -> float:
        return (net - self.median) / max(1.4826 * self.mad, self.MIN_SPREAD)


def _median(values: list[float]) -> float:
    if not values:
        return 0.0
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


DEFAULT_THRESHOLDS = ExperienceThresholds()


def model_text_thresholds(model: str) -> tuple[float, float]:
    """(text_anger, text_delight) a model was calibrated for: the default head stores them in its json
    (calibrated on its validation split); any other model gets the class defaults."""
    if model != "default":
        return DEFAULT_THRESHOLDS.text_anger, DEFAULT_THRESHOLDS.text_delight
    from sentiment.models.e5_head import load_head_metadata

    calibrated = load_head_metadata().get("experience", {})
    return (
        float(calibrated.get("text_anger", DEFAULT_THRESHOLDS.text_anger)),
        float(calibrated.get("text_delight", DEFAULT_THRESHOLDS.text_delight)),
    )


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
    baseline: Baseline | None = None,
) -> tuple[str, str]:
    """Return (experience, reason); `baseline` is the norm of the mention's brand (or industry), if known."""
    stars = normalise_rating(rating, rating_max)
    if stars is not None:
        return _classify_rated(polarity, stars, f"rating {rating:g}/{rating_max:g}", thresholds)
    experience, reason = _classify_text(polarity, thresholds)
    if baseline is None:  # whoever reads the norm decides whether there is enough history (crawler/baselines.py)
        return experience, reason
    return _relative(experience, reason, polarity, baseline, thresholds)


def _relative(
    experience: str, reason: str, polarity: Polarity, baseline: Baseline, t: ExperienceThresholds
) -> tuple[str, str]:
    net = polarity.positive - polarity.negative
    z = baseline.z(net)
    norm = f"{baseline.scope} norm (net polarity median {baseline.median:+.2f} over {baseline.count} mentions)"
    against = f"net polarity {net:+.2f} is z={z:+.1f} against the {norm}"
    if experience == ANGER and z > -t.usual_z:
        return COMFORT, f"{reason}; but {against}: usual for it"
    if experience == DELIGHT and z < t.usual_z:
        return COMFORT, f"{reason}; but {against}: usual for it"
    if experience == COMFORT and z <= -t.outlier_z and polarity.negative > polarity.positive:
        return ANGER, f"{reason}; but {against}: far below it"
    if experience == COMFORT and z >= t.outlier_z and polarity.positive > polarity.negative:
        return DELIGHT, f"{reason}; but {against}: far above it"
    return experience, f"{reason}; {against}"


def _classify_text(polarity: Polarity, thresholds: ExperienceThresholds) -> tuple[str, str]:
    neg, pos = polarity.negative, polarity.positive
    # With thresholds below 0.5 both tails can be reached: the more probable one decides.
    if neg >= thresholds.text_anger and not (pos >= thresholds.text_delight and pos > neg):
        return ANGER, f"no rating; text strongly negative (p={neg:.2f} >= {thresholds.text_anger:.2f})"
    if pos >= thresholds.text_delight:
        return DELIGHT, f"no rating; text strongly positive (p={pos:.2f} >= {thresholds.text_delight:.2f})"
    return COMFORT, f"no rating; no tail reached (negative {neg:.2f}, positive {pos:.2f})"
