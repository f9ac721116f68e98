"""The alert email's chart: a real PNG of the right size, inline in the HTML part by Content-ID, with alt text;
the plain-text part is the same as without it, and hostile mention text is still escaped."""

from __future__ import annotations

import struct
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from email import message_from_string, policy

import numpy as np
import pytest

from kaiku.alerts.chart import HEIGHT_PX, WIDTH_PX, spike_chart
from kaiku.alerts.detector import detect_incidents, usual_band
from kaiku.alerts.messages import CHART_CID, build_message, render_alert
from tests.alerts.test_messages import START, facts

pytestmark = pytest.mark.unit

HOSTILE = {
    "id": "m-1",
    "title": "<img src=x onerror=alert(1)>",
    "text": "<b>bold</b> & rude",
    "url": "javascript:alert(1)",
    "published_at": "2026-11-20T12:05:00Z",
}


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk (the first chunk of every PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def chart() -> bytes:
    step = timedelta(hours=1)
    ts = [START - (24 * 10 - i) * step for i in range(24 * 10)]
    values = np.random.default_rng(0).poisson(20, len(ts)).astype(float)
    values[-3:] += [80, 120, 90]
    [incident] = detect_incidents(ts, values)
    usual, threshold = usual_band(ts, values)
    assert np.isnan(usual[0]) and 15 < usual[-1] < 25 < threshold[-1]  # warm-up first, then the usual band
    return spike_chart(ts[-72:], values[-72:], usual[-72:], threshold[-72:], incident.start, incident.end, "anger")


def test_chart_is_a_png_of_the_announced_size() -> None:
    data = chart()
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)
    import io

    import matplotlib.image  # decodes it fully: a truncated or corrupt PNG raises

    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert pixels.shape[:2] == (HEIGHT_PX, WIDTH_PX)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0)) > 10  # something is drawn


def test_email_carries_the_chart_inline_and_keeps_the_text_part() -> None:
    data = chart()
    plain = facts([HOSTILE])
    with_chart = replace(plain, chart=data, intense=[HOSTILE], cases_url="https://api.example/v1/cases")
    rendered = render_alert(with_chart, "en")
    assert rendered.text == render_alert(plain, "en").text  # plain-text part unchanged
    page = rendered.html
    assert f'<img src="cid:{CHART_CID}" alt="Chart of Revontuli &lt;Hotels&gt; angry mentions' in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript' not in page and "<b>" not in page
    assert "Most intense angry mentions" in page and "POST https://api.example/v1/cases" in page
    assert "&#34;mention_id&#34;: &#34;m-1&#34;" in page  # the JSON body, its quotes escaped

    raw = build_message(rendered, "kaiku@x.example", "cx@r.example", "alert:1:cx@r.example", START)
    assert raw.isascii()
    parsed = message_from_string(raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    text_part, html_part = parsed.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "multipart/related"
    page_part, image = html_part.get_payload()
    assert page_part.get_content_type() == "text/html" and "cid:" + CHART_CID in page_part.get_content()
    assert image.get_content_type() == "image/png" and image["Content-ID"] == f"<{CHART_CID}>"
    assert png_size(image.get_content()) == (WIDTH_PX, HEIGHT_PX)


def test_finnish_alt_text_and_no_image_without_a_chart() -> None:
    page = render_alert(replace(facts([]), chart=chart()), "fi").html
    assert 'alt="Kaavio: brändin Revontuli &lt;Hotels&gt;' in page
    assert "<img" not in render_alert(facts([]), "en").html


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    # It takes seconds to load: the CLI, the scheduler, the API and a quiet check must not pay for it.
    code = (
        "import sys, api.app, kaiku.alerts.check, cli, cli.alerts, kaiku.scheduler.jobs; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
