"""Idempotency scoped to the caller, across ingest instances, through to the registry.

Two ingest applications with separate state (two replicas, or one restarted) in front of one
triage and registry on the real broker: an Idempotency-Key is its caller's own, a retry is one
report whichever replica answers it, and every receipt's status link works.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.ingest.app import create_app as create_ingest
from services.ingest.identity import Identities
from services.ingest.reports.models import EXAMPLE_REPORT
from services.ingest.settings import IngestSettings
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from tests.support.kafka import fresh_namespace, provision, read_all
from tests.support.pipeline import running_pipeline

OTHER_BODY = {**EXAMPLE_REPORT, "narrative": "Another incident: the AI missed a 12 mm nodule."}


def test_callers_keys_are_their_own_and_every_receipt_link_works(
    kafka_bootstrap: str, database_url: str
) -> None:
    namespace = fresh_namespace()
    settings = IngestSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace)
    provision(settings)

    async def scenario() -> None:
        async with running_pipeline(
            bootstrap=kafka_bootstrap, namespace=namespace, database_url=database_url
        ) as pipe:
            with Session(pipe.engine) as session:
                alice = create_token(session, role=Role.CLINICIAN)
                bob = create_token(session, role=Role.CLINICIAN)
            registry = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=pipe.registry), base_url="http://registry"
            )

            def replica() -> FastAPI:
                # Each instance its own state: idempotency store, identity cache, producer.
                client = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=pipe.registry), base_url="http://registry"
                )
                return create_ingest(settings, identities=Identities("http://r", client=client))

            def submit() -> dict[str, Any]:
                with TestClient(replica()) as one, TestClient(replica()) as two:

                    def post(
                        on: TestClient, body: dict[str, Any], key: str, token: str | None = None
                    ) -> dict[str, Any]:
                        headers = {"Idempotency-Key": key}
                        if token is not None:
                            headers["Authorization"] = f"Bearer {token}"
                        answer = on.post("/api/v1/reports", json=body, headers=headers)
                        assert answer.status_code == 202, answer.text
                        receipt: dict[str, Any] = answer.json()
                        return receipt

                    shared = str(uuid.uuid4())
                    nonce = one.post("/api/v1/submission-nonces").json()["nonce"]
                    return {
                        # Two parties, one key, the same body, on two instances.
                        "alice": post(one, EXAMPLE_REPORT, shared, alice),
                        "bob": post(two, EXAMPLE_REPORT, shared, bob),
                        # Alice's retry answered by the other instance.
                        "alice_retry": post(two, EXAMPLE_REPORT, shared, alice),
                        # Two parties, one key, different bodies.
                        "alice_other": post(one, OTHER_BODY, "k-2", alice),
                        "bob_other": post(two, EXAMPLE_REPORT, "k-2", bob),
                        # An anonymous submission under its nonce, retried on the other one.
                        "anonymous": post(one, EXAMPLE_REPORT, nonce),
                        "anonymous_retry": post(two, EXAMPLE_REPORT, nonce),
                    }

            receipts = await asyncio.to_thread(submit)
            ids = {name: r["report_id"] for name, r in receipts.items()}
            assert ids["alice"] != ids["bob"]
            assert ids["alice_other"] != ids["bob_other"]
            assert ids["alice_retry"] == ids["alice"]
            assert ids["anonymous_retry"] == ids["anonymous"]
            distinct = set(ids.values())
            assert len(distinct) == 5
            await pipe.wait_for(lambda: pipe.count_reports() >= 5)
            await asyncio.sleep(1.0)  # a stray extra report would land by now
            assert pipe.count_reports() == 5
            # Each party reads its own report, not the other's.
            for token, mine, theirs in ((alice, "alice", "bob"), (bob, "bob", "alice")):
                auth = {"Authorization": f"Bearer {token}"}
                own = await registry.get(f"/api/v1/reports/{ids[mine]}", headers=auth)
                other = await registry.get(f"/api/v1/reports/{ids[theirs]}", headers=auth)
                assert (own.status_code, other.status_code) == (200, 404)
            # Every receipt's link works, the retries' included, and shows its own report.
            links = {r["status_url"].rsplit("/", 1)[1] for r in receipts.values()}
            assert len(links) == len(receipts)  # random: no two receipts share a link
            for receipt in receipts.values():
                token = receipt["status_url"].rsplit("/", 1)[1]
                page = await registry.get(f"/status/{token}")
                assert page.status_code == 200
                assert receipt["tracking_number"] in page.text
                # Never more than the receipt showed of the report (today: none of its text).
                assert receipt["narrative"][:40] not in page.text
                assert "40012345" not in page.text and "ps1:" not in page.text
            assert (await registry.get(f"/status/{uuid.uuid4().hex}")).status_code == 404
            await registry.aclose()

    asyncio.run(scenario())
    # Retries are not collisions: nothing was dead-lettered.
    assert read_all(kafka_bootstrap, settings.topics.reports_triaged + ".dlq") == []
