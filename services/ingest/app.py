"""Ingest service: the report form and REST API, publishing durably to Kafka."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.common import ops
from services.common.deid import load_scrubber
from services.common.edges import (
    BodyLimit,
    RateLimit,
    SecurityHeaders,
    docs_enabled,
    install_field_errors,
    serve_metrics,
)
from services.ingest.deps import Submitter, submission_nonces
from services.ingest.devices import views as device_views
from services.ingest.devices.service import ModelVersions
from services.ingest.errors import install_error_handlers
from services.ingest.followups import views as followup_views
from services.ingest.followups.service import FollowUps, StatusLinks
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
        # The scrubber's language model first: ingest does not accept free text it cannot
        # de-identify (ScrubberUnavailable stops the start, naming what is missing).
        scrubber = await asyncio.to_thread(load_scrubber)
        broker = make_broker(settings, client_id="vigie-ingest")
        await broker.start()
        resolver = identities or Identities(settings.registry_internal_url)
        app.state.submitter = Submitter(settings, broker, resolver, scrubber)
        await app.state.submitter.start()
        app.state.telemetry_forwarder = TelemetryForwarder(settings, broker, resolver)
        links = StatusLinks(settings.registry_internal_url)
        app.state.followups = FollowUps(settings, broker, links, scrubber)
        try:
            yield
        finally:
            await app.state.submitter.close()
            await resolver.close()
            await links.close()
            await broker.stop()

    app = FastAPI(
        title="Vigie ingest",
        version="1.0.0",
        summary="Submit incident reports about AI used in health care.",
        lifespan=lifespan,
        docs_url="/docs" if docs_enabled(settings.env) else None,
        redoc_url="/redoc" if docs_enabled(settings.env) else None,
    )

    def body_limit(path: str) -> int:
        # A report is a few kilobytes; a telemetry window carries samples.
        if path == "/api/v1/telemetry":
            return settings.ingest_max_telemetry_bytes
        return settings.ingest_max_body_bytes

    app.add_middleware(
        BodyLimit,
        limit_for=body_limit,
        on_refused=metrics.REPORTS_REFUSED.labels(reason="too_large").inc,
    )
    app.add_middleware(SecurityHeaders)
    install_field_errors(app)
    app.state.rate_limit = RateLimit(settings.ingest_rate_limit)
    # Needs no Kafka: the form is shown (with its nonce) while the broker starts.
    app.state.nonces = submission_nonces(settings)
    app.mount("/static", StaticFiles(directory=form_views.STATIC), name="static")
    install_error_handlers(app)
    app.include_router(report_views.router)
    app.include_router(form_views.router)
    app.include_router(telemetry_views.router)
    # The form's device typeahead: the catalogue in memory, the registry's versions once a minute.
    app.state.model_versions = ModelVersions(settings.registry_internal_url)
    app.include_router(device_views.router)
    app.include_router(followup_views.router)

    async def ready() -> tuple[bool, dict[str, Any]]:
        ok = await app.state.submitter.ready()
        return ok, {"kafka": "ok" if ok else "unreachable"}

    app.include_router(
        ops.router(
            ready,
            ready_doc="Kafka answers: reports can be accepted.",
            not_ready_doc="Kafka down",
            service="ingest",
        )
    )

    return app


def main() -> None:
    """Entry point of ``vigie serve ingest``."""
    settings = IngestSettings()
    logs.configure_logging(settings.log_level)
    require_credentials(settings, "ingest")
    serve_metrics(settings.ingest_metrics_host, settings.ingest_metrics_port)
    uvicorn.run(
        create_app(settings), host=settings.ingest_host, port=settings.ingest_port, log_config=None
    )
