"""A private PostgreSQL server from Debian's packages, for tests and benchmarks."""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class PostgresStartError(RuntimeError):
    """PostgreSQL could not be started."""


@dataclass(frozen=True)
class PgSpec:
    """Where the server keeps its data and listens."""

    home: Path = Path(".vigie/postgres")
    port: int = 54329
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``vigie`` database."""
        return f"postgresql+psycopg://vigie@{self.host}:{self.port}/vigie"


def data_dir(spec: PgSpec = PgSpec()) -> Path:
    """Where the server keeps its data: ``<home>/data``, or, run as root, a folder of the
    ``postgres`` user's home named after ``<home>``.

    As root the server runs as ``postgres``, which must reach its data directory; a clone under
    a private folder (mode 0700, as a home directory is) is out of its reach, wherever the
    clone sits. The ``postgres`` user's own home always is, and one folder per ``<home>`` keeps
    two clones' servers apart.
    """
    home = spec.home.resolve()
    if os.geteuid() != 0:
        return home / "data"
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:16]
    return Path(pwd.getpwnam("postgres").pw_dir) / "vigie" / f"{home.name}-{digest}" / "data"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise PostgresStartError(
            f"{name} not found: install Debian's postgresql package (make postgres)"
        )
    return found[-1]


def _as_postgres(cmd: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The server refuses to run as root; Debian's package provides the postgres user. Its tools
    # change back to their working directory: it must be one that user reaches, never the
    # caller's (a clone under a private folder is not).
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    return result


def is_ready(spec: PgSpec = PgSpec()) -> bool:
    """The server accepts connections."""
    return _ready(spec)


def _ready(spec: PgSpec) -> bool:
    result = subprocess.run(
        [_bin("pg_isready"), "-h", spec.host, "-p", str(spec.port)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def start(spec: PgSpec = PgSpec(), *, timeout_s: float = 60) -> str:
    """Start the server if needed (initialising its data folder once); return its URL."""
    if _ready(spec):
        return spec.url
    data = data_dir(spec)
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (data.parent, data):
                os.chown(path, user.pw_uid, user.pw_gid)
        result = _as_postgres(
            [
                _bin("initdb"),
                "-D",
                str(data),
                "-U",
                "vigie",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            cwd=data,
        )
        if result.returncode != 0:
            raise PostgresStartError(f"initdb failed: {result.stderr[-2000:]}")
    logfile = data / "server.log"
    result = _as_postgres(
        [
            _bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(logfile),
            "-w",
            "-t",
            str(int(timeout_s)),
            "-o",
            f"-p {spec.port} -c listen_addresses={spec.host} -k {data} "
            "-c fsync=on -c shared_buffers=256MB -c max_connections=200",
            "start",
        ],
        cwd=data,
    )
    if result.returncode != 0 or not _ready(spec):
        tail = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else ""
        raise PostgresStartError(f"PostgreSQL did not start: {result.stderr}\n{tail}")
    created = subprocess.run(
        [_bin("createdb"), "-h", spec.host, "-p", str(spec.port), "-U", "vigie", "vigie"],
        capture_output=True,
        text=True,
        check=False,
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise PostgresStartError(f"createdb failed: {created.stderr}")
    deadline = time.monotonic() + timeout_s
    while not _ready(spec):
        if time.monotonic() > deadline:
            raise PostgresStartError("PostgreSQL is not accepting connections")
        time.sleep(0.2)
    log.info("PostgreSQL ready on %s:%s", spec.host, spec.port)
    return spec.url


def stop(spec: PgSpec = PgSpec()) -> None:
    """Stop the server."""
    data = data_dir(spec)
    if (data / "postmaster.pid").exists():
        _as_postgres([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], cwd=data)


def wipe(spec: PgSpec = PgSpec()) -> None:
    """Delete the server's data (stopped first)."""
    stop(spec)
    shutil.rmtree(data_dir(spec).parent, ignore_errors=True)  # as root, not under the home
    shutil.rmtree(spec.home, ignore_errors=True)
