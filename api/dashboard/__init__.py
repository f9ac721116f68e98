"""The dashboard: static files served by the API itself under /dashboard/ (docs/dashboard.md).

The page talks only to the public /v1 API with the team key the user signs in with, so everything it shows is
also reachable by API. No server-side rendering, nothing loaded from elsewhere (the charting library is vendored).
Its interface text comes from the gettext catalogs it shares with the alert emails (kaiku/i18n.py), served to the
page as /dashboard/messages.json.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api.dashboard.texts import TEXTS
from kaiku.i18n import LANGUAGES, translations

STATIC_DIR = Path(__file__).resolve().parent / "static"


@cache
def interface_texts() -> dict[str, dict[str, str]]:
    """{language: {key: text}} for the page's script: each key's English, and its translation from the catalogs."""
    return {
        language: {key: str(translations(language).pgettext(key, english)) for key, english in TEXTS.items()}
        for language in LANGUAGES
    }


def install_dashboard(app: FastAPI) -> None:
    # Before the static mount, which would otherwise answer every path under /dashboard.
    @app.get("/dashboard/messages.json", include_in_schema=False)
    def dashboard_messages() -> JSONResponse:
        return JSONResponse(interface_texts())

    # html=True serves index.html for /dashboard/; a bare /dashboard is redirected there by the router.
    app.mount("/dashboard", StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")
