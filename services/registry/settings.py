"""Settings of the registry service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from vigie.settings import CommonSettings


class RegistrySettings(CommonSettings):
    """Registry: database, HTTP address, consumer group, outbox relay."""

    listeners = (("registry_host", None), ("registry_metrics_host", "registry_metrics_port"))

    database_url: str = Field(
        default="sqlite:///.vigie/registry.db",
        description=(
            "The registry's database (SQLAlchemy URL; postgresql+psycopg://... in production). "
            "SQLite runs WAL with synchronous=NORMAL: a power loss, not a crash, can undo its "
            "last commits while their Kafka offsets stay committed, and those reports are then "
            "missing until the topic is replayed."
        ),
    )
    registry_host: str = Field(
        default="127.0.0.1",
        description="Address the registry's HTTP API and dashboard listen on.",
    )
    registry_port: int = Field(
        default=8001,
        description="Port of the registry's HTTP API and dashboard.",
    )
    registry_metrics_host: str = Field(
        default="127.0.0.1",
        description=(
            "Address of the registry's Prometheus metrics listener, apart from the public port "
            "(0.0.0.0 in a container, for Prometheus only)."
        ),
    )
    registry_metrics_port: int = Field(
        default=8004,
        description="Port of the registry's Prometheus metrics listener (0: none).",
    )
    registry_max_body_bytes: int = Field(
        default=64 * 1024,
        description=(
            "Largest request body the registry accepts (bytes): case updates, subscriptions and "
            "the dashboard's forms are small."
        ),
    )
    dashboard_session_hours: float = Field(
        default=8.0,
        description=(
            "How long a dashboard sign-in lasts (the server-side session behind its cookie)."
        ),
    )
    ingest_public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where reporters send follow-ups (ingest's public address): the status page "
        "links to its follow-up form.",
    )
    registry_group_id: str = Field(
        default="vigie-registry",
        description=(
            "Consumer group of the registry (also the registry's name in audit checkpoints)."
        ),
    )
    registry_max_records: int = Field(
        default=500,
        description="Most records the registry's consumers take in one batch.",
    )
    outbox_poll_s: float = Field(
        default=1.0,
        description=(
            "The relay also wakes on every commit; the poll only bounds the delay after a restart."
        ),
    )
    outbox_batch: int = Field(
        default=500,
        description="Most outbox events the relay publishes in one batch.",
    )
    outbox_retention_days: float = Field(
        default=7.0,
        description=(
            "Published events keep their row (what was published, when) but lose their payload "
            "after this many days: it is on Kafka and in the registry's tables."
        ),
    )
    registry_country: str = Field(
        default="FR",
        description=(
            "Country of the authority running this registry (alerts not tied to a report carry it)."
        ),
    )
    signals_scan_s: float = Field(
        default=300.0,
        description="Statistical signals (trends, disproportionality) are recomputed this often.",
    )
    audit_checkpoint_s: float = Field(
        default=10.0,
        description=(
            "The audit chain's head is published on Kafka this often when it moved (a witness "
            "that `vigie audit verify` checks against: records newer than the last one can still "
            "vanish)."
        ),
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description=(
            "Ed25519 private key (PEM, PKCS#8) that signs the audit checkpoints. Required in "
            "production; outside production one is made once under .vigie/audit/ (mode 0600) when"
            " none is given."
        ),
    )
    audit_verify_key: str = Field(
        default="",
        description=(
            "The public keys vigie audit verify accepts checkpoints from: base64 of raw Ed25519 "
            "keys, comma-separated (several during a rotation). Outside production, with none "
            "given, the key made under .vigie/audit/."
        ),
    )
    audit_verify_key_file: Path | None = Field(
        default=None,
        description=(
            "A file of public keys vigie audit verify accepts checkpoints from, one a line (# "
            "comments)."
        ),
    )
