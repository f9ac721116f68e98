"""The alert and reminder emails: multipart text + HTML, in English or Finnish.

Everything that comes from a mention (title, text, URL, author) is untrusted: it is HTML-escaped in the HTML
part, and only http(s) URLs become links.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any, Literal, cast
from urllib.parse import urlencode

Language = Literal["en", "fi"]
EXCERPT_CHARS = 280
CHART_CID = "spike-chart@kaiku"

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "anger": "angry",
        "delight": "delighted",
        "subject": "[Kaiku] Spike of {experience} mentions: {brand} ({peak:g} in {window}, usually {baseline:.1f})",
        "headline": "Mentions of {brand} by {experience} customers have spiked.",
        "since": "Since",
        "peak": "Peak",
        "peak_line": "{peak:g} mentions in the {window} from {peak_at} (usual for that time: {baseline:.1f})",
        "change": "Change",
        "change_line": "{delta:+.1f} mentions, {ratio} the baseline; score {score:.1f}, severity {severity}",
        "top": "Latest {experience} mentions",
        "none": "(no mention text available)",
        "query": "All the mentions behind this alert",
        "footer": "Alert rule {rule}. You get one email per incident; a new one only after a quiet {cooldown}.",
        "times": "{ratio:.1f}x",
        "from_zero": "up from zero",
        "chart_alt": "Chart of {brand} {experience} mentions per {window} over the last days, with the usual band; "
        "the incident from {since} is shaded.",
        "intense": "Most intense {experience} mentions",
        "next": "What you can do next",
        "next_case": "Open a follow-up case for a mention (POST {cases}, body {body}); the owner gets a reminder.",
        "budget": "Alert budget",
        "budget_line": "{held} more spike(s) were held back by the rule's budget of {budget} incidents per week",
        "reminder_subject": "[Kaiku] Follow up with a customer of {brand} today",
        "reminder_headline": "You responded to this {brand} customer on {responded}. Now is the time to follow up.",
        "reminder_case": "Case {case} (status: responded), owner {owner}",
        "reminder_mention": "The mention",
        "reminder_note": "Note",
        "reminder_footer": "Mark the case followed up through the API: PATCH {api}/v1/cases/{case}",
    },
    "fi": {
        "anger": "vihaisten",
        "delight": "ilahtuneiden",
        "subject": "[Kaiku] Piikki {experience} asiakkaiden maininnoissa: {brand} ({peak:g} / {window}, "
        "tavallisesti {baseline:.1f})",
        "headline": "Brändin {brand} maininnat {experience} asiakkaiden joukossa ovat nousseet piikkiin.",
        "since": "Alkaen",
        "peak": "Huippu",
        "peak_line": "{peak:g} mainintaa jaksossa {window} alkaen {peak_at} (tavallisesti tähän aikaan {baseline:.1f})",
        "change": "Muutos",
        "change_line": "{delta:+.1f} mainintaa, {ratio} tavanomaiseen; pisteet {score:.1f}, vakavuus {severity}",
        "top": "Uusimmat maininnat",
        "none": "(mainintojen tekstiä ei saatavilla)",
        "query": "Kaikki hälytyksen taustalla olevat maininnat",
        "footer": "Hälytyssääntö {rule}. Saat yhden viestin häiriötä kohden; uuden vasta {cooldown} hiljaisen jakson "
        "jälkeen.",
        "times": "{ratio:.1f}-kertainen",
        "from_zero": "nollasta noussut",
        "chart_alt": "Kaavio: brändin {brand} {experience} asiakkaiden maininnat jaksoittain ({window}) viime "
        "päiviltä tavanomaisen vaihteluvälin kanssa; häiriö alkaen {since} on korostettu.",
        "intense": "Voimakkaimmat maininnat",
        "next": "Mitä voit tehdä seuraavaksi",
        "next_case": "Avaa maininnasta seurantatapaus (POST {cases}, runko {body}); vastuuhenkilö saa muistutuksen.",
        "budget": "Hälytysbudjetti",
        "budget_line": "Säännön budjetti ({budget} häiriötä viikossa) pidätti {held} muuta piikkiä",
        "reminder_subject": "[Kaiku] Seuraa tänään asiakasta: {brand}",
        "reminder_headline": "Vastasit tälle brändin {brand} asiakkaalle {responded}. Nyt on aika kysyä, miten asia "
        "ratkesi.",
        "reminder_case": "Tapaus {case} (tila: vastattu), vastuuhenkilö {owner}",
        "reminder_mention": "Maininta",
        "reminder_note": "Muistiinpano",
        "reminder_footer": "Merkitse tapaus seuratuksi API:n kautta: PATCH {api}/v1/cases/{case}",
    },
}

_SEVERITY_FI = {"low": "matala", "medium": "keskitaso", "high": "korkea"}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    chart: bytes | None = None  # PNG referenced by the HTML as cid:CHART_CID


@dataclass(frozen=True)
class AlertFacts:
    """What an alert email says; built by the check from the incident, the rule and the index."""

    rule_id: str
    brand_name: str
    experience: str
    window: timedelta
    cooldown: timedelta
    start: datetime
    peak: datetime
    peak_value: float
    baseline: float
    score: float
    severity: str
    mentions: list[dict[str, Any]]
    query_url: str
    intense: list[dict[str, Any]] = field(default_factory=list)  # the most intense mentions of the incident
    cases_url: str | None = None  # POST here opens a follow-up case
    chart: bytes | None = None  # PNG of the last days (kaiku.alerts.chart), inline in the HTML part
    held_back: int = 0  # spikes the alert budget held back before this incident
    max_per_week: int | None = None


def duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def mentions_query_url(api_base: str, brand: str, experience: str, start: datetime) -> str:
    """The `/v1/mentions` request that lists the mentions behind an alert."""
    params = {"brand": brand, "experience": experience, "from": start.isoformat()}
    return f"{api_base.rstrip('/')}/v1/mentions?{urlencode(params)}"


def _safe_href(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _excerpt(mention: dict[str, Any]) -> str:
    text = " ".join(str(mention.get("text") or "").split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1].rstrip() + "…"
    title = " ".join(str(mention.get("title") or "").split())
    return f"{title}: {text}" if title and text else title or text


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def render_alert(facts: AlertFacts, language: Language) -> RenderedEmail:
    t = _TEXTS[language]
    experience = t[facts.experience]
    window = duration_text(facts.window)
    ratio = t["times"].format(ratio=facts.peak_value / facts.baseline) if facts.baseline > 0 else t["from_zero"]
    severity = _SEVERITY_FI.get(facts.severity, facts.severity) if language == "fi" else facts.severity
    values = {
        "experience": experience,
        "brand": facts.brand_name,
        "peak": facts.peak_value,
        "window": window,
        "baseline": facts.baseline,
        "peak_at": _when(facts.peak),
        "delta": facts.peak_value - facts.baseline,
        "ratio": ratio,
        "score": facts.score,
        "severity": severity,
        "rule": facts.rule_id,
        "cooldown": duration_text(facts.cooldown),
    }
    subject = t["subject"].format(**values)
    rows = [
        (t["since"], _when(facts.start)),
        (t["peak"], t["peak_line"].format(**values)),
        (t["change"], t["change_line"].format(**values)),
    ]
    if facts.held_back:
        rows.append((t["budget"], t["budget_line"].format(held=facts.held_back, budget=facts.max_per_week)))
    top = t["top"].format(**values)
    text_lines = [t["headline"].format(**values), ""]
    text_lines += [f"{label}: {value}" for label, value in rows]
    text_lines += ["", f"{top}:"]
    for mention in facts.mentions:
        excerpt = _excerpt(mention) or t["none"]
        text_lines.append(f"- {excerpt}\n  {mention.get('url') or ''} ({mention.get('published_at') or ''})")
    html_items = [_html_mention(mention, t["none"]) for mention in facts.mentions]
    if not facts.mentions:
        text_lines.append(t["none"])
    text_lines += ["", f"{t['query']}: {facts.query_url}", "", t["footer"].format(**values)]
    query_href = html.escape(facts.query_url, quote=True)
    html_rows = "".join(f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    chart = ""
    if facts.chart:
        alt = t["chart_alt"].format(**values, since=_when(facts.start))
        chart = f'<p><img src="cid:{CHART_CID}" alt="{html.escape(alt, quote=True)}" width="600" height="220"></p>'
    intense = ""
    if facts.intense:
        items = "".join(_html_mention(mention, t["none"]) for mention in facts.intense)
        intense = f"<h3>{html.escape(t['intense'].format(**values))}</h3><ol>{items}</ol>"
    body = (
        f"<html><body><p><strong>{html.escape(t['headline'].format(**values))}</strong></p>"
        f"<table>{html_rows}</table>{chart}{intense}"
        f"<h3>{html.escape(top)}</h3><ul>{''.join(html_items) or '<li>' + html.escape(t['none']) + '</li>'}</ul>"
        f"{_next_steps(facts, t, query_href)}"
        f"<p><small>{html.escape(t['footer'].format(**values))}</small></p></body></html>"
    )
    return RenderedEmail(subject, "\n".join(text_lines) + "\n", body, facts.chart)


def _html_mention(mention: dict[str, Any], no_text: str) -> str:
    excerpt = _excerpt(mention) or no_text
    url = str(mention.get("url") or "")
    href = _safe_href(url)
    link = f'<a href="{html.escape(href, quote=True)}">{html.escape(url)}</a>' if href else html.escape(url)
    published = html.escape(str(mention.get("published_at") or ""))
    return f"<li><p>{html.escape(excerpt)}</p><p>{link} ({published})</p></li>"


def _next_steps(facts: AlertFacts, t: dict[str, str], query_href: str) -> str:
    """The API request behind the alert and, with a mention at hand, how to open a follow-up case for it."""
    steps = [f'<li><a href="{query_href}">{html.escape(t["query"])}</a>: GET {html.escape(facts.query_url)}</li>']
    first = (facts.intense or facts.mentions or [{}])[0]
    if facts.cases_url and first.get("id"):
        body = json.dumps({"mention_id": str(first["id"]), "owner": "you@example.com"})
        steps.append(f"<li>{html.escape(t['next_case'].format(cases=facts.cases_url, body=body))}</li>")
    return f"<h3>{html.escape(t['next'])}</h3><ul>{''.join(steps)}</ul>"


@dataclass(frozen=True)
class ReminderFacts:
    case_id: int
    brand_name: str
    owner: str
    responded_at: datetime
    mention_url: str
    note: str | None
    api_base: str


def render_reminder(facts: ReminderFacts, language: Language) -> RenderedEmail:
    t = _TEXTS[language]
    values = {
        "brand": facts.brand_name,
        "responded": _when(facts.responded_at),
        "case": facts.case_id,
        "owner": facts.owner,
        "api": facts.api_base.rstrip("/"),
    }
    lines = [
        t["reminder_headline"].format(**values),
        "",
        t["reminder_case"].format(**values),
        f"{t['reminder_mention']}: {facts.mention_url}",
    ]
    if facts.note:
        lines.append(f"{t['reminder_note']}: {facts.note}")
    lines += ["", t["reminder_footer"].format(**values)]
    href = _safe_href(facts.mention_url)
    link = (
        f'<a href="{html.escape(href, quote=True)}">{html.escape(facts.mention_url)}</a>'
        if href
        else html.escape(facts.mention_url)
    )
    note = f"<p>{html.escape(t['reminder_note'])}: {html.escape(facts.note)}</p>" if facts.note else ""
    body = (
        f"<html><body><p><strong>{html.escape(t['reminder_headline'].format(**values))}</strong></p>"
        f"<p>{html.escape(t['reminder_case'].format(**values))}</p>"
        f"<p>{html.escape(t['reminder_mention'])}: {link}</p>{note}"
        f"<p><small>{html.escape(t['reminder_footer'].format(**values))}</small></p></body></html>"
    )
    return RenderedEmail(t["reminder_subject"].format(**values), "\n".join(lines) + "\n", body)


def build_message(rendered: RenderedEmail, sender: str, recipient: str, key: str, date: datetime) -> str:
    """The full message as sent. Its Message-ID derives from the idempotency key, so that if a crash ever made
    the outbox send one twice, mail systems would see the same message."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@kaiku>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if rendered.chart:
        # The HTML part becomes multipart/related: the page and the image it shows by Content-ID.
        html_part = cast(EmailMessage, message.get_body(preferencelist=("html",)))
        html_part.add_related(
            rendered.chart, maintype="image", subtype="png", cid=f"<{CHART_CID}>", filename="spike.png"
        )
    return message.as_string(policy=SMTP)
