"""The bundled demo site has what the demo and the crawler tests rely on, and its server serves it."""

from __future__ import annotations

import re
import socket
import struct
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.robotparser import RobotFileParser

import pytest

from cli.demo.server import SITE_DIR, serve_site, shift_dates
from core.config import load_config
from crawler.brands import BrandMatcher
from crawler.extract import ReviewRecord, extract_reviews

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
BASE = "http://demo.test"


def _reviews_by_page() -> dict[str, tuple[list[ReviewRecord], list[str]]]:
    pages = {}
    for path in sorted(SITE_DIR.glob("*.html")):
        result = extract_reviews(path.read_bytes(), f"{BASE}/{path.name}")
        pages[path.name] = (result.reviews, [problem.code for problem in result.problems])
    return pages


PAGES = _reviews_by_page()
REVIEWS = [review for reviews, _ in PAGES.values() for review in reviews]


def stars(review: ReviewRecord) -> float | None:
    """Rating on a 5-point scale, whatever the page's scale."""
    if review.rating is None or review.rating_max is None:
        return None
    return 1 + (review.rating - 1) * 4 / (review.rating_max - 1)


@pytest.mark.unit
def test_size_and_languages() -> None:
    assert 8 <= len(PAGES) <= 12
    assert 25 <= len(REVIEWS) <= 40
    langs = {re.search(r'<html lang="(\w+)"', (SITE_DIR / name).read_text("utf-8")).group(1) for name in PAGES}
    assert {"fi", "en"} <= langs


@pytest.mark.unit
def test_ratings_spread_over_the_scale_and_dates_over_about_three_months() -> None:
    assert {round(s) for r in REVIEWS if (s := stars(r)) is not None} == {1, 2, 3, 4, 5}
    dates = sorted(r.published_at for r in REVIEWS if r.published_at)
    assert 60 <= (dates[-1] - dates[0]).days <= 100


@pytest.mark.unit
def test_the_two_tails_and_the_comfort_zone_are_there() -> None:
    furious = [r for r in REVIEWS if r.lang == "fi" and r.rating == 1 and "Kamala kokemus" in r.text]
    assert furious and "en suosittele kenellekään" in furious[0].text
    delighted = [r for r in REVIEWS if r.lang == "en" and stars(r) == 5]
    assert len(delighted) >= 1
    comfort = [r for r in REVIEWS if (s := stars(r)) is not None and 3 <= s <= 4]
    assert len(comfort) >= 8


@pytest.mark.unit
def test_both_brands_one_unrelated_brand_and_a_broken_page() -> None:
    matcher = BrandMatcher(load_config(CONFIGS).brands)
    brands_by_page = {
        name: {b for r in reviews for b in matcher.match(f"{r.title}. {r.text}", r.item_reviewed).brands}
        for name, (reviews, _) in PAGES.items()
    }
    assert {"revontuli", "tunturi"} <= set().union(*brands_by_page.values())
    assert brands_by_page["merituuli-spa.html"] == set()
    assert "malformed_jsonld" in PAGES["lukijoiden-kokemuksia.html"][1]
    markups = {r.markup for r in REVIEWS}
    assert markups == {"json-ld", "microdata"}


@pytest.mark.unit
def test_listings_paginate_with_rel_next() -> None:
    for first, second in [
        ("revontuli-levi.html", "revontuli-levi-2.html"),
        ("revontuli-helsinki.html", "revontuli-helsinki-2.html"),
        ("tunturi-yllas.html", "tunturi-yllas-2.html"),
    ]:
        html = (SITE_DIR / first).read_text("utf-8")
        assert re.search(rf'rel="next" href="/{re.escape(second)}"', html), first
        index = (SITE_DIR / "index.html").read_text("utf-8")
        assert f"/{second}" not in index  # reachable only by following the pagination


@pytest.mark.integration
def test_server_serves_the_site_on_a_free_port_and_robots_allow_everything() -> None:
    with serve_site(port=0) as site:
        assert site.url.startswith("http://127.0.0.1:") and site.port > 0
        with urllib.request.urlopen(site.url + "/") as response:
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert "Pohjoisen Yöt" in response.read().decode("utf-8")
        robots = RobotFileParser(site.url + "/robots.txt")
        robots.read()
        assert robots.can_fetch("Kaiku/0.1.0", site.url + "/revontuli-levi.html")
    with pytest.raises(OSError):
        urllib.request.urlopen(site.url + "/", timeout=2)


@pytest.mark.unit
def test_shift_dates_moves_every_date_format_of_the_site_and_nothing_else() -> None:
    text = "2026-11-14 · 2026-10-15T09:12:00+03:00 · 14.11.2026 · 28 December 2026 · © 2026 · 3.5/5 · v1.2.2026x"
    assert shift_dates(text, 2) == (
        "2026-11-28 · 2026-10-29T09:12:00+03:00 · 28.11.2026 · 11 January 2027 · © 2026 · 3.5/5 · v1.2.2026x"
    )
    assert shift_dates(text, 0) == text


@pytest.mark.integration
@pytest.mark.parametrize("today", [date(2026, 11, 16), date(2026, 11, 30), date(2027, 3, 28), date(2031, 6, 5)])
def test_served_relative_to_today_the_reviews_end_last_week(today: date) -> None:
    """`kaiku demo` serves the site dated relative to today: "last week" always has reviews, none is in the future."""
    this_monday = today - timedelta(days=today.weekday())
    with serve_site(port=0, today=today) as site:
        reviews = []
        for name in PAGES:
            with urllib.request.urlopen(f"{site.url}/{name}") as response:
                reviews += extract_reviews(response.read(), f"{BASE}/{name}").reviews
    assert len(reviews) == len(REVIEWS)
    served = sorted(r.published_at.date() for r in reviews if r.published_at)
    written = sorted(r.published_at.date() for r in REVIEWS if r.published_at)
    assert this_monday - timedelta(days=7) <= served[-1] < this_monday  # the newest review is from last week
    shifts = {(s - w).days for s, w in zip(served, written, strict=True)}
    assert len(shifts) == 1 and shifts.pop() % 7 == 0  # whole weeks: weekdays and spacing as written
    last_week = [r for r in reviews if r.published_at and this_monday - timedelta(days=7) <= r.published_at.date()]
    assert any(r.rating == 1 and r.lang == "fi" and "Kamala kokemus" in r.text for r in last_week)


def test_a_client_that_resets_its_connection_is_no_error_of_the_site(capfd: pytest.CaptureFixture[str]) -> None:
    # A crawl that stops, or a browser tab closed, drops its connection mid-request: the site goes on quietly.
    with serve_site(port=0) as site:
        client = socket.create_connection((site.host, site.port))
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        client.sendall(b"GET / HTTP/1.1\r\nHost: demo")  # half a request: the site is reading when the reset comes
        time.sleep(0.2)
        client.close()
        time.sleep(0.2)
        with urllib.request.urlopen(f"{site.url}/robots.txt", timeout=10) as response:
            assert response.status == 200
    assert "Traceback" not in capfd.readouterr().err
