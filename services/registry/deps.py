"""FastAPI dependencies of the registry: database session, settings, authenticated caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.common.edges import StrictBearer
from services.registry.auth.models import Role
from services.registry.auth.service import Principal, authenticate
from services.registry.settings import RegistrySettings


def get_session(request: Request) -> Iterator[Session]:
    """A database session for the request."""
    engine: Engine = request.app.state.engine
    with Session(engine) as session:
        yield session


def get_settings(request: Request) -> RegistrySettings:
    """Settings the application was built with."""
    settings: RegistrySettings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[RegistrySettings, Depends(get_settings)]

# A malformed Authorization header is 401 (StrictBearer), never an anonymous call.
_bearer = StrictBearer(auto_error=False, description="API token issued by `vigie token create`.")


def get_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token (401 without a valid one)."""
    principal = authenticate(session, credentials.credentials) if credentials else None
    if principal is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="a valid API token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> object:
    """Dependency that lets only ``roles`` through (403 otherwise)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role.value} may not do this",
            )
        return principal

    return Depends(check)
