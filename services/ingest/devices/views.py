"""HTTP route of the device search behind the report form's typeahead."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.ingest.devices.models import DeviceMatch, DeviceMatches
from services.ingest.devices.service import (
    MAX_QUERY,
    MAX_RESULTS,
    MIN_QUERY,
    Catalogue,
    ModelVersions,
)

router = APIRouter(prefix="/api/v1", tags=["devices"])


@cache
def catalogue() -> Catalogue:
    """The catalogue, read from its file once per process."""
    return Catalogue.load()


def get_model_versions(request: Request) -> ModelVersions:
    """The application's view of the registry's model versions."""
    versions: ModelVersions = request.app.state.model_versions
    return versions


CatalogueDep = Annotated[Catalogue, Depends(catalogue)]
ModelVersionsDep = Annotated[ModelVersions, Depends(get_model_versions)]


@router.get(
    "/devices",
    response_model=DeviceMatches,
    responses={422: {"description": "Query too short or too long, or limit out of range"}},
)
async def search_devices(
    found_in: CatalogueDep,
    versions: ModelVersionsDep,
    q: Annotated[str, Query(min_length=MIN_QUERY, max_length=MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 8,
) -> DeviceMatches:
    """Catalogue devices matching ``q`` (name, manufacturer or FDA submission number), best
    first, with the AI model versions the registry knows for each.

    Public, like the form it serves: the catalogue is public data, searched in memory, and the
    versions are read from the registry at most once a minute whatever the traffic.
    """
    known = await versions.of()
    return DeviceMatches(
        items=[
            DeviceMatch(
                catalogue_id=e.catalogue_id,
                name=e.name,
                manufacturer=e.manufacturer,
                submission_number=e.submission_number,
                model_versions=known.get(e.catalogue_id, []),
            )
            for e in found_in.search(q, limit=limit)
        ]
    )
