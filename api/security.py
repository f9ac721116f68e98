"""Security headers on every response, and CORS only for the origins a setting lists.

The API answers JSON to programs holding a key: nothing it sends may be sniffed as another type, framed,
cached by a shared cache, or leak the URL (which may carry a brand id) as a referrer. The interactive
documentation page (/docs) is HTML that loads Swagger UI from this server (api/docs.py) and starts it with an
inline script, so its content security policy allows that and nothing else. The dashboard (/dashboard/, api/dashboard)
loads only its own files, with no inline script or style, and calls the API on the same origin. Every other response
allows nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from core.settings import Settings

# Swagger UI's scripts, styles and favicon come from this server (api/docs.py); an inline script starts it.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DASHBOARD_PREFIX = "/dashboard"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request.url.path))
        # Answers depend on the key presented and change as mentions arrive: no cache may keep them.
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    origins = allowed_origins(settings)
    if origins:  # no CORS headers at all unless configured: browsers then refuse cross-origin reads
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,  # keys travel in Authorization, never in cookies
            max_age=600,
        )


def content_security_policy(path: str) -> str:
    if path in DOCS_PATHS:
        return DOCS_CSP
    if path == DASHBOARD_PREFIX or path.startswith(DASHBOARD_PREFIX + "/"):
        return DASHBOARD_CSP
    return API_CSP


def allowed_origins(settings: Settings) -> list[str]:
    return [origin.strip().rstrip("/") for origin in settings.cors_allowed_origins.split(",") if origin.strip()]
