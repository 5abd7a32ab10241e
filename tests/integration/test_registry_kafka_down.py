"""The registry's API serves while Kafka is unreachable, and it consumes once Kafka answers."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from tests.support.handlers import wait_until
from tests.support.kafka import fresh_namespace, producer, provision
from tests.support.registry_db import migrated_sqlite
from tests.support.servers import forwarding, free_port


def test_the_api_serves_without_kafka_and_consuming_starts_when_it_answers(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    namespace = fresh_namespace()
    port = free_port()  # nothing listens there until the forwarder below
    settings = RegistrySettings(
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
        topic_namespace=namespace,
        registry_group_id=f"{namespace}-registry",
        database_url=migrated_sqlite(tmp_path / "registry.db"),
    )
    provision(settings.model_copy(update={"kafka_bootstrap_servers": kafka_bootstrap}))
    report = triaged()
    with TestClient(create_app(settings)) as client:
        with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
            headers = {"Authorization": f"Bearer {create_token(session, role=Role.REGULATOR)}"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"database": True, "kafka": False}
        assert client.get("/api/v1/reports", headers=headers).status_code == 200

        sending = producer(kafka_bootstrap)
        sending.send(settings.topics.reports_triaged, report.model_dump_json().encode()).get(30)
        sending.close()
        url = f"/api/v1/reports/{report.report.report_id}"
        assert client.get(url, headers=headers).status_code == 404
        # Kafka answers on the registry's bootstrap address from now on.
        with forwarding(port, kafka_bootstrap):
            wait_until(lambda: client.get(url, headers=headers).status_code == 200, timeout_s=90)
            wait_until(lambda: client.get("/readyz").json() == {"database": True, "kafka": True})
