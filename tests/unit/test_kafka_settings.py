"""Kafka credentials come from settings only, with no anonymous or plaintext fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.credentials import CredentialsError, KafkaClientConfig, write_properties
from vigie.settings import CommonSettings

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


def test_the_file_serves_kafka_tools_and_librdkafka(tmp_path: Path) -> None:
    client = KafkaClientConfig.from_properties(_file(tmp_path))
    props = client.properties()
    # librdkafka (kcat) names and Kafka's Java tools' names, for the same credential.
    assert props["sasl.username"] == "vigie-triage" and props["ssl.ca.location"]
    assert "ScramLoginModule required" in props["sasl.jaas.config"]
    assert props["ssl.truststore.type"] == "PEM"
    assert KafkaClientConfig.from_properties(write_properties(tmp_path / "again", props)) == client
