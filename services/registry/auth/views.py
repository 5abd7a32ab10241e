"""Registry API of identity: who the caller is (used by ingest to attribute reports)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.registry.auth.models import Role
from services.registry.deps import PrincipalDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["identity"])


class WhoAmI(BaseModel):
    """The caller's role and the pseudonym its own reports are recorded under."""

    role: Role
    manufacturer: str | None
    reporter_ref: str


@router.get("/whoami", response_model=WhoAmI, responses={401: {"description": "No valid token"}})
def whoami(principal: PrincipalDep, settings: SettingsDep) -> WhoAmI:
    """Identity behind the bearer token."""
    return WhoAmI(
        role=principal.role,
        manufacturer=principal.manufacturer,
        reporter_ref=principal.reporter_ref(key=settings.pseudonym_key_bytes),
    )
