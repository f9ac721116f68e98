"""The experience class relative to the brand's own norm (and its industry's while the brand has little history)."""

from __future__ import annotations

import pytest

from core.experience import Baseline, ExperienceThresholds, classify_experience
from core.polarity import Polarity

pytestmark = pytest.mark.unit

# A budget airline: most of what is written about it is negative (net polarity around -0.6).
GRUMBLED_AT = Baseline.of("brand budget-air", [-0.6 + 0.2 * ((n % 5) - 2) for n in range(100)])
# A luxury hotel: most of what is written about it is mildly positive (net around +0.4).
ADORED = Baseline.of("brand grand-hotel", [0.4 + 0.1 * ((n % 5) - 2) for n in range(100)])


def test_baseline_is_a_robust_median_and_spread() -> None:
    assert GRUMBLED_AT.count == 100 and GRUMBLED_AT.median == pytest.approx(-0.6)
    assert GRUMBLED_AT.mad == pytest.approx(0.2)
    assert GRUMBLED_AT.z(-0.6) == pytest.approx(0.0)
    assert GRUMBLED_AT.z(-0.9) == pytest.approx(-0.3 / (1.4826 * 0.2))
    assert Baseline.of("flat", [0.2] * 60).z(0.3) == pytest.approx(0.1 / Baseline.MIN_SPREAD)


def test_a_strongly_negative_text_is_ordinary_for_a_brand_people_always_grumble_about() -> None:
    angry = Polarity(0.85, 0.1, 0.05)  # net -0.80: above the 0.80 threshold, anger without a norm
    assert classify_experience(angry)[0] == "anger"
    experience, reason = classify_experience(angry, baseline=GRUMBLED_AT)
    assert experience == "comfort"
    assert "brand budget-air norm" in reason and "usual for it" in reason


def test_a_moderately_negative_text_is_anger_for_a_brand_that_is_usually_praised() -> None:
    upset = Polarity(0.6, 0.25, 0.15)  # net -0.45: no tail in absolute terms
    assert classify_experience(upset)[0] == "comfort"
    experience, reason = classify_experience(upset, baseline=ADORED)
    assert experience == "anger" and "far below it" in reason and "z=" in reason


def test_praise_that_is_usual_stays_comfort_and_rare_praise_is_delight() -> None:
    glowing = Polarity(0.02, 0.08, 0.9)
    assert classify_experience(glowing, baseline=ADORED)[0] == "delight"  # +0.88 is far above +0.4
    pleased = Polarity(0.1, 0.4, 0.5)  # net +0.40, exactly the luxury hotel's norm
    assert classify_experience(pleased, baseline=ADORED)[0] == "comfort"
    assert classify_experience(pleased, baseline=GRUMBLED_AT)[0] == "delight"  # +0.40 is rare for the airline


def test_no_norm_and_ratings_leave_the_absolute_rule_in_charge() -> None:
    angry = Polarity(0.85, 0.1, 0.05)
    assert classify_experience(angry, baseline=None) == classify_experience(angry)
    stricter = ExperienceThresholds(usual_z=0.5)  # the usual band is configuration
    assert classify_experience(angry, baseline=GRUMBLED_AT, thresholds=stricter)[0] == "anger"
    rated = classify_experience(angry, rating=1, rating_max=5, baseline=GRUMBLED_AT)
    assert rated[0] == "anger" and "norm" not in rated[1]  # the stars are the customer's own verdict
