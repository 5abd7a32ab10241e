"""Alembic environment of the registry: runs the revisions on the connection that
``services.registry.db.upgrade`` opened (online only; no SQL script mode)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from services.registry.db import import_models

import_models()
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the registry's migrations with `vigie db upgrade`")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite alters little in place: batch mode rebuilds the table when it must.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
