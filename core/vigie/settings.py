"""Settings shared by every service, read once from ``VIGIE_*`` environment variables."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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
    REPORT_FOLLOWUPS,
    REPORTS,
    REPORTS_TRIAGED,
    SIGNALS,
    TELEMETRY,
    TRIAGE_FEEDBACK,
    TopicSpec,
)

# Only good for a laptop: a production deployment must bring its own key (refused below, and
# whenever a listener is reachable from another machine).
DEVELOPMENT_PSEUDONYM_KEY = "vigie-development-pseudonym-key-not-for-production"


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose``, derived from the deployment's one secret (HKDF-SHA256).

    Each use of the secret gets its own key, so a key handed to one use (or leaked by it)
    reveals nothing of the others, and a value made for one use cannot pass for another's.
    """
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"vigie-hkdf-salt-v1", info=purpose.encode()
    ).derive(secret)


def is_loopback(host: str) -> bool:
    """``host`` is a loopback address (or ``localhost``): no other machine can connect to it."""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: whatever it resolves to, it is not known to be loopback
        return False


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
    def report_followups(self) -> str:
        return self.name(REPORT_FOLLOWUPS)

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

    # The process's HTTP listeners, as (host setting, port setting or None): a port setting of
    # 0 means no listener. Each service's settings name its own; the development pseudonym key
    # is refused when one of them is not on loopback.
    listeners: ClassVar[tuple[tuple[str, str | None], ...]] = ()

    env: Literal["development", "test", "production"] = Field(
        default="development",
        description=(
            "Where the process runs: development, test or production. production refuses the "
            "development pseudonym key and turns Swagger UI and ReDoc off."
        ),
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        description="Kafka brokers to connect to, host:port, comma-separated.",
    )
    kafka_client_properties: Path | None = Field(
        default=None,
        description=(
            "Kafka client properties file (as written by `vigie kafka start` and `vigie kafka "
            "credentials`): SASL/SCRAM over TLS, the only protocol the platform's brokers offer. "
            "The settings given one by one below win over it."
        ),
    )
    kafka_security_protocol: Literal["SASL_SSL"] | None = Field(
        default=None,
        description="Kafka security protocol; SASL_SSL is the only one the brokers offer.",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] | None = Field(
        default=None,
        description="SCRAM mechanism of the Kafka credentials.",
    )
    kafka_sasl_username: str | None = Field(
        default=None,
        description="Kafka principal (SCRAM user name) of this process.",
    )
    kafka_sasl_password_file: Path | None = Field(
        default=None,
        description="File holding the Kafka principal's password (never the password itself).",
    )
    kafka_ssl_ca_file: Path | None = Field(
        default=None,
        description="CA certificate (PEM) the Kafka brokers' certificates are checked against.",
    )
    kafka_timeout_s: float = Field(
        default=10.0,
        description=(
            "How long a one-off Kafka read (drift state, audit witness, training feedback) waits "
            "for the brokers before failing closed."
        ),
    )
    kafka_replication_factor: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Copies of every partition (3 on a three-broker cluster); unset, the brokers' "
            "default.replication.factor. Topic creation (vigie topics, device and subscription "
            "topics) refuses when fewer brokers are up, and refuses existing topics with fewer "
            "copies."
        ),
    )
    kafka_min_insync_replicas: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Copies that must hold a write before it is confirmed (2 on a three-broker cluster); "
            "unset, the brokers' min.insync.replicas. Existing topics with less are refused."
        ),
    )
    topic_namespace: str = Field(
        default="",
        description=(
            "Prefix of every topic name (empty: the plain names), so that several platforms, or "
            "tests, share one cluster."
        ),
    )
    pseudonym_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_PSEUDONYM_KEY),
        description=(
            "The deployment's secret (32 characters or more). Version 1 pseudonyms are HMACs "
            "under it; the keys of report ids and submission nonces (and of pseudonyms from "
            "version 2) are derived from it with HKDF-SHA256, one per use. The development "
            "default is public: refused in production, and in any environment while a listener is"
            " not on loopback."
        ),
    )
    pseudonym_key_version: int = Field(
        default=1,
        ge=1,
        le=999,
        description=(
            'Version of the pseudonym key, written in every pseudonym ("ps<version>:"). Raise it '
            "when VIGIE_PSEUDONYM_KEY changes: pseudonyms of the old key stay recognisable as "
            "such."
        ),
    )
    log_level: str = Field(
        default="INFO",
        description="Logging level (DEBUG, INFO, WARNING, ERROR).",
    )

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> CommonSettings:
        key = self.pseudonym_key.get_secret_value()
        if self.env == "production" and (key == DEVELOPMENT_PSEUDONYM_KEY or len(key) < 32):
            raise ValueError(
                "VIGIE_PSEUDONYM_KEY must be set to a secret of at least 32 characters "
                "when VIGIE_ENV=production"
            )
        if key == DEVELOPMENT_PSEUDONYM_KEY:
            # The development key is public: on a listener other machines reach, whatever
            # VIGIE_ENV says, pseudonyms and report ids made with it protect nothing.
            exposed = [
                f"VIGIE_{host_setting.upper()}={getattr(self, host_setting)}"
                for host_setting, port_setting in self.listeners
                if (port_setting is None or getattr(self, port_setting) != 0)
                and not is_loopback(getattr(self, host_setting))
            ]
            if exposed:
                raise ValueError(
                    "VIGIE_PSEUDONYM_KEY is the development key, which is public: it is refused "
                    f"when a listener is not on loopback ({', '.join(exposed)}). Set "
                    "VIGIE_PSEUDONYM_KEY to a secret of at least 32 characters, or listen on "
                    "127.0.0.1"
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

    @cached_property
    def pseudonym_key_bytes(self) -> bytes:
        """The key of pseudonyms of version ``pseudonym_key_version``, as bytes for HMAC.

        Version 1 is the secret itself, as before keys were derived: the pseudonyms already in
        the registry (patients, identifiers in narratives, reporters) keep their meaning, and
        the same patient still links to their earlier reports. From version 2 on, the key is
        derived for pseudonyms alone (HKDF), like the other keys: whoever holds it (a linking
        service, say) cannot derive report ids or form nonces from it. A rotation means a new
        secret and a new version; pseudonyms of the old version no longer link to new ones.
        """
        secret = self.pseudonym_key.get_secret_value().encode()
        if self.pseudonym_key_version == 1:
            return secret
        return derive_key(secret, f"vigie pseudonyms v{self.pseudonym_key_version}")

    @cached_property
    def report_id_key_bytes(self) -> bytes:
        """The key that derives report ids from idempotency keys (HKDF of the secret)."""
        return derive_key(self.pseudonym_key.get_secret_value().encode(), "vigie report ids")

    @cached_property
    def submission_nonce_key_bytes(self) -> bytes:
        """The key that signs the form's submission nonces (HKDF of the secret)."""
        return derive_key(self.pseudonym_key.get_secret_value().encode(), "vigie submission nonces")
