"""The `kaiku` command: one entry point for everything, the top layer (docs/design.md §3). Each command group lives
in its own module; `kaiku demo` in cli/demo/.

Each command imports what it runs (Scrapy, the stores, FastAPI, the model, the database) inside its function:
together they take seconds to import, and `kaiku --help` or `kaiku jobs` should not wait for the crawler."""

from __future__ import annotations

import typer

from cli import alerts, crawl, engine, index, keys, scheduler, sentiment, serve, store
from cli.demo import command as demo

# Plain click help (rich_markup_mode=None): typer's rich help shows a `<bool>` type beside flags such as --json,
# which reads as if `--json true` were accepted; click's shows `--json` and `--deliver / --no-deliver` as they are.
app = typer.Typer(
    help="Kaiku: earned-media monitoring.", no_args_is_help=True, add_completion=False, rich_markup_mode=None
)
app.add_typer(engine.app, name="engine")
app.add_typer(index.app, name="index")
app.add_typer(sentiment.app, name="sentiment")
app.add_typer(alerts.app, name="alerts")
app.add_typer(keys.app, name="keys")
app.add_typer(store.app, name="store")
app.command("crawl")(crawl.crawl)
app.command("parse")(crawl.parse)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("scheduler")(scheduler.scheduler)
app.command("jobs")(scheduler.jobs)


def main() -> None:
    app()
