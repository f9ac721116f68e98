"""`kaiku serve`: the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer

from core.settings import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default KAIKU_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KAIKU_API_PORT)")] = None,
) -> None:
    """Serve the API (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    # No `server: uvicorn` banner: it tells a scanner which exploits to try and helps nobody else.
    uvicorn.run(
        create_app(settings), host=host or settings.api_host, port=port or settings.api_port, server_header=False
    )
