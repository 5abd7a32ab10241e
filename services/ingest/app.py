"""Ingest service: the report form and REST API, publishing durably to Kafka."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from services.common import ops
from services.ingest.deps import Submitter
from services.ingest.errors import install_error_handlers
from services.ingest.form import views as form_views
from services.ingest.identity import Identities
from services.ingest.reports import views as report_views
from services.ingest.settings import IngestSettings
from services.ingest.telemetry import views as telemetry_views
from services.ingest.telemetry.service import TelemetryForwarder
from vigie import logs, metrics
from vigie.kafka import make_broker, require_credentials

log = logging.getLogger(__name__)


def create_app(settings: IngestSettings, *, identities: Identities | None = None) -> FastAPI:
    """The ingest ASGI application (``identities`` defaults to asking the registry over HTTP)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Made at start, not at import: building the app (e.g. for its OpenAPI document) needs
        # no Kafka credentials; serving it does, and fails with the reason when they are missing.
        broker = make_broker(settings, client_id="vigie-ingest")
        await broker.start()
        resolver = identities or Identities(settings.registry_internal_url)
        app.state.submitter = Submitter(settings, broker, resolver)
        app.state.telemetry_forwarder = TelemetryForwarder(settings, broker, resolver)
        try:
            yield
        finally:
            await resolver.close()
            await broker.stop()

    app = FastAPI(
        title="Vigie ingest",
        version="1.0.0",
        summary="Submit incident reports about AI used in health care.",
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Refuse oversized bodies before reading them: a report is a few kilobytes.
        limit = (
            settings.ingest_max_telemetry_bytes
            if request.url.path == "/api/v1/telemetry"
            else settings.ingest_max_body_bytes
        )
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            metrics.REPORTS_REFUSED.labels(reason="too_large").inc()
            return JSONResponse(
                status_code=413, content={"detail": f"body larger than {limit} bytes"}
            )
        if length is None and request.method in ("POST", "PUT", "PATCH"):
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    metrics.REPORTS_REFUSED.labels(reason="too_large").inc()
                    return JSONResponse(
                        status_code=413, content={"detail": f"body larger than {limit} bytes"}
                    )
            request._body = body  # the stream is consumed: hand the bytes to the endpoint
        return await call_next(request)

    install_error_handlers(app)
    app.include_router(report_views.router)
    app.include_router(form_views.router)
    app.include_router(telemetry_views.router)

    async def ready() -> tuple[bool, dict[str, Any]]:
        ok = await app.state.submitter.ready()
        return ok, {"kafka": "ok" if ok else "unreachable"}

    app.include_router(
        ops.router(
            ready, ready_doc="Kafka answers: reports can be accepted.", not_ready_doc="Kafka down"
        )
    )

    return app


def main() -> None:
    """Entry point of ``vigie serve ingest``."""
    settings = IngestSettings()
    logs.configure_logging(settings.log_level)
    require_credentials(settings, "ingest")
    uvicorn.run(
        create_app(settings), host=settings.ingest_host, port=settings.ingest_port, log_config=None
    )
