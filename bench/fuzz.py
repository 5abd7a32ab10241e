"""Schema-driven fuzzing of both HTTP APIs: no request, valid or not, may get a server error.

Every operation of the ingest and registry OpenAPI documents gets ``--examples`` cases
generated from its schema that fit it and as many that break it (schemathesis on Hypothesis),
each sent with a valid token of a role drawn from all of them, no token, or a malformed
``Authorization`` header. Both applications run in this process: the registry on a fresh SQLite
database seeded with reports, cases and a drift signal; ingest with an in-memory Kafka broker
(FastStream's test broker) and asking that registry who a token is. A 5xx answer is a failure;
everything else (2xx, 401, 403, 404, 409, 413, 422, ...) is the API doing its job.

    python -m bench.fuzz                 # 60 + 60 cases per registry operation, 300 + 300 per
                                         # ingest operation (several thousand)
    python -m bench.fuzz --examples 200  # more

The last line is JSON: cases run per service and every server error (method, path, status).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import hypothesis.strategies as st
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from faststream.kafka import KafkaBroker, TestKafkaBroker
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.reporting import with_reporter
from sqlmodel import Session

from bench.common import finish, machine, say
from services.common.deid import load_scrubber
from services.ingest.app import create_app as create_ingest
from services.ingest.deps import Submitter
from services.ingest.followups.service import FollowUps, StatusLinks
from services.ingest.identity import Identities
from services.ingest.settings import IngestSettings
from services.ingest.telemetry.service import TelemetryForwarder
from services.registry.app import create_app as create_registry
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.db import upgrade_url
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from services.registry.signals.drift import record_drift
from tests.support.factories import drift_signal, triaged
from vigie.contracts import DeviceRef, ReportedOutcome

# Authorization headers that are no bearer token: each must be 401, never anonymous or a 500.
MALFORMED: tuple[str | bytes, ...] = (
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "Bearer two words",
    "vg_no_scheme",
    "Bearer \u00e9t\u00e9".encode("latin-1"),
)


@dataclass
class Outcome:
    """What one service answered."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[dict[str, Any]] = field(default_factory=list)


def seed(app: FastAPI) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Tokens of every role, and ids of recorded reports and cases to aim path parameters at."""
    lung = DeviceRef(name="Veye Lung Nodules", manufacturer="Aidence", model_version="3")
    sepsis = DeviceRef(name="Sepsis Watch", manufacturer="Acme", model_version="2")
    reports = [
        triaged(outcome=outcome, device=device)
        for device in (lung, sepsis)
        for outcome in (ReportedOutcome.DEATH, ReportedOutcome.INJURY, ReportedOutcome.NO_HARM)
    ]
    signal = drift_signal(sepsis)
    with Session(app.state.engine) as session:
        record_triaged(session, reports, alerts_topic="alerts")
        record_drift(session, [signal], alerts_topic="alerts", country="FR")
        tokens = {
            "admin": create_token(session, role=Role.ADMIN),
            "regulator": create_token(session, role=Role.REGULATOR),
            "manufacturer": create_token(session, role=Role.MANUFACTURER, manufacturer="Aidence"),
            "clinician": create_token(session, role=Role.CLINICIAN),
            "device": create_token(session, role=Role.DEVICE),
            "device-acme": create_token(session, role=Role.MANUFACTURER, manufacturer="Acme"),
        }
    with TestClient(app) as client:
        cases = client.get(
            "/api/v1/cases", headers={"Authorization": f"Bearer {tokens['regulator']}"}
        ).json()["items"]
    ids = {
        "report_id": [str(r.report.report_id) for r in reports],
        "case_id": [c["case_id"] for c in cases],
        "signal_id": [str(signal.signal_id)],
    }
    return tokens, ids


def fuzz(
    app: FastAPI,
    client: TestClient,
    *,
    name: str,
    examples: int,
    tokens: dict[str, str],
    ids: dict[str, list[str]],
) -> Outcome:
    """Run ``examples`` positive and negative cases per operation of ``app`` through ``client``."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    outcome = Outcome()
    headers = st.sampled_from(
        [{"Authorization": f"Bearer {t}"} for t in tokens.values()]
        + [{}]
        + [{"Authorization": m} for m in MALFORMED]
    )
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # FastAPI's schema is valid
        strategies = [
            operation.as_strategy(generation_mode=mode)
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
        ]
        known = {
            p: st.sampled_from(values)
            for p, values in ids.items()
            if f"{{{p}}}" in operation.path and values
        }
        if known:

            def aimed(chosen: dict[str, str], op: Any = operation) -> st.SearchStrategy[Any]:
                return op.as_strategy(path_parameters=chosen)  # type: ignore[no-any-return]

            strategies.append(st.fixed_dictionaries(known).flatmap(aimed))

        for strategy in strategies:

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=False,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            )
            @given(case=strategy, auth=headers)
            def run(case: schemathesis.Case[Any], auth: dict[str, str | bytes]) -> None:
                kwargs = case.as_transport_kwargs(base_url="http://testserver")
                sent = {**kwargs.pop("headers", {}), **auth}
                sent.pop("X-Schemathesis-TestCaseId", None)
                data = kwargs.pop("data", None)
                if isinstance(data, (bytes, str)):
                    kwargs["content"] = data
                elif data is not None:
                    kwargs["data"] = data
                kwargs.pop("cookies", None)
                try:
                    response = client.request(headers=sent, follow_redirects=False, **kwargs)
                    code = response.status_code
                    text = response.text[:300]
                except Exception as exc:  # noqa: BLE001 - an exception out of the app is a 500
                    code, text = 500, repr(exc)[:300]
                outcome.cases += 1
                outcome.statuses[code] += 1
                if code >= 500:
                    outcome.server_errors.append(
                        {
                            "service": name,
                            "method": case.method,
                            "path": case.operation.path,
                            "status": code,
                            "body": text,
                            "curl": case.as_curl_command()[:600],
                        }
                    )

            # Unsatisfiable: nothing in the operation's schema can be broken (no parameter);
            # Hypothesis's own report of it is noise here.
            with contextlib.suppress(Unsatisfiable), with_reporter(lambda _text: None):
                run()
    return outcome


@contextmanager
def applications(workdir: Path) -> Iterator[tuple[FastAPI, TestClient, FastAPI, TestClient]]:
    """The registry and ingest applications, served in process, ingest on an in-memory broker."""
    url = f"sqlite:///{workdir / 'registry.db'}"
    upgrade_url(url)
    registry = create_registry(RegistrySettings(database_url=url), consume=False)
    settings = IngestSettings(ingest_rate_limit="")
    identities = Identities(
        "http://registry",
        client=httpx.AsyncClient(
            transport=httpx.ASGITransport(app=registry), base_url="http://registry"
        ),
    )
    ingest = create_ingest(settings, identities=identities)
    links = StatusLinks(
        "http://registry",
        client=httpx.AsyncClient(
            transport=httpx.ASGITransport(app=registry), base_url="http://registry"
        ),
    )

    @asynccontextmanager
    async def in_memory_kafka(app: FastAPI) -> AsyncIterator[None]:
        async with TestKafkaBroker(KafkaBroker()) as broker:
            scrubber = load_scrubber()
            app.state.submitter = Submitter(settings, broker, identities, scrubber)
            app.state.telemetry_forwarder = TelemetryForwarder(settings, broker, identities)
            app.state.followups = FollowUps(settings, broker, links, scrubber)
            yield

    ingest.router.lifespan_context = in_memory_kafka
    with TestClient(registry) as registry_client, TestClient(ingest) as ingest_client:
        yield registry, registry_client, ingest, ingest_client


# Ingest has a handful of operations, the registry a few dozen: ingest's get more cases each.
INGEST_FACTOR = 5


def run_all(examples: int) -> dict[str, Any]:
    """Fuzz both services (``examples`` per operation and mode for the registry, five times as
    many for ingest); a summary with every server error."""
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as tmp,
        applications(Path(tmp)) as (registry, registry_client, ingest, ingest_client),
    ):
        tokens, ids = seed(registry)
        results = {
            name: fuzz(
                app,
                client,
                name=name,
                examples=n,
                tokens=tokens,
                ids=ids,
            )
            for name, app, client, n in (
                ("registry", registry, registry_client, examples),
                ("ingest", ingest, ingest_client, examples * INGEST_FACTOR),
            )
        }
    return {
        "examples_per_operation_and_mode": examples,
        "cases": {name: r.cases for name, r in results.items()},
        "total_cases": sum(r.cases for r in results.values()),
        "statuses": {name: dict(sorted(r.statuses.items())) for name, r in results.items()},
        "server_errors": [e for r in results.values() for e in r.server_errors],
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=60, help="cases per operation and mode")
    args = parser.parse_args()
    summary = run_all(args.examples)
    for error in summary["server_errors"]:
        say(f"{error['status']} {error['service']} {error['method']} {error['path']}")
        say(f"  {error['body']}")
        say(f"  {error['curl']}")
    say(
        f"{summary['total_cases']} cases ({summary['cases']}), "
        f"{len(summary['server_errors'])} server errors, {summary['seconds']} s"
    )
    finish(summary)
    raise SystemExit(1 if summary["server_errors"] else 0)


if __name__ == "__main__":
    main()
