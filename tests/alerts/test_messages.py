"""Alert and reminder emails: languages, escaping, the API link; and the outbox's backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_string, policy

import pytest

from kaiku.alerts.messages import (
    AlertFacts,
    ReminderFacts,
    build_message,
    mentions_query_url,
    render_alert,
    render_reminder,
)
from kaiku.alerts.outbox import backoff

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 20, 12, tzinfo=UTC)


def facts(mentions: list[dict], baseline: float = 2.0) -> AlertFacts:
    return AlertFacts(
        rule_id="r1",
        brand_name="Revontuli <Hotels>",
        experience="anger",
        window=timedelta(hours=1),
        cooldown=timedelta(hours=6),
        start=START,
        peak=START,
        peak_value=14,
        baseline=baseline,
        score=9.5,
        severity="medium",
        mentions=mentions,
        query_url=mentions_query_url("https://api.example/", "revontuli", "anger", START),
    )


def test_english_alert_says_what_how_much_since_when() -> None:
    rendered = render_alert(facts([{"text": "Cold room", "url": "https://r.example/1", "title": "Bad"}]), "en")
    assert rendered.subject == "[Kaiku] Spike of angry mentions: Revontuli <Hotels> (14 in 1 h, usually 2.0)"
    assert "Since: 2026-11-20 12:00 UTC" in rendered.text
    assert "+12.0 mentions, 7.0x the baseline; score 9.5, severity medium" in rendered.text
    assert "- Bad: Cold room\n  https://r.example/1" in rendered.text
    assert (
        "https://api.example/v1/mentions?brand=revontuli&experience=anger&from=2026-11-20T12%3A00%3A00%2B00%3A00"
        in (rendered.text)
    )
    assert "Revontuli &lt;Hotels&gt;" in rendered.html and "<Hotels>" not in rendered.html


def test_finnish_alert_and_zero_baseline() -> None:
    rendered = render_alert(facts([], baseline=0.0), "fi")
    assert rendered.subject.startswith("[Kaiku] Piikki vihaisten asiakkaiden maininnoissa: Revontuli <Hotels>")
    assert "Alkaen: 2026-11-20 12:00 UTC" in rendered.text
    assert "nollasta noussut" in rendered.text and "vakavuus keskitaso" in rendered.text
    assert "(mainintojen tekstiä ei saatavilla)" in rendered.text


def test_untrusted_mention_fields_are_escaped_and_only_http_links_are_links() -> None:
    hostile = {"text": "<img src=x onerror=alert(1)>", "url": "javascript:alert(1)", "published_at": "<b>"}
    page = render_alert(facts([hostile]), "en").html
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript' not in page and "javascript:alert(1)" in page
    assert "<b>" not in page


def test_message_is_multipart_with_a_stable_message_id() -> None:
    rendered = render_alert(facts([{"text": "Kylmä huone, äänekäs käytävä", "url": "https://r.example/1"}]), "fi")
    raw = build_message(rendered, "kaiku@x.example", "to@y.example", "alert:1:to@y.example", START)
    assert raw.isascii()  # encoded for any SMTP server
    parsed = message_from_string(raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert "Kylmä huone" in parsed.get_body(preferencelist=("plain",)).get_content()
    assert "Kylmä huone" in parsed.get_body(preferencelist=("html",)).get_content()
    again = build_message(rendered, "kaiku@x.example", "to@y.example", "alert:1:to@y.example", START)
    assert message_from_string(again, policy=policy.default)["Message-ID"] == parsed["Message-ID"]


def test_reminder_in_both_languages() -> None:
    reminder = ReminderFacts(
        7, "Tunturi Inn", "owner@t.example", START, "https://r.example/9", "<called>", "https://a/"
    )
    en = render_reminder(reminder, "en")
    assert en.subject == "[Kaiku] Follow up with a customer of Tunturi Inn today"
    assert "PATCH https://a/v1/cases/7" in en.text and "&lt;called&gt;" in en.html
    assert "Seuraa tänään asiakasta" in render_reminder(reminder, "fi").subject


def test_backoff_doubles_up_to_the_cap() -> None:
    base, cap = timedelta(seconds=30), timedelta(minutes=5)
    assert [backoff(n, base, cap).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
