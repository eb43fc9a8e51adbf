"""Prometheus metrics of the service: requests, latency by route, rasterize time, cache lookups.

Each app has its own registry (so tests can build several apps). With several uvicorn workers,
`rasterd serve` sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start and ``/metrics`` then
sums every worker's values.
"""

from __future__ import annotations

import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
RASTERIZE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1)


class Metrics:
    """The service's instruments; also the readers' observer (cache lookups, rasterize time)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "rasterd_requests", "HTTP requests by method, route template and status.",
            ("method", "route", "status"), registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "rasterd_request_duration_seconds", "Time from request to the end of the response, by route.",
            ("route",), buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.rasterize_time = Histogram(
            "rasterd_rasterize_seconds", "Rasterizing one glyph: source=request (POST /v1/rasterize) or database (not in the store).",
            ("source",), buckets=RASTERIZE_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.cache = Counter(
            "rasterd_cache_lookups", "In-memory cache lookups: cache=store_chunk|rendered_glyph, result=hit|miss.",
            ("cache", "result"), registry=self.registry,
        )  # fmt: skip
        self.not_modified = Counter(
            "rasterd_not_modified_responses", "304 answers to If-None-Match (the client's cache hit).", registry=self.registry
        )

    def cache_lookup(self, cache: str, hit: bool) -> None:
        self.cache.labels(cache, "hit" if hit else "miss").inc()

    def rasterized(self, source: str, seconds: float) -> None:
        self.rasterize_time.labels(source).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text format of every metric (all workers' when running several)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not its path: bounded labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            if status == 304:
                self.metrics.not_modified.inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - began)
