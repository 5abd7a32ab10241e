"""Settings shared by every service, read once from ``VIGIE_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigie.credentials import (
    CredentialsError,
    KafkaClientConfig,
    read_properties,
    split_servers,
)
from vigie.topics import (
    ALERTS,
    AUDIT_CHECKPOINTS,
    DRIFT_STATE,
    REPORTS,
    REPORTS_TRIAGED,
    SIGNALS,
    TELEMETRY,
    TRIAGE_FEEDBACK,
    TopicSpec,
)

# Only good for a laptop: a production deployment must bring its own key (refused below).
DEVELOPMENT_PSEUDONYM_KEY = "vigie-development-pseudonym-key-not-for-production"


@dataclass(frozen=True)
class Replication:
    """How many brokers keep a copy of every partition (``factor``), and how many of them must
    have a record before an ``acks=all`` write is confirmed (``min_insync``).

    ``None`` means "what the cluster's operator configured" (the brokers'
    ``default.replication.factor`` and ``min.insync.replicas``), read from the brokers: never
    "however many brokers happen to be up".
    """

    factor: int | None = None
    min_insync: int | None = None


class TopicNames:
    """Topic names resolved for one namespace (tests use a fresh namespace each)."""

    def __init__(self, namespace: str = "") -> None:
        self.namespace = namespace

    def name(self, spec: TopicSpec) -> str:
        """Full name of ``spec``'s topic in this namespace."""
        return f"{self.namespace}.{spec.name}" if self.namespace else spec.name

    @property
    def reports(self) -> str:
        return self.name(REPORTS)

    @property
    def reports_triaged(self) -> str:
        return self.name(REPORTS_TRIAGED)

    @property
    def telemetry(self) -> str:
        return self.name(TELEMETRY)

    @property
    def signals(self) -> str:
        return self.name(SIGNALS)

    @property
    def alerts(self) -> str:
        return self.name(ALERTS)

    @property
    def triage_feedback(self) -> str:
        return self.name(TRIAGE_FEEDBACK)

    @property
    def audit_checkpoints(self) -> str:
        return self.name(AUDIT_CHECKPOINTS)

    @property
    def drift_state(self) -> str:
        return self.name(DRIFT_STATE)


class CommonSettings(BaseSettings):
    """What every Vigie process needs: environment, Kafka, pseudonymisation key, logging."""

    model_config = SettingsConfigDict(env_prefix="VIGIE_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Kafka credentials: SASL/SCRAM over TLS, the only protocol the platform's brokers offer.
    # Either one client properties file (as written by `vigie kafka start` and
    # `vigie kafka credentials`), or the settings one by one; settings given one by one win.
    kafka_client_properties: Path | None = None
    kafka_security_protocol: Literal["SASL_SSL"] | None = None
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password_file: Path | None = None
    kafka_ssl_ca_file: Path | None = None
    # How long a one-off Kafka read (drift state, audit witness, training feedback) waits for
    # the brokers before failing closed.
    kafka_timeout_s: float = 10.0
    # Copies of every partition and how many must hold a write before it is confirmed: 3 and 2
    # on a three-broker cluster. Unset, the brokers' own defaults apply (`vigie kafka start`
    # writes 1/1 for one node, 3/2 for three); topic creation refuses to make fewer copies.
    kafka_replication_factor: int | None = Field(default=None, ge=1)
    kafka_min_insync_replicas: int | None = Field(default=None, ge=1)
    topic_namespace: str = ""
    pseudonym_key: SecretStr = SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> CommonSettings:
        if self.env == "production":
            key = self.pseudonym_key.get_secret_value()
            if key == DEVELOPMENT_PSEUDONYM_KEY or len(key) < 32:
                raise ValueError(
                    "VIGIE_PSEUDONYM_KEY must be set to a secret of at least 32 characters "
                    "when VIGIE_ENV=production"
                )
        factor, min_insync = self.kafka_replication_factor, self.kafka_min_insync_replicas
        if factor is not None and min_insync is not None and min_insync > factor:
            raise ValueError(
                f"VIGIE_KAFKA_MIN_INSYNC_REPLICAS ({min_insync}) exceeds "
                f"VIGIE_KAFKA_REPLICATION_FACTOR ({factor}): no write could ever be confirmed"
            )
        return self

    @property
    def replication(self) -> Replication:
        """The replication every topic of the platform must have."""
        return Replication(self.kafka_replication_factor, self.kafka_min_insync_replicas)

    @cached_property
    def kafka_client(self) -> KafkaClientConfig:
        """How this process connects to Kafka: brokers, principal, password, trusted CA.

        Raises :class:`~vigie.credentials.CredentialsError` naming what is missing: there is
        no anonymous or plaintext fallback.
        """
        props: dict[str, str] = {}
        if self.kafka_client_properties is not None:
            props = read_properties(self.kafka_client_properties)
        password = props.get("sasl.password", "")
        if self.kafka_sasl_password_file is not None:
            try:
                password = self.kafka_sasl_password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CredentialsError(
                    f"cannot read VIGIE_KAFKA_SASL_PASSWORD_FILE: {exc.strerror}"
                ) from exc
        ca = self.kafka_ssl_ca_file or props.get("ssl.ca.location") or ""
        if not ca:
            raise CredentialsError(
                "no Kafka credentials: set VIGIE_KAFKA_CLIENT_PROPERTIES (a client properties "
                "file from `vigie kafka credentials`), or VIGIE_KAFKA_SASL_USERNAME, "
                "VIGIE_KAFKA_SASL_PASSWORD_FILE and VIGIE_KAFKA_SSL_CA_FILE"
            )
        # The brokers: VIGIE_KAFKA_BOOTSTRAP_SERVERS when given, else the credential file's.
        servers = self.kafka_bootstrap_servers
        if "kafka_bootstrap_servers" not in self.model_fields_set and props.get(
            "bootstrap.servers"
        ):
            servers = props["bootstrap.servers"]
        return KafkaClientConfig(
            bootstrap_servers=split_servers(servers),
            username=self.kafka_sasl_username or props.get("sasl.username", ""),
            password=password,
            ca_file=Path(ca),
            security_protocol=self.kafka_security_protocol
            or props.get("security.protocol", "SASL_SSL"),
            sasl_mechanism=self.kafka_sasl_mechanism
            or props.get("sasl.mechanism", "SCRAM-SHA-512"),
        )

    @cached_property
    def topics(self) -> TopicNames:
        """Topic names for this deployment."""
        return TopicNames(self.topic_namespace)

    @property
    def pseudonym_key_bytes(self) -> bytes:
        """The pseudonymisation key as bytes for HMAC."""
        return self.pseudonym_key.get_secret_value().encode()
