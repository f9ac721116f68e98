"""/metrics in Prometheus text format: request counts and latencies per route template, and the crawl and
scoring totals that crawls in other processes record in Kaiku's database (kaiku/crawl_counters.py).

Each app gets its own registry, so several apps in one process (tests) do not share counters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from fastapi import Depends, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import get_db, require_metrics_reader
from api.problems import responses
from api.state import AppState
from kaiku.crawl_counters import RUNS, totals
from kaiku.db import DatabaseError

logger = logging.getLogger(__name__)
STAGES = ("items", "scored", "indexed", "spooled", "index_failed")
LOSSES = ("skipped", "dropped", "errors")


class CrawlTotals(Collector):
    """Crawl and scoring counters per source, read from Kaiku's database when Prometheus scrapes."""

    def __init__(self, state: Callable[[], AppState]) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        runs = CounterMetricFamily("kaiku_crawl_runs", "Crawls finished", labels=["source"])
        requests = CounterMetricFamily("kaiku_crawl_requests", "HTTP requests made by crawls", labels=["source"])
        mentions = CounterMetricFamily(
            "kaiku_crawl_mentions", "Mentions by stage: items kept, scored, indexed, spooled, index_failed",
            labels=["source", "stage"],
        )  # fmt: skip
        experience = CounterMetricFamily(
            "kaiku_mentions_scored_by_experience",
            "Scored mentions by experience class",
            labels=["source", "experience"],
        )
        losses = CounterMetricFamily(
            "kaiku_crawl_losses", "Responses skipped, items dropped and errors, by kind", labels=["source", "kind"]
        )
        try:
            for source, counter, value in totals(get_db(self._state())):
                if counter == RUNS:
                    runs.add_metric([source], value)
                elif counter == "requests":
                    requests.add_metric([source], value)
                elif counter in STAGES:
                    mentions.add_metric([source, counter], value)
                elif counter in LOSSES:
                    losses.add_metric([source, counter], value)
                elif counter.startswith("experience/"):
                    experience.add_metric([source, counter.removeprefix("experience/")], value)
        except (DatabaseError, SQLAlchemyError) as exc:  # the request metrics must still be served
            logger.warning("crawl counters unavailable: %s", exc)
        yield from (runs, requests, mentions, experience, losses)


class RequestMetrics:
    """Counts and times every HTTP request by method, route template and status. A plain ASGI middleware, not
    @app.middleware("http"): that one runs each request through a task group and a memory stream, a cost every
    request paid (docs/storage.md, "Under load")."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception escaping the app is answered 500 by the server-error handler outside

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = str(getattr(scope.get("route"), "path", "unmatched"))  # the template routing chose, not the path
            self.latency.labels(scope["method"], route).observe(time.perf_counter() - started)
            self.requests.labels(scope["method"], route, str(status)).inc()


def install_metrics(app: FastAPI) -> None:
    registry = CollectorRegistry()
    registry.register(CrawlTotals(lambda: app.state.kaiku))
    requests = Counter("kaiku_http_requests", "HTTP requests served", ["method", "route", "status"], registry=registry)
    latency = Histogram(
        "kaiku_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"],
        registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    )  # fmt: skip

    app.add_middleware(RequestMetrics, requests=requests, latency=latency)

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics (metrics key or admin key)",
             response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **responses(401, 422)},
             dependencies=[Depends(require_metrics_reader)])  # fmt: skip
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
