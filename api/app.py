"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api.body_limit import BodySizeLimit
from api.dashboard import install_dashboard
from api.docs import install_docs
from api.params import reject_unknown_query_parameters
from api.problems import install_problem_handlers
from api.ratelimit import Budget, RateLimits, open_storage
from api.routers import admin, brands, cases, health, incidents, jobs, manage, mentions
from api.security import install_security_headers
from api.state import AppState
from api.telemetry import install_metrics
from core import __version__
from core.settings import Settings, get_settings
from kaiku.config_store import ConfigStore
from kaiku.wiring import database, mention_store, team_store


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. No route scores a text, so the API never loads the sentiment model (the crawl does)."""

    settings = settings or get_settings()
    config_store = ConfigStore(settings.config_dir)
    config_store.load()  # an invalid configuration stops the start
    db = database(settings)  # shared by every replica: teams, keys, rate limits, cases, incidents
    state = AppState(
        settings=settings,
        store=mention_store(settings),
        config_store=config_store,
        teams=team_store(settings, db),
        rate_limits=RateLimits(
            key=Budget(settings.rate_limit_per_minute, settings.rate_limit_burst),
            team=Budget(settings.team_rate_limit_per_minute, settings.team_rate_limit_burst),
            auth_failures=Budget(settings.auth_failures_per_minute, settings.auth_failure_burst),
            storage=open_storage(settings.rate_limit_storage, db),
            searches_in_flight=settings.team_searches_in_flight,
            expanding_searches_in_flight=settings.expanding_searches_in_flight,
        ),
        db=db,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.store.close()
        state.rate_limits.close()
        state.db.dispose()

    app = FastAPI(
        title="Kaiku",
        version=__version__,
        description="Earned-media monitoring: the angered and the delighted behind a brand's mentions. "
        "Routes that list a 403 need the admin key (`KAIKU_ADMIN_KEY`); the others take a team's key.",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs from the installed package, not a CDN
        redoc_url=None,  # ReDoc has no packaged build: /docs is the browsable document
        dependencies=[Depends(reject_unknown_query_parameters)],
    )
    install_docs(app)
    app.state.kaiku = state
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)  # inside the metrics: 413s are counted
    install_metrics(app)
    install_security_headers(app, settings)
    app.include_router(health.router)
    app.include_router(brands.router)
    app.include_router(mentions.router)
    app.include_router(cases.router)
    app.include_router(incidents.router)
    app.include_router(jobs.router)
    app.include_router(manage.router)
    app.include_router(admin.router)
    install_dashboard(app)
    return app
