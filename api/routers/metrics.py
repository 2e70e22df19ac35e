"""GET /metrics: Prometheus text format, from this app's own registry."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["status"])


@router.get("/metrics", summary="Prometheus metrics: requests and latency per route and stage, refusals, "
                                "snapshot size (per worker process)",
            responses={200: {"content": {"text/plain": {"example": 'rag_http_requests_total{method="POST",'
                                                                  'route="/ask",status="200"} 3.0\n'}}}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
