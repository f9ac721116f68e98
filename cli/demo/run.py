"""`kaiku demo`: bundled demo site, crawl -> score -> store (embedded unless KAIKU_ELASTICSEARCH_URL), then the API."""

from __future__ import annotations

import secrets
from collections import Counter

from pydantic import SecretStr

from core.config import load_config
from core.settings import Settings, get_settings
from indexer.store import MentionStore

DEMO_SOURCE = "demo-reviews"
CLASSES = ("anger", "comfort", "delight")


def _experience_counts(store: MentionStore) -> Counter[str]:
    from indexer.queries import MentionFilters

    rows = store.breakdown(MentionFilters(), "experience", len(CLASSES)).rows
    return Counter({key: counts.volume for key, counts in rows if key in CLASSES})


def _where(store: MentionStore) -> str:
    about = store.describe()
    if about["kind"] == "sqlite":
        return f"embedded (SQLite {about['version']}) in {about['path']}"
    return f"Elasticsearch {about.get('version')} at alias {about.get('alias')}"


def _demo_key(settings: Settings, brands: list[str]) -> str:
    """A new key of the team `demo`, which owns every configured brand (created on the first run)."""
    from kaiku.teams import TeamNotFound
    from kaiku.wiring import team_store

    store = team_store(settings)
    try:
        store.change_team("demo", brands=brands)
    except TeamNotFound:
        store.create_team("demo", name="Demo", brands=brands)
    return store.create_key("demo").secret


def with_admin_key(settings: Settings, serve_api: bool) -> tuple[Settings, str]:
    """The settings the demo serves with, and a line about the admin key for the admin routes of docs/api.md.

    Without KAIKU_ADMIN_KEY the demo makes one for the API it serves (valid until it stops); a configured key
    is a secret and never printed.
    """
    if settings.admin_key is not None:
        return settings, "Admin key: the value of KAIKU_ADMIN_KEY"
    if not serve_api:
        return settings, "Admin key: none (set KAIKU_ADMIN_KEY before `kaiku serve` for the admin routes)"
    key = f"kaiku_admin_{secrets.token_urlsafe(24)}"
    settings = settings.model_copy(update={"admin_key": SecretStr(key)})
    return settings, f"Admin key of this demo's API (teams, keys, sources), valid until it stops: {key}"


def run_demo(serve_api: bool = True) -> None:
    from cli.demo.server import serve_site, site_today
    from crawler.runner import run_crawl
    from kaiku.wiring import configured_classifier, crawl_context, crawl_settings_from, ready_store

    settings, admin_key_line = with_admin_key(get_settings(), serve_api)
    config = load_config(settings.config_dir)
    print(f"config: {settings.config_dir} (yours to edit; the management API writes here)")
    store = ready_store(settings)
    print(f"store: {_where(store)}")
    print(f"model: loading {settings.sentiment_model!r} (the first run converts the offline model once)")
    classifier = configured_classifier(settings)
    # Dated relative to today, so that "last week" and "the last 7 days" of docs/api.md hold the demo's data.
    site = serve_site(port=settings.demo_site_port, today=site_today())
    try:
        source = config.source(DEMO_SOURCE).model_copy(update={"start_urls": [site.url + "/"]})
        print(f"crawl: demo site at {site.url}")
        # The demo site runs on loopback by design.
        summary = run_crawl(
            source,
            crawl_context(settings, config.brands, classifier, store),
            crawl_settings_from(settings),
            allow_private_urls=True,
        )
        print(summary.format())
    finally:
        site.stop()
    store.refresh()
    counts = _experience_counts(store)
    total = sum(counts.values())
    shares = ", ".join(
        f"{name} {counts[name]} ({counts[name] / total:.0%})" for name in ("anger", "comfort", "delight")
    )
    print(f"store: {total} scored mentions: {shares}" if total else "store: no scored mention")

    key = _demo_key(settings, [b.id for b in config.brands])
    base = f"http://{settings.api_host}:{settings.api_port}"
    print(f"\nAPI key of team 'demo' (all brands), shown once: {key}")
    print(admin_key_line)
    print("Try:")
    for example in (
        "/v1/mentions?brand=revontuli&experience=anger",
        "/v1/mentions?brand=tunturi&experience=delight",
        "/v1/mentions?q=aamiainen&lang=fi",
        "/v1/mentions?experience=comfort&limit=5",
        "/v1/brands/revontuli/metrics?interval=week&tz=Europe/Helsinki",
    ):
        print(f"  curl -H 'Authorization: Bearer {key}' '{base}{example}'")
    print(f"  curl '{base}/healthz'")
    print(f"  OpenAPI: {base}/docs")
    print(f"  Dashboard: {base}/dashboard/ (sign in with the key above)\n")
    if serve_api:
        import uvicorn

        from api.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            server_header=False,
        )
