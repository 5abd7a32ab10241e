"""A private PostgreSQL server from Debian's packages, for tests and benchmarks."""

from __future__ import annotations

import glob
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


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise PostgresStartError(
            f"{name} not found: install Debian's postgresql package (make postgres)"
        )
    return found[-1]


def _as_postgres(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    # The server refuses to run as root; Debian's package provides the postgres user.
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    result: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        cmd, capture_output=True, text=True, check=False, **kwargs
    )
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
    data = spec.home.resolve() / "data"
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (spec.home.resolve(), data):
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
            ]
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
        ]
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
    data = spec.home.resolve() / "data"
    if (data / "postmaster.pid").exists():
        _as_postgres([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])


def wipe(spec: PgSpec = PgSpec()) -> None:
    """Delete the server's data (stopped first)."""
    stop(spec)
    shutil.rmtree(spec.home, ignore_errors=True)
