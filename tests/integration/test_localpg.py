"""The project's PostgreSQL starts from a clone in a private folder (mode 0700), even as root."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from vigie_tools import localpg

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def private_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory under a folder only its owner may enter, as a home directory is."""
    home = tmp_path / "home"
    clone = home / "src" / "vigie"
    clone.mkdir(parents=True)
    home.chmod(0o700)
    monkeypatch.chdir(clone)
    yield clone
    home.chmod(0o755)


def test_the_server_starts_from_a_private_folder(private_clone: Path) -> None:
    spec = localpg.PgSpec(port=free_port())
    data = localpg.data_dir(spec)
    try:
        url = localpg.start(spec, timeout_s=60)
        assert localpg.is_ready(spec)
        with psycopg.connect(
            f"host={spec.host} port={spec.port} user=vigie dbname=vigie", autocommit=True
        ) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert url == spec.url
        if os.geteuid() == 0:
            # Run as postgres, the server keeps its data where that user reaches it.
            assert not data.is_relative_to(private_clone)
            assert data.stat().st_uid == data.parent.stat().st_uid != 0
            assert stat.S_IMODE((private_clone.parent.parent).stat().st_mode) == 0o700
        else:
            assert data == (private_clone / ".vigie/postgres/data")
        # Stopped and started again, it finds its data where it left it.
        localpg.stop(spec)
        assert not localpg.is_ready(spec)
        localpg.start(spec, timeout_s=60)
        assert localpg.is_ready(spec)
    finally:
        localpg.wipe(spec)
    assert not localpg.is_ready(spec)
    assert not data.exists()


def test_two_clones_keep_their_data_apart(tmp_path: Path) -> None:
    first = localpg.data_dir(localpg.PgSpec(home=tmp_path / "a" / ".vigie/postgres"))
    second = localpg.data_dir(localpg.PgSpec(home=tmp_path / "b" / ".vigie/postgres"))
    assert first != second
    assert first == localpg.data_dir(localpg.PgSpec(home=tmp_path / "a" / ".vigie/postgres"))
