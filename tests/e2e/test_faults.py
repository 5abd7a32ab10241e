"""The fault suite at CI size: kill -9 of every service, a PostgreSQL outage, poison records and
client retries on the real stack; nothing accepted is lost, nothing is recorded twice.

``python -m bench.faults`` runs the same scenarios with thousands of reports, and the loss of a
partition leader in a 3-node cluster (minutes on a 2-core machine, too long here); here a few
hundred reports per scenario, counted the same way, from the registry database and the topics.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bench import faults
from vigie_tools import localkafka, localpg

pytestmark = pytest.mark.slow

REPORTS = 300
RATE = 40.0
OUTAGE_S = 15.0


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[faults.Stack]:
    """The three services on the session's broker, the registry on PostgreSQL."""
    with faults.running_stack(
        localkafka.ClusterSpec(),
        database="postgresql",
        workdir=tmp_path_factory.mktemp("faults"),
        pg=localpg.PgSpec(),
    ) as running:
        yield running


def explain(stack: faults.Stack, result: dict[str, Any]) -> str:
    """The scenario's figures and the end of each service's log, for a failing assertion."""
    logs = "\n".join(f"--- {s}\n{stack.log_tail(s)}" for s in faults.SERVICES)
    return f"{json.dumps(result, sort_keys=True, ensure_ascii=False)}\n{logs}"


def check(stack: faults.Stack, result: dict[str, Any]) -> None:
    """Every accepted report recorded once, with its alert when serious; no good report
    dead-lettered."""
    why = explain(stack, result)
    assert result["accepted"] > 0, why
    assert result["lost"] == 0, why
    assert result["duplicated"] == 0, why
    assert result["accepted_not_on_topic"] == 0, why
    assert result["dead_lettered_good"] == 0, why
    assert result["alerts_missing"] == 0, why
    if result["accepted_after_fault"]:
        assert result["recovery_s"] is not None, why


@pytest.mark.parametrize(
    "scenario", ["kill-ingest", "kill-triage", "kill-registry", "postgres-outage", "http-retries"]
)
def test_a_fault_loses_and_duplicates_nothing(stack: faults.Stack, scenario: str) -> None:
    result = faults.run_scenario(
        stack, scenario, reports=REPORTS, rate=RATE, outage_s=OUTAGE_S, timeout_s=180
    )
    check(stack, result)
    if scenario == "http-retries":
        # Clients retry until ingest answers: every report sent is accepted in the end.
        assert result["accepted"] == result["sent"] == REPORTS, explain(stack, result)


def test_poison_ends_in_its_dead_letter_topic_and_the_rest_is_recorded_once(
    stack: faults.Stack,
) -> None:
    result = faults.run_scenario(stack, "poison", reports=REPORTS, rate=RATE, timeout_s=180)
    check(stack, result)
    why = explain(stack, result)
    assert result["poison_misplaced"] == {}, why
    assert result["poison_recorded"] == [], why
    assert result["poison_dead_lettered"] == result["poison_sent"], why
    # (Records that decode but fail processing, reason "processing", are in test_handlers: a
    # model that fails on one narrative, a row the database refuses.)
    assert {"not_json", "empty", "schema", "untrusted"} == {
        where.rsplit(" ", 1)[1] for where in result["poison"].values()
    }, why
    # The public API refuses what the contract refuses.
    assert result["http_poison"]["http-awareness-9999-12-31"] == 422, why
    assert result["http_poison"]["http-manufacturer-200-eszett"] == 422, why
    assert result["http_poison"]["http-nul-in-narrative"] == 422, why
