"""Sign-ins to the dashboard: server-side sessions, of which the browser holds only an id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from vigie.contracts import utcnow


class DashboardSession(SQLModel, table=True):
    """One sign-in. The cookie's secret is stored hashed; the API token it was opened with is
    stored sealed under that secret, so neither the table nor the cookie alone gives it."""

    __tablename__ = "dashboard_session"

    session_hash: str = Field(primary_key=True, max_length=64)
    sealed_token: str = Field(max_length=2048)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
