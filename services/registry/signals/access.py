"""Which signal rows a caller may read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true
from sqlmodel import col

from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.errors import AccessDenied


def scope(principal: Principal, manufacturer_key: Any) -> ColumnElement[bool]:
    """Rows the principal may read: all for regulators, its own devices' for a manufacturer."""
    if principal.role in (Role.REGULATOR, Role.ADMIN):
        return true()
    if principal.role is Role.MANUFACTURER and principal.manufacturer_key:
        return col(manufacturer_key) == principal.manufacturer_key
    raise AccessDenied(principal.role.value)
