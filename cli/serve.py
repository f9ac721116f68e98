"""`kaiku serve`: the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.crawl import LogLevel
from core.settings import get_settings

WORKER_HEALTHCHECK_S = 60


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default KAIKU_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KAIKU_API_PORT)")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Server processes on the port (default KAIKU_API_WORKERS)")
    ] = None,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="What the server logs (INFO: a line per request)")
    ] = LogLevel.INFO,
) -> None:
    """Serve the API (OpenAPI at /docs and /openapi.json)."""
    settings = get_settings()
    run_api(host or settings.api_host, port or settings.api_port, workers or settings.api_workers, log_level.lower())


def run_api(host: str, port: int, workers: int, log_level: str = "info") -> None:
    """The API under uvicorn: in this process, or in `workers` processes that share the port.

    One Python process computes on one core at a time (the GIL); several workers let every core answer. Each
    worker builds the app from the environment's settings (`api.app:create_app`), so all of them serve the same
    data dir, store and database: teams, keys and rate limits are shared through the database as by replicas on
    several machines (docs/api.md, "Teams, keys and limits").
    """
    import uvicorn

    from api.app import create_app

    # No `server: uvicorn` banner: it tells a scanner which exploits to try and helps nobody else.
    if workers == 1:
        uvicorn.run(create_app(get_settings()), host=host, port=port, log_level=log_level, server_header=False)
    else:
        # A worker answers the supervisor's health checks only once it has imported Kaiku, which on a busy machine
        # takes longer than uvicorn's 5 s: it would be killed and started again, forever.
        uvicorn.run("api.app:create_app", factory=True, workers=workers, host=host, port=port, log_level=log_level,
                    server_header=False, timeout_worker_healthcheck=WORKER_HEALTHCHECK_S)  # fmt: skip
