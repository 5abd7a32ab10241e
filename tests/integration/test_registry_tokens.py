"""API tokens have a lifecycle: they expire, can be listed and revoked, note their last use, and
every issuance and revocation is in the audit chain."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from services.registry.app import create_app
from services.registry.audit.models import AuditRecord
from services.registry.audit.service import verify
from services.registry.auth.models import ApiToken, Role
from services.registry.auth.service import create_token, list_tokens, revoke_token
from services.registry.settings import RegistrySettings


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(RegistrySettings(database_url=database_url), consume=False)) as c:
        yield c


def whoami(client: TestClient, token: str) -> int:
    response = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    return int(response.status_code)


def test_expired_and_revoked_tokens_are_refused(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        valid = create_token(session, role=Role.REGULATOR)
        brief = create_token(session, role=Role.REGULATOR, expires_in=timedelta(milliseconds=50))
        revoked = create_token(session, role=Role.ADMIN, label="laptop")
    assert whoami(client, valid) == 200 and whoami(client, revoked) == 200
    time.sleep(0.1)
    assert whoami(client, brief) == 401

    with Session(engine) as session:
        laptop = next(t for t in list_tokens(session) if t.label == "laptop")
        revoke_token(session, laptop.token_id, reason="laptop stolen")
        again = revoke_token(session, laptop.token_id)  # revoking twice changes nothing
        assert again.revoked_at is not None
    assert whoami(client, revoked) == 401 and whoami(client, valid) == 200

    with Session(engine) as session:
        actions = [
            r.action for r in session.exec(select(AuditRecord).order_by(col(AuditRecord.seq)))
        ]
        assert actions == ["token_issued"] * 3 + ["token_revoked"]
        assert verify(session).ok


def test_last_use_is_noted_at_most_once_a_minute(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        token = create_token(session, role=Role.REGULATOR)
        assert list_tokens(session)[0].last_used_at is None
    assert whoami(client, token) == 200
    with Session(engine) as session:
        first = list_tokens(session)[0].last_used_at
    assert first is not None
    assert whoami(client, token) == 200
    with Session(engine) as session:
        assert list_tokens(session)[0].last_used_at == first
        # The last use is not part of the token's audited state.
        assert verify(session).ok


def vigie(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigie_tools", "token", *args],
        env={**os.environ, "VIGIE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )


def test_token_commands_create_list_and_revoke(database_url: str) -> None:
    created = vigie(
        database_url,
        "create",
        "--role",
        "manufacturer",
        "--manufacturer",
        "Acme",
        "--expires-in-days",
        "7",
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("vg_")
    assert vigie(database_url, "create", "--role", "admin", "--expires-in-days", "0").returncode

    listed = vigie(database_url, "list")
    assert listed.returncode == 0 and secret not in listed.stdout
    header, row = listed.stdout.splitlines()
    assert header.split("\t") == [
        "id",
        "role",
        "manufacturer",
        "label",
        "created",
        "expires",
        "last used",
        "revoked",
    ]
    token_id, role, manufacturer, _label, created_at, expires, last_used, revoked = row.split("\t")
    assert (role, manufacturer, last_used, revoked) == ("manufacturer", "Acme", "-", "-")
    assert expires > created_at

    assert vigie(database_url, "revoke", str(uuid.uuid4())).returncode == 1
    gone = vigie(database_url, "revoke", token_id, "--reason", "contract ended")
    assert gone.returncode == 0 and "revoked" in gone.stdout
    assert vigie(database_url, "list").stdout.splitlines()[1].split("\t")[-1] != "-"


def test_tokens_issued_before_expiry_existed_are_flagged_until_revoked(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        # A token row of an older registry: no expiry, no audit record.
        legacy = ApiToken(token_hash="0" * 64, role=Role.REGULATOR)
        session.add(legacy)
        session.commit()
        result = verify(session)
        assert not result.ok and f"API token {legacy.token_id}" in result.state_problems[0]
        revoke_token(session, legacy.token_id, reason="reissued with an expiry")
        assert verify(session).ok
