"""The operations endpoints of a service: liveness and readiness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from vigie import metrics

# Whether the service can do its work, and what its readiness page says about each dependency.
ReadyCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


def router(
    ready: ReadyCheck, *, ready_doc: str, not_ready_doc: str, service: str | None = None
) -> APIRouter:
    """``/healthz`` and ``/readyz`` (200, or 503 when ``ready`` says no); Prometheus metrics
    have their own listener (``edges.serve_metrics``), off the public port.

    ``ready_doc`` describes what readiness means for the service, ``not_ready_doc`` its 503.
    With ``service``, each answer of ``/readyz`` (probed every few seconds by Kubernetes and
    the Compose healthchecks) is exported as ``vigie_ready``.
    """
    ops = APIRouter(tags=["operations"])

    @ops.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @ops.get("/readyz", description=ready_doc, responses={503: {"description": not_ready_doc}})
    async def readyz() -> JSONResponse:
        ok, content = await ready()
        if service is not None:
            metrics.READY.labels(service=service).set(1 if ok else 0)
        return JSONResponse(status_code=200 if ok else 503, content=content)

    return ops
