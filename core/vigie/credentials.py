"""Kafka client credentials: the properties file operators, Kafka's tools and librdkafka share.

A client of the platform's Kafka authenticates with SASL/SCRAM-SHA-512 over TLS. Its
credentials come in the file format Kafka's own command-line tools and librdkafka (kcat,
confluent-kafka) read, so one file serves every client::

    bootstrap.servers=127.0.0.1:9092
    security.protocol=SASL_SSL
    sasl.mechanism=SCRAM-SHA-512
    sasl.username=vigie-triage
    sasl.password=...
    ssl.ca.location=/path/to/ca.crt

:class:`KafkaClientConfig` reads it (or is built from settings) and gives the keyword arguments
of kafka-python and the TLS context of aiokafka. Pure standard library: the device SDK uses it
too. The password is kept out of ``repr`` so that it never reaches a log line.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECURITY_PROTOCOLS = ("SASL_SSL",)
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


class CredentialsError(ValueError):
    """A client configuration that cannot be used (missing, unreadable or insecure)."""


def read_properties(path: Path | str) -> dict[str, str]:
    """Read a Java-style ``key=value`` properties file (``#`` and ``!`` comments, no escapes)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsError(f"cannot read Kafka client properties {path}: {exc}") from exc
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def write_properties(path: Path, values: Mapping[str, str]) -> Path:
    """Write a properties file readable by its owner only (it holds a password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.touch(mode=0o600, exist_ok=True)
    tmp.chmod(0o600)
    tmp.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class KafkaClientConfig:
    """Where a Kafka client connects and how it proves who it is."""

    bootstrap_servers: tuple[str, ...]
    username: str
    password: str = field(repr=False)
    ca_file: Path
    security_protocol: str = "SASL_SSL"
    sasl_mechanism: str = "SCRAM-SHA-512"

    def __post_init__(self) -> None:
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise CredentialsError(
                f"security.protocol {self.security_protocol!r} refused: Vigie's Kafka clients "
                f"connect with {', '.join(SECURITY_PROTOCOLS)} only"
            )
        if self.sasl_mechanism not in SASL_MECHANISMS:
            raise CredentialsError(f"sasl.mechanism {self.sasl_mechanism!r} not supported")
        if not self.username or not self.password:
            raise CredentialsError("a Kafka username and password are required")
        if not self.bootstrap_servers:
            raise CredentialsError("no Kafka bootstrap server given")

    @classmethod
    def from_properties(
        cls, path: Path | str, *, bootstrap_servers: str | None = None
    ) -> KafkaClientConfig:
        """Read a client properties file; ``bootstrap_servers`` overrides the file's."""
        props = read_properties(path)
        servers = bootstrap_servers or props.get("bootstrap.servers", "")
        ca = props.get("ssl.ca.location") or props.get("ssl.truststore.location")
        if not ca:
            raise CredentialsError(f"{path}: ssl.ca.location is missing")
        try:
            return cls(
                bootstrap_servers=split_servers(servers),
                username=props.get("sasl.username", ""),
                password=props.get("sasl.password", ""),
                ca_file=Path(ca),
                security_protocol=props.get("security.protocol", "SASL_SSL"),
                sasl_mechanism=props.get("sasl.mechanism", "SCRAM-SHA-512"),
            )
        except CredentialsError as exc:
            raise CredentialsError(f"{path}: {exc}") from exc

    def ssl_context(self) -> ssl.SSLContext:
        """TLS that trusts the platform's CA only and checks the broker's host name."""
        try:
            context = ssl.create_default_context(cafile=str(self.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise CredentialsError(f"cannot load the Kafka CA {self.ca_file}: {exc}") from exc
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments of kafka-python's producer, consumer and admin client."""
        return {
            "bootstrap_servers": list(self.bootstrap_servers),
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
            "ssl_context": self.ssl_context(),
        }

    def properties(self) -> dict[str, str]:
        """The properties-file form librdkafka (kcat -F, confluent-kafka) and this module read:
        librdkafka refuses a file with any property it does not know, so nothing else."""
        return {
            "bootstrap.servers": ",".join(self.bootstrap_servers),
            "security.protocol": self.security_protocol,
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.username,
            "sasl.password": self.password,
            "ssl.ca.location": str(self.ca_file),
        }

    def java_properties(self) -> dict[str, str]:
        """The form Kafka's own Java tools read (``kafka-topics.sh --command-config FILE``)."""
        escaped = self.password.replace("\\", "\\\\").replace('"', '\\"')
        login = "org.apache.kafka.common.security.scram.ScramLoginModule"
        return {
            "bootstrap.servers": ",".join(self.bootstrap_servers),
            "security.protocol": self.security_protocol,
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.jaas.config": (
                f'{login} required username="{self.username}" password="{escaped}";'
            ),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_file),
        }


def split_servers(servers: str) -> tuple[str, ...]:
    """``host:port,host:port`` as a tuple of addresses (blank entries dropped)."""
    return tuple(s.strip() for s in servers.split(",") if s.strip())
