"""/metrics in Prometheus text format: request counts and latencies per route template.

Each app gets its own registry, so several apps in one process (tests) do not share counters.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


def _route_template(request: Request) -> str:
    """The path template (`/v1/brands/{brand}/metrics`) that routing chose, never the raw path: labels stay few."""
    return str(getattr(request.scope.get("route"), "path", "unmatched"))


def install_metrics(app: FastAPI) -> None:
    registry = CollectorRegistry()
    requests = Counter("kaiku_http_requests", "HTTP requests served", ["method", "route", "status"], registry=registry)
    latency = Histogram(
        "kaiku_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"],
        registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    )  # fmt: skip

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)
        latency.labels(request.method, route).observe(time.perf_counter() - started)
        requests.labels(request.method, route, str(response.status_code)).inc()
        return response

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", response_class=Response,
             responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})  # fmt: skip
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
