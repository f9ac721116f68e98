"""The dashboard: static files served by the API itself under /dashboard/ (docs/dashboard.md).

The page talks only to the public /v1 API with the team key the user signs in with, so everything it shows is
also reachable by API. No server-side rendering, nothing loaded from elsewhere (the charting library is vendored).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"


def install_dashboard(app: FastAPI) -> None:
    # html=True serves index.html for /dashboard/; a bare /dashboard is redirected there by the router.
    app.mount("/dashboard", StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")
