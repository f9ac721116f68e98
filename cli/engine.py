"""`kaiku engine start|stop|status`: the local development engine."""

from __future__ import annotations

import typer

from cli._common import fail, user_errors
from core.settings import get_settings
from kaiku.local_engine import LocalEngine

app = typer.Typer(help="Manage the local development engine (noida-db).", no_args_is_help=True)


def _local_engine() -> LocalEngine:
    settings = get_settings()
    if settings.elasticsearch_url:
        fail("KAIKU_ELASTICSEARCH_URL is set: Kaiku uses that cluster and does not manage a local engine.")
    return LocalEngine(data_dir=settings.engine_data_dir, port=settings.engine_port, host=settings.engine_host)


@app.command()
def start() -> None:
    """Start the local engine in the background (data under the user's data dir)."""
    with user_errors():
        engine = _local_engine()
        pid = engine.start()
    print(f"engine running at {engine.url} (pid {pid}, data in {engine.data_dir})")


@app.command()
def stop() -> None:
    """Stop the local engine; its data is kept."""
    with user_errors():
        engine = _local_engine()
        print("engine stopped" if engine.stop() else "engine was not running")


@app.command()
def status() -> None:
    """Say whether the engine answers; exit 1 when it does not."""
    from indexer import IndexerError
    from indexer.client import engine_info, make_client

    with user_errors():
        settings = get_settings()
        url = settings.engine_url
        kind = "remote cluster" if settings.elasticsearch_url else "local engine"
        try:
            info = engine_info(make_client(url, settings.elasticsearch_api_key, timeout=5))
        except IndexerError:
            # One line, not the client's chain of connection errors: the URL is what there is to check.
            hint = "check KAIKU_ELASTICSEARCH_URL" if settings.elasticsearch_url else "start it: kaiku engine start"
            print(f"{kind} at {url}: not running ({hint})")
            raise typer.Exit(1) from None
    print(f"{kind} at {url}: version {info['version']['number']}")
