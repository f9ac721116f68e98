"""The alert and reminder emails: multipart text + HTML, in English or Finnish.

The bodies are jinja2 templates (kaiku/alerts/templates/: `.txt` for the plain part, `.html` with autoescaping);
their texts come from the gettext catalogs of kaiku/i18n.py. Everything that comes from a mention or a user (title,
text, URL, author, brand name, note) is untrusted: autoescaping escapes it in the HTML part, and only http(s) URLs
become links.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import cache
from typing import Any, cast
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from kaiku.i18n import Language, translations

EXCERPT_CHARS = 280
CHART_CID = "spike-chart@kaiku"


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


@cache
def _environment(language: Language) -> Environment:
    """Templates with this language's catalog installed: `_()` and `{% trans %}` look texts up in it."""
    environment = Environment(
        loader=PackageLoader("kaiku.alerts", "templates"),
        autoescape=select_autoescape(["html"]),  # the .txt plain part is not HTML: characters as written
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.policies["ext.i18n.trimmed"] = True  # msgids without the templates' line breaks and indents
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return environment


def _render(language: Language, name: str, values: dict[str, Any]) -> tuple[str, str]:
    """The plain-text and the HTML part of template `name`."""
    environment = _environment(language)
    text = environment.get_template(f"{name}.txt").render(values)
    page = environment.get_template(f"{name}.html").render(values)
    return text, page


def _mention(mention: dict[str, Any]) -> dict[str, Any]:
    url = str(mention.get("url") or "")
    return {
        "excerpt": _excerpt(mention),
        "url": url,
        "href": _safe_href(url),
        "published": str(mention.get("published_at") or ""),
    }


def render_alert(facts: AlertFacts, language: Language) -> RenderedEmail:
    catalog = translations(language)
    _ = catalog.gettext
    experience = {"anger": _("angry"), "delight": _("delighted")}[facts.experience]
    severity = {
        "low": catalog.pgettext("severity", "low"),
        "medium": catalog.pgettext("severity", "medium"),
        "high": catalog.pgettext("severity", "high"),
    }.get(facts.severity, facts.severity)
    window = duration_text(facts.window)
    ratio = (
        _("%(ratio)sx") % {"ratio": f"{facts.peak_value / facts.baseline:.1f}"}
        if facts.baseline > 0
        else _("up from zero")
    )
    values = {
        "experience": experience,
        "brand": facts.brand_name,
        "peak": f"{facts.peak_value:g}",
        "window": window,
        "baseline": f"{facts.baseline:.1f}",
        "peak_at": _when(facts.peak),
        "delta": f"{facts.peak_value - facts.baseline:+.1f}",
        "ratio": ratio,
        "score": f"{facts.score:.1f}",
        "severity": severity,
        "rule": facts.rule_id,
        "cooldown": duration_text(facts.cooldown),
    }
    subject = _("[Kaiku] Spike of %(experience)s mentions: %(brand)s (%(peak)s in %(window)s, usually %(baseline)s)")
    rows = [
        (_("Since"), _when(facts.start)),
        (
            _("Peak"),
            _("%(peak)s mentions in the %(window)s from %(peak_at)s (usual for that time: %(baseline)s)") % values,
        ),
        (_("Change"), _("%(delta)s mentions, %(ratio)s the baseline; score %(score)s, severity %(severity)s") % values),
    ]
    if facts.held_back:
        line = _("%(held)s more spike(s) were held back by the rule's budget of %(budget)s incidents per week")
        rows.append((_("Alert budget"), line % {"held": facts.held_back, "budget": facts.max_per_week}))
    footer = _("Alert rule %(rule)s. You get one email per incident; a new one only after a quiet %(cooldown)s.")
    first = (facts.intense or facts.mentions or [{}])[0]
    case_body = None
    if facts.cases_url and first.get("id"):
        case_body = json.dumps({"mention_id": str(first["id"]), "owner": "you@example.com"})
    text, page = _render(
        language,
        "alert",
        {
            **values,
            "rows": rows,
            "since": _when(facts.start),
            "mentions": [_mention(mention) for mention in facts.mentions],
            "intense": [_mention(mention) for mention in facts.intense],
            "no_text": _("(no mention text available)"),
            "query_url": facts.query_url,
            "footer": footer % values,
            "chart_cid": CHART_CID if facts.chart else None,
            "cases_url": facts.cases_url,
            "case_body": case_body,
        },
    )
    return RenderedEmail(subject % values, text, page, facts.chart)


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
    values = {
        "brand": facts.brand_name,
        "responded": _when(facts.responded_at),
        "case": facts.case_id,
        "owner": facts.owner,
        "api": facts.api_base.rstrip("/"),
        "mention_url": facts.mention_url,
        "mention_href": _safe_href(facts.mention_url),
        "note": facts.note,
    }
    text, page = _render(language, "reminder", values)
    subject = translations(language).gettext("[Kaiku] Follow up with a customer of %(brand)s today")
    return RenderedEmail(subject % values, text, page)


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
