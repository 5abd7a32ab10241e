"""Registry API of the device catalogue (readable by every authenticated role; the catalogue
devices' model versions by anyone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.deps import PrincipalDep, SessionDep
from services.registry.devices import catalogue, service
from services.registry.devices.catalogue import CatalogueVersions
from services.registry.devices.models import DevicePage, DevicePublic
from services.registry.paging import MAX_OFFSET

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


@router.get("", response_model=DevicePage, responses={401: {"description": "No valid token"}})
def list_devices(
    session: SessionDep,
    principal: PrincipalDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    manufacturer: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DevicePage:
    """Search the catalogue by name or manufacturer."""
    return service.search(session, q=q, manufacturer=manufacturer, limit=limit, offset=offset)


@router.get("/catalogue/model-versions", response_model=CatalogueVersions)
def catalogue_model_versions(session: SessionDep) -> CatalogueVersions:
    """The AI model versions each catalogue device's own telemetry declared, for the report
    form's typeahead (which ingest serves without a token).

    Public: the catalogue is public data, and the versions come from the devices' telemetry
    only, never from reports, so the answer says nothing of who reported what.
    """
    return catalogue.model_versions(session)


@router.get(
    "/{device_id}",
    response_model=DevicePublic,
    responses={401: {"description": "No valid token"}, 404: {"description": "Unknown"}},
)
def read_device(device_id: str, session: SessionDep, principal: PrincipalDep) -> DevicePublic:
    """One device with the AI model versions seen for it."""
    return service.get(session, device_id)
