"""REST endpoint of telemetry windows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from services.common.edges import StrictBearer
from services.ingest.telemetry.service import TelemetryForwarder, TelemetryReceipt
from vigie.contracts import TelemetryWindow

router = APIRouter(prefix="/api/v1", tags=["telemetry"])
_bearer = StrictBearer(description="Device or manufacturer token issued by the registry.")


def get_forwarder(request: Request) -> TelemetryForwarder:
    """The application's telemetry forwarder (built at start-up)."""
    forwarder: TelemetryForwarder = request.app.state.telemetry_forwarder
    return forwarder


@router.post(
    "/telemetry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TelemetryReceipt,
    responses={
        401: {"description": "Missing or invalid API token"},
        403: {"description": "The token may not send this device's telemetry"},
        413: {"description": "Body too large"},
        422: {"description": "Invalid window, with field errors"},
        503: {"description": "Kafka did not acknowledge the window; retry"},
    },
)
async def send_window(
    window: TelemetryWindow,
    forwarder: Annotated[TelemetryForwarder, Depends(get_forwarder)],
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(_bearer)],
) -> TelemetryReceipt:
    """Record one telemetry window; answers only once Kafka acknowledged it (acks=all)."""
    return await forwarder.forward(window, token=credentials.credentials)
