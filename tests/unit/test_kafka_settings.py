"""Kafka credentials come from settings only, with no anonymous or plaintext fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vigie.credentials import CredentialsError, KafkaClientConfig, write_properties
from vigie.settings import CommonSettings, Replication

SECRET = "s3cret-never-logged"


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS",
        "VIGIE_KAFKA_CLIENT_PROPERTIES",
        "VIGIE_KAFKA_SASL_USERNAME",
        "VIGIE_KAFKA_SASL_PASSWORD_FILE",
        "VIGIE_KAFKA_SSL_CA_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def _file(tmp_path: Path) -> Path:
    return write_properties(
        tmp_path / "triage.properties",
        {
            "bootstrap.servers": "kafka-1:9092,kafka-2:9092",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "vigie-triage",
            "sasl.password": SECRET,
            "ssl.ca.location": "/etc/vigie/ca.crt",
        },
    )


@pytest.mark.usefixtures("clean_env")
def test_a_credential_file_is_enough(tmp_path: Path) -> None:
    client = CommonSettings(kafka_client_properties=_file(tmp_path)).kafka_client
    assert client.bootstrap_servers == ("kafka-1:9092", "kafka-2:9092")
    assert (client.username, client.password) == ("vigie-triage", SECRET)
    assert SECRET not in repr(client)
    assert (tmp_path / "triage.properties").stat().st_mode & 0o777 == 0o600


@pytest.mark.usefixtures("clean_env")
def test_settings_one_by_one_win_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "password").write_text("other-secret\n")
    settings = CommonSettings(
        kafka_client_properties=_file(tmp_path),
        kafka_bootstrap_servers="10.0.0.1:9093",
        kafka_sasl_username="vigie-registry",
        kafka_sasl_password_file=tmp_path / "password",
    )
    client = settings.kafka_client
    assert client.bootstrap_servers == ("10.0.0.1:9093",)
    assert (client.username, client.password) == ("vigie-registry", "other-secret")


@pytest.mark.usefixtures("clean_env")
def test_no_credentials_no_connection() -> None:
    with pytest.raises(CredentialsError, match="VIGIE_KAFKA_CLIENT_PROPERTIES"):
        _ = CommonSettings().kafka_client


def test_plaintext_is_refused(tmp_path: Path) -> None:
    path = write_properties(
        tmp_path / "plain.properties",
        {
            "bootstrap.servers": "127.0.0.1:9092",
            "security.protocol": "PLAINTEXT",
            "sasl.username": "x",
            "sasl.password": "y",
            "ssl.ca.location": "/ca.crt",
        },
    )
    with pytest.raises(CredentialsError, match="PLAINTEXT"):
        KafkaClientConfig.from_properties(path)


def test_the_files_serve_librdkafka_and_kafka_tools(tmp_path: Path) -> None:
    client = KafkaClientConfig.from_properties(_file(tmp_path))
    # librdkafka (kcat -F) refuses unknown properties: its file holds its own names only.
    props = client.properties()
    assert set(props) == {
        "bootstrap.servers",
        "security.protocol",
        "sasl.mechanism",
        "sasl.username",
        "sasl.password",
        "ssl.ca.location",
    }
    assert KafkaClientConfig.from_properties(write_properties(tmp_path / "again", props)) == client
    # Kafka's Java tools (--command-config) read JAAS and a PEM truststore instead.
    java = client.java_properties()
    assert "ScramLoginModule required" in java["sasl.jaas.config"]
    assert java["ssl.truststore.type"] == "PEM" and java["ssl.truststore.location"]
    assert "sasl.password" not in java


def test_replication_is_explicit_or_the_clusters_own() -> None:
    assert CommonSettings().replication == Replication(None, None)
    settings = CommonSettings(kafka_replication_factor=3, kafka_min_insync_replicas=2)
    assert settings.replication == Replication(3, 2)
    with pytest.raises(ValidationError, match="no write could ever be confirmed"):
        CommonSettings(kafka_replication_factor=2, kafka_min_insync_replicas=3)
    with pytest.raises(ValidationError):
        CommonSettings(kafka_replication_factor=0)
