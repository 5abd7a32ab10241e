"""Alembic migrations of the registry database: ``env.py`` and one module per revision."""
