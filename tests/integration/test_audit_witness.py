"""The registry publishes its audit head, signed, on Kafka; `vigie audit verify` checks the chain
against it and the rows against the states the chain recorded.

Each tampering is tried on a copy of a live registry's database, as an insider with write access
to it would: the copy of an untouched database verifies, every change made behind the service
layer fails verification naming what changed, forged checkpoints change nothing, and a deleted
witness fails closed.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from kafka.admin import KafkaAdminClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.registry.app import create_app
from services.registry.audit.models import AuditRecord
from services.registry.audit.witness import (
    Signer,
    generate_key_file,
    parse_public_keys,
    witnessed_heads,
)
from services.registry.auth.models import ApiToken, Role
from services.registry.auth.service import (
    authenticate,
    create_token,
    hash_token,
    revoke_token,
)
from services.registry.cases.links import link_report
from services.registry.cases.mir import file_mir
from services.registry.cases.models import (
    Case,
    CaseReport,
    CaseStatus,
    MirContent,
    MirCreate,
    MirType,
)
from services.registry.cases.review import review_triage
from services.registry.cases.workflow import transition
from services.registry.db import make_engine
from services.registry.reports.models import Report
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.audit import rehash
from tests.support.factories import triaged
from tests.support.kafka import client_kwargs, fresh_namespace, producer, provision
from vigie.contracts import AuditCheckpoint, DeviceRef, ReportedOutcome, Severity, utcnow
from vigie_tools import localpg

ACME = DeviceRef(name="Lung", manufacturer="Acme", model_version="1")


def audit_verify(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigie_tools", "audit", "verify", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass
class LiveRegistry:
    """A registry database that went through the service layer, witnessed on Kafka."""

    settings: RegistrySettings
    signer: Signer
    env: dict[str, str]
    serious_case: uuid.UUID
    linked_report: uuid.UUID
    newest: AuditRecord

    def env_for(self, database_url: str) -> dict[str, str]:
        return {**self.env, "VIGIE_DATABASE_URL": database_url}


def wait_for_witness(settings: RegistrySettings, signer: Signer, newest: AuditRecord) -> None:
    keys = parse_public_keys(signer.public_text)
    deadline = time.monotonic() + 30
    registry = settings.registry_group_id
    while witnessed_heads(settings, keys, registry=registry).heads.get(newest.seq or 0) != (
        newest.hash
    ):
        assert time.monotonic() < deadline, "the registry published no signed checkpoint"
        time.sleep(0.2)


def live_registry(database_url: str, kafka_bootstrap: str, tmp_path: Path) -> LiveRegistry:
    """Run a registry, make every kind of audited change through its services, and wait until
    its newest head is witnessed."""
    namespace = fresh_namespace()
    key_file = tmp_path / "audit-signing.key"
    signer = generate_key_file(key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    settings = RegistrySettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_namespace=namespace,
        registry_group_id=f"{namespace}-registry",
        audit_checkpoint_s=0.2,
        audit_signing_key_file=key_file,
    )
    provision(settings)
    key = settings.pseudonym_key_bytes
    death = triaged(outcome=ReportedOutcome.DEATH, device=ACME)
    others = [triaged(device=ACME) for _ in range(2)]
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        with Session(engine) as session:
            record_triaged(session, [death, *others], alerts_topic=settings.topics.alerts)
            regulator = authenticate(session, create_token(session, role=Role.REGULATOR))
            maker = authenticate(
                session, create_token(session, role=Role.MANUFACTURER, manufacturer="Acme")
            )
            spare = create_token(session, role=Role.CLINICIAN, expires_in=timedelta(days=1))
            spare_principal = authenticate(session, spare)
            assert regulator and maker and spare_principal
            revoke_token(session, uuid.UUID(spare_principal.token_id), reason="left")
            cases = {
                link.report_id: link.case_id for link in session.exec(select(CaseReport)).all()
            }
            serious = cases[death.report.report_id]
            other = cases[others[0].report.report_id]
            transition(
                session,
                serious,
                to=CaseStatus.AWAITING_MANUFACTURER,
                reason="MIR requested",
                principal=regulator,
                key=key,
            )
            content = MirContent(
                manufacturer_awareness_date=utcnow().date(),
                incident_description="The model missed a tension pneumothorax.",
            )
            file_mir(
                session,
                serious,
                MirCreate(report_type=MirType.INITIAL, content=content),
                principal=maker,
                key=key,
            )
            link_report(
                session,
                serious,
                others[1].report.report_id,
                reason="same ward, same week",
                principal=regulator,
                key=key,
            )
            review_triage(
                session,
                other,
                severity=Severity.MALFUNCTION,
                category=None,
                reason="reviewed",
                principal=regulator,
                key=key,
                feedback_topic=settings.topics.triage_feedback,
            )
            newest = session.exec(
                select(AuditRecord).order_by(col(AuditRecord.seq).desc()).limit(1)
            ).one()
        wait_for_witness(settings, signer, newest)
    env = {
        "VIGIE_DATABASE_URL": database_url,
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "VIGIE_TOPIC_NAMESPACE": namespace,
        "VIGIE_REGISTRY_GROUP_ID": settings.registry_group_id,
        "VIGIE_AUDIT_VERIFY_KEY": signer.public_text,
    }
    return LiveRegistry(settings, signer, env, serious, others[1].report.report_id, newest)


class Copies:
    """Consistent copies of a registry database: SQLite's backup API, PostgreSQL templates."""

    def __init__(self, source: str, tmp_path: Path) -> None:
        self.source, self.tmp_path = source, tmp_path
        self.made: list[str] = []

    def make(self) -> str:
        name = f"copy_{uuid.uuid4().hex[:10]}"
        if self.source.startswith("sqlite"):
            target = self.tmp_path / f"{name}.db"
            with (
                sqlite3.connect(self.source.split("///", 1)[1]) as src,
                sqlite3.connect(target) as dst,
            ):
                src.backup(dst)
            return f"sqlite:///{target}"
        source_db = self.source.rsplit("/", 1)[1]
        with psycopg.connect(_pg_admin(), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (source_db,),
            )
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source_db}"')
        self.made.append(name)
        return self.source.rsplit("/", 1)[0] + f"/{name}"

    def drop(self) -> None:
        if not self.made:
            return
        with psycopg.connect(_pg_admin(), autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin() -> str:
    spec = localpg.PgSpec()
    return f"host={spec.host} port={spec.port} user=vigie dbname=vigie"


@pytest.fixture
def copies(database_url: str, tmp_path: Path) -> Iterator[Copies]:
    made = Copies(database_url, tmp_path)
    yield made
    made.drop()


def tampered(url: str, change: Callable[[Session], object]) -> None:
    engine: Engine = make_engine(url)
    try:
        with Session(engine) as session:
            change(session)
            session.commit()
    finally:
        engine.dispose()


def downgrade_severity(live: LiveRegistry) -> Callable[[Session], object]:
    def change(session: Session) -> None:
        case = session.get(Case, live.serious_case)
        assert case is not None
        case.severity, case.deadline, case.serious_incident = Severity.OTHER, None, False
        session.add(case)

    return change


def close_case(live: LiveRegistry) -> Callable[[Session], object]:
    def change(session: Session) -> None:
        case = session.get(Case, live.serious_case)
        assert case is not None
        case.status, case.status_reason = CaseStatus.CLOSED, "no further action"
        session.add(case)

    return change


def delete_report(live: LiveRegistry) -> Callable[[Session], object]:
    def change(session: Session) -> None:
        for link in session.exec(
            select(CaseReport).where(col(CaseReport.report_id) == live.linked_report)
        ):
            session.delete(link)
        session.flush()
        session.delete(session.get(Report, live.linked_report))

    return change


def rewrite_narrative(live: LiveRegistry) -> Callable[[Session], object]:
    def change(session: Session) -> None:
        report = session.get(Report, live.linked_report)
        assert report is not None
        report.narrative = "Nothing happened; the clinician misread the screen."
        session.add(report)

    return change


def insert_admin_token(_live: LiveRegistry) -> Callable[[Session], object]:
    def change(session: Session) -> None:
        session.add(
            ApiToken(
                token_id=uuid.UUID(int=1),
                token_hash=hash_token("vg_inserted-by-hand"),
                role=Role.ADMIN,
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(days=90),
            )
        )

    return change


# Each change, and what verification must name.
TAMPERING: dict[str, tuple[Callable[[LiveRegistry], Callable[[Session], object]], str]] = {
    "severity downgraded": (downgrade_severity, "case {serious_case}"),
    "case closed": (close_case, "case {serious_case}"),
    "report deleted": (delete_report, "case {serious_case}"),
    "narrative rewritten": (rewrite_narrative, "case {serious_case}"),
    "admin token inserted": (insert_admin_token, f"API token {uuid.UUID(int=1)} (role admin)"),
}


def test_every_change_behind_the_registry_fails_verification(
    kafka_bootstrap: str, database_url: str, tmp_path: Path, copies: Copies
) -> None:
    live = live_registry(database_url, kafka_bootstrap, tmp_path)

    untouched = audit_verify(live.env_for(copies.make()))
    assert untouched.returncode == 0, untouched.stdout + untouched.stderr
    assert "match the states the chain recorded" in untouched.stdout
    assert f"newest: record {live.newest.seq}" in untouched.stdout

    for what, (make_change, named) in TAMPERING.items():
        copy = copies.make()
        tampered(copy, make_change(live))
        caught = audit_verify(live.env_for(copy))
        expected = named.format(serious_case=live.serious_case)
        assert caught.returncode == 1, (what, caught.stdout + caught.stderr)
        assert "AUDIT STATE BROKEN" in caught.stdout and expected in caught.stdout, (
            what,
            caught.stdout,
        )


def test_forged_checkpoints_are_ignored_and_a_deleted_witness_fails_closed(
    kafka_bootstrap: str, database_url: str, tmp_path: Path, copies: Copies
) -> None:
    live = live_registry(database_url, kafka_bootstrap, tmp_path)
    topic = live.settings.topics.audit_checkpoints
    registry = live.settings.registry_group_id
    seq = live.newest.seq or 0
    forged_hash = "f" * 64

    def checkpoint(
        at: int = seq, key_id: str | None = None, signature: str | None = None
    ) -> AuditCheckpoint:
        return AuditCheckpoint(
            event_id=uuid.uuid4(),
            seq=at,
            head_hash=forged_hash,
            registry=registry,
            key_id=key_id,
            signature=signature,
        )

    def publish(*checkpoints: AuditCheckpoint) -> None:
        kafka = producer(kafka_bootstrap)
        try:
            for forged in checkpoints:
                kafka.send(topic, key=registry.encode(), value=forged.model_dump_json().encode())
            kafka.flush()
        finally:
            kafka.close()

    stranger = Signer(Ed25519PrivateKey.generate())
    forgeries = [
        checkpoint(),  # unsigned, naming another hash for the newest record
        checkpoint(at=seq + 5),  # unsigned, claiming records that were never written
        stranger.sign(checkpoint()),  # signed by a key nobody pinned
        # the registry's key id, with a signature that is not its own
        checkpoint(
            key_id=live.signer.key_id,
            signature=base64.b64encode(stranger.private.sign(b"something else")).decode(),
        ),
    ]
    publish(*forgeries)

    intact = audit_verify(live.env_for(copies.make()))
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert intact.stdout.count("ignored checkpoint") == len(forgeries)
    assert "unsigned" in intact.stdout and "not pinned" in intact.stdout
    assert "does not verify" in intact.stdout

    # A chain rewritten with fresh hashes, vouched for by a forged head, still fails.
    rewritten = copies.make()

    def rewrite(session: Session) -> None:
        rows = session.exec(select(AuditRecord).order_by(col(AuditRecord.seq))).all()
        rows[0].actor = "regulator:someone-else"
        prev = rehash(session, rows, after=rows[0].prev_hash)
        publish(checkpoint().model_copy(update={"head_hash": prev}))

    tampered(rewritten, rewrite)
    caught = audit_verify(live.env_for(rewritten))
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "chain rewritten" in caught.stdout

    # Another registry's checkpoints, even signed, are not this registry's witness.
    elsewhere = audit_verify({**live.env_for(copies.make()), "VIGIE_REGISTRY_GROUP_ID": "other"})
    assert elsewhere.returncode == 1 and "NO WITNESS" in elsewhere.stdout

    admin = KafkaAdminClient(**client_kwargs(kafka_bootstrap))
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()
    gone = audit_verify(live.env_for(copies.make()))
    assert gone.returncode == 1, gone.stdout + gone.stderr
    assert "NO WITNESS" in gone.stdout and topic in gone.stdout


def test_removing_the_newest_records_is_caught_by_the_witnessed_head(
    kafka_bootstrap: str, database_url: str, tmp_path: Path
) -> None:
    live = live_registry(database_url, kafka_bootstrap, tmp_path)
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.delete(session.get(AuditRecord, live.newest.seq))
        session.commit()
    engine.dispose()
    caught = audit_verify(live.env)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert f"AUDIT CHAIN BROKEN at record {live.newest.seq}" in caught.stdout
    assert "newest records removed" in caught.stdout
    # The chain alone cannot see it; the rows can: the case no longer matches its last record.
    alone = audit_verify(live.env, "--chain-only")
    assert alone.returncode == 1 and "AUDIT STATE BROKEN" in alone.stdout


def test_verify_fails_closed_when_the_witness_is_unreachable(tmp_path: Path) -> None:
    signer = generate_key_file(tmp_path / "audit.key")
    unreachable = audit_verify(
        {
            "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
            "VIGIE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "VIGIE_KAFKA_TIMEOUT_S": "2",
            "VIGIE_AUDIT_VERIFY_KEY": signer.public_text,
        }
    )
    assert unreachable.returncode == 2
    assert "cannot read the witnessed heads" in unreachable.stdout


def test_verify_needs_a_pinned_key(tmp_path: Path) -> None:
    unpinned = audit_verify(
        {
            "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
            "VIGIE_ENV": "production",
            "VIGIE_PSEUDONYM_KEY": "k" * 40,
        }
    )
    assert unpinned.returncode == 2 and "no audit verification key pinned" in unpinned.stdout
