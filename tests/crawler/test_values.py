"""Dates, numbers, rating scales and language tags as review markup writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.extract.values import ValueProblem, parse_datetime, parse_number, primary_language, scale_rating

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-14", datetime(2026, 11, 14, tzinfo=UTC)),  # date only: midnight UTC
        ("2026-10-15T09:12:00+03:00", datetime(2026, 10, 15, 6, 12, tzinfo=UTC)),
        ("2025-03-22T18:04:11.000Z", datetime(2025, 3, 22, 18, 4, 11, tzinfo=UTC)),
        ("2026-10-15T09:12:00", datetime(2026, 10, 15, 9, 12, tzinfo=UTC)),  # no offset: taken as UTC
        ("3.2.2025", datetime(2025, 2, 3, tzinfo=UTC)),
        ("May 1, 2025", datetime(2025, 5, 1, tzinfo=UTC)),
        ("  2026-01-02 ", datetime(2026, 1, 2, tzinfo=UTC)),
    ],
)
def test_dates_become_aware_utc(raw: str, expected: datetime) -> None:
    parsed = parse_datetime(raw)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize("raw", ["eilen", "sometime last winter", "", None, "2026-13-40"])
def test_unparseable_dates_are_none(raw: str | None) -> None:
    assert parse_datetime(raw) is None


def test_numbers_take_a_decimal_comma() -> None:
    assert parse_number("4,5") == 4.5
    assert parse_number(" 3 ") == 3.0
    assert parse_number(4) == 4.0
    assert parse_number(None) is None
    assert parse_number("") is None
    with pytest.raises(ValueProblem):
        parse_number("lots")
    assert parse_number(True) is None  # JSON true is not a rating


@pytest.mark.parametrize(
    ("value", "best", "worst", "expected"),
    [
        (4, None, None, (4, 5)),  # schema.org defaults: 1..5
        (4, 5, 1, (4, 5)),
        (8, 10, None, (8, 10)),  # bestRating 10 kept as the scale
        (9.6, None, None, (9.6, 10)),  # no bestRating but above 5: a 10-point scale, not an error
        (0, 10, 0, (1, 10)),  # bottom of 0..10 stays the bottom
        (10, 10, 0, (10, 10)),  # top stays the top
        (7, 10, 0, (7.3, 10)),
        (0.8, 1, 0, (4.2, 5)),  # a 0..1 fraction onto 1..5
        (0, None, None, (1, 5)),  # 0 without worstRating: the scale starts at 0
    ],
)
def test_rating_scales(value: float, best: float | None, worst: float | None, expected: tuple[float, float]) -> None:
    assert scale_rating(value, best, worst) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "best", "worst"), [(6, 5, 1), (3, 1, 5), (-1, 5, 1)])
def test_impossible_ratings_are_problems(value: float, best: float, worst: float) -> None:
    with pytest.raises(ValueProblem):
        scale_rating(value, best, worst)


@pytest.mark.parametrize(
    ("tag", "expected"), [("fi-FI", "fi"), ("en_US", "en"), ("SV", "sv"), ("Finnish", None), ("", None), (None, None)]
)
def test_primary_language(tag: str | None, expected: str | None) -> None:
    assert primary_language(tag) == expected
