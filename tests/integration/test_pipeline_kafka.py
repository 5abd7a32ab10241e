"""The Kafka path on the real broker: triage and registry, dead letters, exactly-once counts."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient
from sqlmodel import Session, select

from services.registry.reports.models import Report
from tests.support.factories import report
from tests.support.kafka import (
    client_kwargs,
    drain,
    fresh_namespace,
    producer,
    provision,
    read_all,
)
from tests.support.pipeline import running_pipeline
from tests.support.registry_db import migrated_sqlite
from vigie.contracts import Alert, ReportedOutcome
from vigie.settings import CommonSettings


def _malformed(i: int) -> bytes:
    """Kinds of bad input seen in practice: not JSON, wrong shape, wrong values, truncated."""
    good = report().model_dump_json()
    kinds = [
        b"\xff\xfe not even utf-8",
        b"<report>xml is not accepted</report>",
        json.dumps({"hello": "world"}).encode(),
        good.replace('"adverse_event"', '"gossip"').encode(),
        good[: len(good) // 2].encode(),
        json.dumps([1, 2, 3]).encode(),
    ]
    return kinds[i % len(kinds)]


def test_good_reports_recorded_once_bad_ones_dead_lettered(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """10,000 good reports (10% redelivered) mixed with 1,000 malformed messages."""
    namespace = fresh_namespace()
    settings = CommonSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace)
    provision(settings)
    rng = random.Random(7)
    good = [
        report(
            outcome=ReportedOutcome.DEATH if i % 50 == 0 else ReportedOutcome.NO_HARM,
            awareness_date=date(2026, 1, 1 + i % 28),
        )
        for i in range(10_000)
    ]
    messages: list[tuple[bytes, bytes]] = [
        (r.report_id.bytes, r.model_dump_json().encode()) for r in good
    ]
    # Redeliveries: the same events published again must not be counted twice.
    messages += [messages[i] for i in rng.sample(range(10_000), 1_000)]
    messages += [(b"bad-%d" % i, _malformed(i)) for i in range(1_000)]
    rng.shuffle(messages)
    out = producer(kafka_bootstrap)
    for key, value in messages:
        out.send(settings.topics.reports, key=key, value=value)
    out.flush()
    out.close()

    async def scenario() -> tuple[int, set[str]]:
        async with running_pipeline(
            bootstrap=kafka_bootstrap,
            namespace=namespace,
            database_url=migrated_sqlite(tmp_path / "r.db"),
        ) as pipe:
            await pipe.wait_for(lambda: pipe.count_reports() >= 10_000, timeout_s=240)
            await asyncio.sleep(1.0)  # let any stray duplicate land before counting
            with Session(pipe.engine) as session:
                ids = {str(r) for r in session.exec(select(Report.report_id))}
            return pipe.count_reports(), ids

    count, ids = asyncio.run(scenario())
    assert count == 10_000
    assert ids == {str(r.report_id) for r in good}
    dlq = drain(
        kafka_bootstrap,
        settings.topics.reports + ".dlq",
        until=lambda records: len(records) >= 1_000,
        timeout_s=60,
    )
    assert len(dlq) == 1_000
    assert {r.key for r in dlq} == {b"bad-%d" % i for i in range(1_000)}
    headers = dict(dlq[0].headers)
    assert headers["vigie-dlq-source-topic"].decode() == settings.topics.reports
    assert headers["vigie-dlq-reason"].decode() in {"not_json", "schema"}
    assert headers["vigie-dlq-error"]
    alerts = drain(
        kafka_bootstrap,
        settings.topics.alerts,
        until=lambda records: len(records) >= 200,
        timeout_s=60,
    )
    alert_reports = {str(Alert.model_validate_json(r.value).report_id) for r in alerts}
    assert alert_reports == {str(r.report_id) for r in good if r.outcome is ReportedOutcome.DEATH}


def test_registry_dead_letters_bad_triaged_events(kafka_bootstrap: str, tmp_path: Path) -> None:
    namespace = fresh_namespace()
    settings = CommonSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace)
    provision(settings)
    out = producer(kafka_bootstrap)
    out.send(settings.topics.reports_triaged, key=b"x", value=b'{"report": 42}')
    out.send(settings.topics.reports, key=b"y", value=report().model_dump_json().encode())
    out.flush()
    out.close()

    async def scenario() -> int:
        async with running_pipeline(
            bootstrap=kafka_bootstrap,
            namespace=namespace,
            database_url=migrated_sqlite(tmp_path / "r.db"),
        ) as pipe:
            await pipe.wait_for(lambda: pipe.count_reports() >= 1)
            return pipe.count_reports()

    assert asyncio.run(scenario()) == 1
    dlq = drain(
        kafka_bootstrap,
        settings.topics.reports_triaged + ".dlq",
        until=lambda records: len(records) >= 1,
    )
    assert [r.value for r in dlq] == [b'{"report": 42}']
    assert dict(dlq[0].headers)["vigie-dlq-consumer-group"].decode() == f"{namespace}-registry"


def test_subscriptions_receive_only_matching_alerts(kafka_bootstrap: str, tmp_path: Path) -> None:
    from services.registry.auth.models import Role
    from services.registry.auth.service import Principal
    from services.registry.subscriptions import service as subscriptions
    from services.registry.subscriptions.models import SubscriptionCreate
    from vigie.contracts import DeviceRef, Severity

    namespace = fresh_namespace()
    settings = CommonSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace)
    provision(settings)
    regulator = Principal(token_id="reg-1", role=Role.REGULATOR, manufacturer=None)
    acme = DeviceRef(name="Lung", manufacturer="Acme", model_version="1")
    wanted = report(outcome=ReportedOutcome.DEATH, device=acme, country="FR")
    elsewhere = report(outcome=ReportedOutcome.DEATH, device=acme, country="DE")
    not_serious = report(outcome=ReportedOutcome.NO_HARM, device=acme, country="FR")

    async def scenario() -> tuple[str, list[Any]]:
        async with running_pipeline(
            bootstrap=kafka_bootstrap,
            namespace=namespace,
            database_url=migrated_sqlite(tmp_path / "r.db"),
        ) as pipe:
            with Session(pipe.engine) as session:
                sub = subscriptions.create(
                    session,
                    SubscriptionCreate(
                        name="ansm-deaths",
                        severities=[Severity.DEATH],
                        country="FR",
                        manufacturer="ACME",
                    ),
                    principal=regulator,
                    alerts_topic=settings.topics.alerts,
                )
            out = producer(kafka_bootstrap)
            for r in (wanted, elsewhere, not_serious):
                out.send(
                    settings.topics.reports,
                    key=r.report_id.bytes,
                    value=r.model_dump_json().encode(),
                )
            out.flush()
            out.close()

            def delivered() -> bool:
                with Session(pipe.engine) as session:
                    rows = subscriptions.deliveries(session, sub.sub_id, principal=regulator)
                return len(rows) == 1 and rows[0].published_at is not None

            await pipe.wait_for(delivered)
            with Session(pipe.engine) as session:
                return sub.topic, subscriptions.deliveries(session, sub.sub_id, principal=regulator)

    topic, rows = asyncio.run(scenario())
    assert topic == f"{settings.topics.alerts}.sub.ansm-deaths"
    records = drain(kafka_bootstrap, topic, until=lambda r: len(r) >= 1)
    assert [str(Alert.model_validate_json(r.value).report_id) for r in records] == [
        str(wanted.report_id)
    ]
    assert str(rows[0].alert_id) == str(Alert.model_validate_json(records[0].value).event_id)
    everything = drain(kafka_bootstrap, settings.topics.alerts, until=lambda r: len(r) >= 2)
    assert len(everything) == 2  # the main topic has both serious cases


def test_clinicians_read_only_their_own_reports(kafka_bootstrap: str, tmp_path: Path) -> None:
    """A report sent with a clinician's token is readable by that clinician and nobody else."""
    import httpx
    from fastapi.testclient import TestClient

    from services.ingest.app import create_app as create_ingest
    from services.ingest.identity import Identities
    from services.ingest.reports.models import EXAMPLE_REPORT
    from services.ingest.settings import IngestSettings
    from services.registry.auth.models import Role
    from services.registry.auth.service import create_token

    namespace = fresh_namespace()
    settings = IngestSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace)
    provision(settings)

    async def scenario() -> None:
        async with running_pipeline(
            bootstrap=kafka_bootstrap,
            namespace=namespace,
            database_url=migrated_sqlite(tmp_path / "r.db"),
        ) as pipe:
            with Session(pipe.engine) as session:
                alice = create_token(session, role=Role.CLINICIAN)
                bob = create_token(session, role=Role.CLINICIAN)
            registry = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=pipe.registry), base_url="http://registry"
            )
            ingest = create_ingest(
                settings, identities=Identities("http://registry", client=registry)
            )

            def submit() -> tuple[int, str, int]:
                with TestClient(ingest) as client:
                    mine = client.post(
                        "/api/v1/reports",
                        json=EXAMPLE_REPORT,
                        headers={"Authorization": f"Bearer {alice}"},
                    )
                    forged = client.post(
                        "/api/v1/reports",
                        json=EXAMPLE_REPORT,
                        headers={"Authorization": "Bearer vg_forged"},
                    )
                    return mine.status_code, mine.json()["report_id"], forged.status_code

            status, report_id, forged = await asyncio.to_thread(submit)
            assert (status, forged) == (202, 401)
            await pipe.wait_for(lambda: pipe.count_reports() >= 1)
            for token, expected in ((alice, 200), (bob, 404)):
                r = await registry.get(
                    f"/api/v1/reports/{report_id}", headers={"Authorization": f"Bearer {token}"}
                )
                assert r.status_code == expected
                listed = await registry.get(
                    "/api/v1/reports", headers={"Authorization": f"Bearer {token}"}
                )
                assert len(listed.json()["items"]) == (1 if expected == 200 else 0)
                cases = await registry.get(
                    "/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
                )
                assert len(cases.json()["items"]) == (1 if expected == 200 else 0)
            await registry.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_instances_of_each_service_share_the_work_and_record_once(
    kafka_bootstrap: str, database_url: str
) -> None:
    """Two triage and two registry instances in one consumer group each, the second pair joining
    mid-stream (a rebalance while batches are in flight), on one PostgreSQL database."""
    namespace = fresh_namespace()
    settings = CommonSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace)
    provision(settings)
    good = [
        report(outcome=ReportedOutcome.DEATH if i % 40 == 0 else ReportedOutcome.NO_HARM)
        for i in range(3_000)
    ]
    out = producer(kafka_bootstrap)
    for r in good:
        out.send(settings.topics.reports, key=r.report_id.bytes, value=r.model_dump_json().encode())
    out.flush()
    out.close()
    groups = [f"{namespace}-triage", f"{namespace}-registry"]

    def members() -> dict[str, int]:
        admin = KafkaAdminClient(**client_kwargs(kafka_bootstrap))
        try:
            found = admin.describe_groups(groups)
        finally:
            admin.close()
        return {group: len(found[group]["members"]) for group in groups}

    async def scenario() -> set[str]:
        kwargs: dict[str, Any] = {
            "bootstrap": kafka_bootstrap,
            "namespace": namespace,
            "database_url": database_url,
        }
        async with running_pipeline(**kwargs) as first:
            await first.wait_for(lambda: first.count_reports() >= 300, timeout_s=120)
            async with running_pipeline(**kwargs):
                await first.wait_for(lambda: members() == {g: 2 for g in groups}, timeout_s=120)
                await first.wait_for(lambda: first.count_reports() >= 3_000, timeout_s=240)
            with Session(first.engine) as session:
                return {str(r) for r in session.exec(select(Report.report_id))}

    ids = asyncio.run(scenario())
    assert ids == {str(r.report_id) for r in good}
    deaths = {str(r.report_id) for r in good if r.outcome is ReportedOutcome.DEATH}
    drain(kafka_bootstrap, settings.topics.alerts, until=lambda rs: len(rs) >= len(deaths))
    alerts = read_all(kafka_bootstrap, settings.topics.alerts)
    # One alert per serious case: redelivery across the rebalance re-sends none.
    alert_ids = sorted(str(Alert.model_validate_json(r.value).report_id) for r in alerts)
    assert alert_ids == sorted(deaths)
