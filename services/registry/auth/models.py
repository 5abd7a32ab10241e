"""API tokens and roles."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from vigie.contracts import utcnow


class Role(StrEnum):
    """Who calls the registry API."""

    CLINICIAN = "clinician"
    DEVICE = "device"
    MANUFACTURER = "manufacturer"
    REGULATOR = "regulator"
    ADMIN = "admin"


class ApiToken(SQLModel, table=True):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_token"

    token_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: Role
    manufacturer: str | None = Field(default=None, max_length=200)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # None on tokens issued before tokens expired: they do not (revoke and reissue them).
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Recorded at most once a minute per token (see ``auth.service.LAST_USE_RESOLUTION``).
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
