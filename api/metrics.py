"""Prometheus metrics with a registry per app, so several apps in one process (tests) never clash.

With ``--workers N`` every worker process keeps its own registry, so ``GET /metrics`` reports
the numbers of the worker that answered; scrape each worker (or run one) for exact totals.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.answer import Answer
from rag.snapshots.snapshot import Snapshot

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _SnapshotCollector(Collector):
    """Snapshot size, read at scrape time from whatever snapshot is live then."""

    def __init__(self, snapshot: Callable[[], Snapshot | None]) -> None:
        self.snapshot = snapshot
        self._bytes: tuple[str, int] = ("", 0)  # (snapshot id, size on disk), measured once per snapshot

    def _size(self, snap: Snapshot) -> int:
        if self._bytes[0] != snap.id:
            try:
                size = sum(p.stat().st_size for p in Path(snap.path).rglob("*") if p.is_file())
            except OSError:  # pruned meanwhile: report it as unknown (0) rather than fail the scrape
                return 0
            self._bytes = (snap.id, size)
        return self._bytes[1]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snapshot()
        docs = GaugeMetricFamily("rag_snapshot_documents", "Documents in the live snapshot")
        chunks = GaugeMetricFamily("rag_snapshot_chunks", "Chunks in the live snapshot")
        size = GaugeMetricFamily("rag_snapshot_bytes", "Size of the live snapshot on disk")
        info = GaugeMetricFamily("rag_snapshot_info", "The live snapshot (1 for its id)", labels=["snapshot"])
        if snap is not None:
            docs.add_metric([], len(snap.documents))
            chunks.add_metric([], len(snap.chunks))
            size.add_metric([], self._size(snap))
            info.add_metric([snap.id], 1)
        yield from (docs, chunks, size, info)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("rag_http_requests", "HTTP requests by route, method and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("rag_http_request_duration_seconds", "HTTP request latency by route (to the last byte)",
                                 ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.stages = Histogram("rag_stage_duration_seconds", "Answer pipeline stage latency",
                                ["stage"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.answers = Counter("rag_answers", "Answers given, by surface", ["surface"], registry=self.registry)
        self.refusals = Counter("rag_refusals", "Questions refused because the notes do not cover them",
                                ["surface"], registry=self.registry)
        self._snapshot: Callable[[], Snapshot | None] = lambda: None
        self.registry.register(_SnapshotCollector(lambda: self._snapshot()))

    def follow(self, snapshot: Callable[[], Snapshot | None]) -> None:
        self._snapshot = snapshot

    def observe_answer(self, answer: Answer, surface: str) -> None:
        self.answers.labels(surface).inc()
        if answer.refused:
            self.refusals.labels(surface).inc()
        for stage in ("retrieval", "generation"):
            if stage in answer.timings_ms:
                self.stages.labels(stage).observe(answer.timings_ms[stage] / 1000)


class MetricsMiddleware:
    """Counts and times every request by its route template (never the raw path: bounded labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_of(scope)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route, scope["method"]).observe(time.perf_counter() - started)


def _route_of(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        return "unmatched"
    return scope.get("root_path", "") + path
