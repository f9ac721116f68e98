"""`kaiku sentiment ...` (placeholder until implemented)."""

import typer

app = typer.Typer(help="Score texts with the sentiment model.", no_args_is_help=True)
