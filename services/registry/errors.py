"""Registry errors and the one place that maps them to HTTP."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class RegistryError(Exception):
    """Base of the registry's domain errors."""

    status_code = 400


class NotFound(RegistryError):
    """No such record, or none the caller may see (never a hint that it exists)."""

    status_code = 404


class AccessDenied(RegistryError):
    """The caller's role does not allow this."""

    status_code = 403


class Conflict(RegistryError):
    """The request does not fit the record's current state."""

    status_code = 409


class InvalidValue(RegistryError):
    """A parameter is malformed."""

    status_code = 422


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors to HTTP answers."""

    @app.exception_handler(RegistryError)
    async def _registry_error(request: Request, exc: RegistryError) -> JSONResponse:
        detail = "not found" if isinstance(exc, NotFound) else str(exc)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail})
