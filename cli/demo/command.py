"""`kaiku demo`: the whole path on local defaults, ending with a running API."""

from __future__ import annotations

from typing import Annotated

import typer

from cli._common import user_errors


def demo(
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Keep serving the API at the end")] = True,
) -> None:
    """Start the local engine, crawl the bundled demo site, score and index it, and serve the API."""
    from cli.demo.run import run_demo

    with user_errors():
        run_demo(serve_api=serve_api)
