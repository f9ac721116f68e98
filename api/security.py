"""Security headers on every response, and CORS only for the origins a setting lists.

The API answers JSON to programs holding a key: nothing it sends may be sniffed as another type, framed,
cached by a shared cache, or leak the URL (which may carry a brand id) as a referrer. The interactive
documentation page (/docs) is HTML that loads Swagger UI from this server (api/docs.py) and starts it with an
inline script, so its content security policy allows that and nothing else. The dashboard (/dashboard/, api/dashboard)
loads only its own files, with no inline script or style, and calls the API on the same origin. Every other response
allows nothing.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class SecurityHeaders:
    """Adds the headers above to every response that does not set its own. A plain ASGI middleware: the
    `@app.middleware("http")` kind runs each request through a task group and a memory stream."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", content_security_policy(scope["path"]))
                # Answers depend on the key presented and change as mentions arrive: no cache may keep them.
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(SecurityHeaders)

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
