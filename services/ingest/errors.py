"""Errors of the ingest service and the one place that maps them to HTTP."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.ingest.reports.service import IdempotencyConflict
from vigie import telemetry


class KafkaUnavailable(Exception):
    """Kafka did not acknowledge a write in time."""


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors to HTTP answers."""

    @app.exception_handler(KafkaUnavailable)
    async def _kafka(request: Request, exc: KafkaUnavailable) -> JSONResponse:
        telemetry.REPORTS_REFUSED.labels(reason="kafka_unavailable").inc()
        return JSONResponse(
            status_code=503,
            content={"detail": "the report could not be recorded durably; please retry"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(IdempotencyConflict)
    async def _conflict(request: Request, exc: IdempotencyConflict) -> JSONResponse:
        telemetry.REPORTS_REFUSED.labels(reason="idempotency_conflict").inc()
        return JSONResponse(
            status_code=409,
            content={"detail": "Idempotency-Key already used with a different report"},
        )
