"""Registry databases for tests, made as production makes them: through the migrations.

Migrating a fresh SQLite file costs about a tenth of a second; tests copy one file migrated once
per process instead, so the suite runs every migration once and pays a file copy per test.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from services.registry.db import upgrade_url


@cache
def _sqlite_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="vigie-registry-template-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "registry.db"
    # Disposing the engine closes the last connection, which folds the WAL into the file.
    upgrade_url(f"sqlite:///{path}")
    return path


def migrated_sqlite(path: Path) -> str:
    """A SQLite registry database at ``path``, at the latest revision; returns its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template(), path)
    return f"sqlite:///{path}"
