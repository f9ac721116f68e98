"""`kaiku keys create|list|revoke`: bootstrapping teams and API keys without the admin API."""

from __future__ import annotations

from typing import Annotated

import typer

from cli._common import fail, user_errors
from core.config import load_config
from core.settings import get_settings

app = typer.Typer(
    help="Teams and their API keys (stored hashed in Kaiku's database, KAIKU_DATABASE_URL).", no_args_is_help=True
)


@app.command()
def create(
    team: Annotated[str, typer.Option(help="Team id; created when it does not exist yet")],
    brand: Annotated[
        list[str] | None, typer.Option("--brand", help="Brand the team owns (repeat); sets a new team's brands")
    ] = None,
) -> None:
    """Create an API key for a team and print it: it is shown only this once."""
    from kaiku.teams import TeamNotFound
    from kaiku.wiring import team_store

    with user_errors():
        settings = get_settings()
        known = {b.id for b in load_config(settings.config_dir).brands}
        unknown = [b for b in brand or [] if b not in known]
        if unknown:
            fail(f"--brand: unknown brands {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        store = team_store(settings)
        try:
            existing = store.team(team)
            if brand:
                existing = store.change_team(team, brands=[*existing.brands, *brand])
        except TeamNotFound:
            existing = store.create_team(team, brands=brand or [])
        key = store.create_key(team)
    brands = ", ".join(existing.brands) or "none yet"
    print(f"team {existing.id} (brands: {brands}): key {key.info.id} created; keep it, it is not shown again:")
    print(key.secret)


@app.command("list")
def list_keys(team: Annotated[str, typer.Option(help="Team id")]) -> None:
    """List a team's keys (ids and dates, never the secrets)."""
    from kaiku.wiring import team_store

    with user_errors():
        keys = team_store(get_settings()).keys(team)
    for key in keys:
        print(f"{key.id}  created {key.created_at}  {'revoked ' + key.revoked_at if key.revoked_at else 'active'}")


@app.command()
def revoke(key_id: Annotated[str, typer.Argument(help="Key id (the part after 'kaiku_')")]) -> None:
    """Revoke a key at once."""
    from kaiku.wiring import team_store

    with user_errors():
        info = team_store(get_settings()).revoke_key(key_id)
    print(f"key {info.id} of team {info.team} revoked at {info.revoked_at}")
