"""Errors of the ingest service and the one place that maps them to HTTP."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.ingest.reports.nonces import InvalidNonce
from services.ingest.reports.service import IdempotencyConflict
from vigie import metrics


class KafkaUnavailable(Exception):
    """Kafka did not acknowledge a write in time."""


class Unauthenticated(Exception):
    """A bearer token was given but is not valid."""


class Forbidden(Exception):
    """The token is valid but may not do this."""


class RegistryUnavailable(Exception):
    """The registry could not check a bearer token."""


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors to HTTP answers."""

    @app.exception_handler(KafkaUnavailable)
    async def _kafka(request: Request, exc: KafkaUnavailable) -> JSONResponse:
        metrics.REPORTS_REFUSED.labels(reason="kafka_unavailable").inc()
        return JSONResponse(
            status_code=503,
            content={"detail": "the report could not be recorded durably; please retry"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        metrics.REPORTS_REFUSED.labels(reason="bad_token").inc()
        return JSONResponse(
            status_code=401,
            content={"detail": "invalid API token"},
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        metrics.TELEMETRY_REFUSED.labels(reason="forbidden").inc()
        return JSONResponse(status_code=403, content={"detail": str(exc)})

    @app.exception_handler(RegistryUnavailable)
    async def _registry(request: Request, exc: RegistryUnavailable) -> JSONResponse:
        metrics.REPORTS_REFUSED.labels(reason="registry_unavailable").inc()
        return JSONResponse(
            status_code=503,
            headers={"Retry-After": "5"},
            content={"detail": "the token could not be checked; please retry"},
        )

    @app.exception_handler(IdempotencyConflict)
    async def _conflict(request: Request, exc: IdempotencyConflict) -> JSONResponse:
        metrics.REPORTS_REFUSED.labels(reason="idempotency_conflict").inc()
        return JSONResponse(
            status_code=409,
            content={"detail": "Idempotency-Key already used with a different report"},
        )

    @app.exception_handler(InvalidNonce)
    async def _nonce(request: Request, exc: InvalidNonce) -> JSONResponse:
        metrics.REPORTS_REFUSED.labels(reason="invalid_nonce").inc()
        return JSONResponse(
            status_code=422,
            content={
                "detail": [
                    {
                        "loc": ["header", "idempotency-key"],
                        "msg": f"{exc.reason}: without a bearer token, the Idempotency-Key must "
                        "be a submission nonce from POST /api/v1/submission-nonces",
                        "type": "value_error",
                    }
                ]
            },
        )
