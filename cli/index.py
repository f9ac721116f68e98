"""`kaiku index init`: the index template and the current monthly index behind the alias."""

from __future__ import annotations

import typer

from cli._common import user_errors
from core.settings import get_settings

app = typer.Typer(help="Manage the mention index.", no_args_is_help=True)


@app.command()
def init() -> None:
    """Create (or update) the template and this month's index; safe to run again and again."""
    from indexer.admin import ensure_index
    from indexer.client import engine_info, make_client

    with user_errors():
        settings = get_settings()
        client = make_client(settings.engine_url, settings.elasticsearch_api_key)
        engine_info(client)
        index = ensure_index(client, settings.index_alias)
    print(f"alias {settings.index_alias} -> {index} (template up to date)")


@app.command()
def replay() -> None:
    """Write the mentions spooled during an engine outage, oldest first; prints what went and what still waits."""
    from kaiku.wiring import mention_writer, ready_store

    with user_errors():
        settings = get_settings()
        writer = mention_writer(settings, ready_store(settings))
        report = writer.replay()
    pending = writer.spool.pending()
    print(f"replayed {report.replayed}, failed {len(report.failed)}, still spooled {pending + report.spooled}")
    for mention_id, reason in report.failed:
        print(f"  failed {mention_id}: {reason}")
    if pending or report.failed:
        raise typer.Exit(1)
