"""Settings of the registry service."""

from __future__ import annotations

from pathlib import Path

from vigie.settings import CommonSettings


class RegistrySettings(CommonSettings):
    """Registry: database, HTTP address, consumer group, outbox relay."""

    listeners = (("registry_host", None), ("registry_metrics_host", "registry_metrics_port"))

    database_url: str = "sqlite:///.vigie/registry.db"
    registry_host: str = "127.0.0.1"
    registry_port: int = 8001
    # Prometheus metrics are served on their own listener, not on the public port (0: none).
    registry_metrics_host: str = "127.0.0.1"
    registry_metrics_port: int = 8004
    # Request bodies (case updates, subscriptions, the dashboard's forms) are small.
    registry_max_body_bytes: int = 64 * 1024
    # How long a dashboard sign-in lasts (the server-side session behind its cookie).
    dashboard_session_hours: float = 8.0
    registry_group_id: str = "vigie-registry"
    registry_max_records: int = 500
    # The relay also wakes on every commit; the poll only bounds the delay after a restart.
    outbox_poll_s: float = 1.0
    outbox_batch: int = 500
    # Published events keep their row (what was published, when) but lose their payload after
    # this many days: it is on Kafka and in the registry's tables.
    outbox_retention_days: float = 7.0
    # Country of the authority running this registry (alerts not tied to a report carry it).
    registry_country: str = "FR"
    # Statistical signals (trends, disproportionality) are recomputed this often.
    signals_scan_s: float = 300.0
    # The audit chain's head is published on Kafka this often when it moved (a witness that
    # `vigie audit verify` checks against: records newer than the last one can still vanish).
    audit_checkpoint_s: float = 10.0
    # Ed25519 private key (PEM, PKCS#8) that signs the checkpoints. Required in production; in
    # development and tests one is made under .vigie/audit/ (mode 0600) when none is given.
    audit_signing_key_file: Path | None = None
    # The public keys `vigie audit verify` accepts checkpoints from: base64 of raw Ed25519
    # keys, comma-separated (several during a rotation), and/or a file of them, one a line.
    audit_verify_key: str = ""
    audit_verify_key_file: Path | None = None
