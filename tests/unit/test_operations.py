"""What on-call engineers watch: the alert rules (Prometheus and Kubernetes, one source), their
runbook sections, the Grafana dashboard against the metrics the code defines, promtool's checks
and unit tests, and the metrics the registry's periodic jobs export."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
import yaml
from aiokafka import TopicPartition
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from sqlmodel import Session, SQLModel, create_engine

from services.common import ops
from services.registry import jobs
from services.registry.cases.models import Case, CaseStatus
from services.registry.cases.workflow import count_overdue
from services.registry.outbox import OutboxRelay
from vigie import metrics
from vigie.contracts import Severity
from vigie.lag import LagWatch

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
MONITORING = DEPLOY / "kubernetes" / "monitoring"
RUNBOOK = DEPLOY / "RUNBOOK.md"
COMPOSE_SPEC = Path(__file__).resolve().parents[1] / "data" / "compose-spec" / "compose-spec.json"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "vigie.json"
# Series Prometheus makes itself for every target.
PROMETHEUS_OWN = {"up"}


def _families() -> dict[str, set[str]]:
    """Every metric family of the code's catalogue, with the sample names it exports."""
    found: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                found[family.name] = {sample.name for sample in family.samples} | {
                    family.name + suffix
                    for suffix in {
                        "counter": ("_total", "_created"),
                        "histogram": ("_bucket", "_sum", "_count", "_created"),
                        "gauge": ("",),
                    }[family.type]
                }
    return found


def _named(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (its vigie_ series and Prometheus's own)."""
    names = set(re.findall(r"\bvigie_[a-z0-9_]+\b", expr))
    return names | {n for n in PROMETHEUS_OWN if re.search(rf"\b{n}\s*[{{(]", expr)}


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


# --- alert rules ------------------------------------------------------------------------------


def test_the_kubernetes_rules_are_the_prometheus_rules() -> None:
    (rule,) = yaml.safe_load_all((MONITORING / "prometheus-rule.yaml").read_text())
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    alerts = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    assert rule["spec"]["groups"] == alerts["groups"]


def test_the_monitoring_kustomization_lists_every_manifest() -> None:
    (kustomization,) = yaml.safe_load_all((MONITORING / "kustomization.yaml").read_text())
    manifests = {p.name for p in MONITORING.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests


@pytest.mark.parametrize(
    "alert",
    [
        "VigieConsumerLagGrowing",
        "VigieMessagesDeadLettered",
        "VigieOutboxBacklog",
        "VigieCasesOverdue",
        "VigieTriageNotRunning",
        "VigieNotReady",
        "VigieAuditCheckpointStale",
    ],
)
def test_the_operations_alerts_exist(alert: str) -> None:
    assert alert in {rule["alert"] for rule in _rules()}


def test_every_alert_has_a_runbook_section_and_every_section_an_alert() -> None:
    sections = {
        _slug(line[3:]) for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")
    }
    linked = set()
    for rule in _rules():
        url = rule["annotations"]["runbook_url"]
        page, _, anchor = url.partition("#")
        assert page == "deploy/RUNBOOK.md", rule["alert"]
        assert anchor == _slug(rule["alert"]) and anchor in sections, rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        linked.add(anchor)
    assert sections == linked


def test_alerts_read_only_metrics_the_code_exports() -> None:
    exported = set().union(*_families().values()) | PROMETHEUS_OWN
    for rule in _rules():
        named = _named(rule["expr"])
        assert named, rule["alert"]
        assert named <= exported, (rule["alert"], named - exported)


# --- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_shows_every_metric_family_and_nothing_else() -> None:
    families = _families()
    assert "vigie_consumer_lag" in families
    exported = set().union(*families.values()) | PROMETHEUS_OWN
    named = [_named(expr) for expr in _dashboard_exprs()]
    for names in named:
        assert names and names <= exported, names - exported
    used = set().union(*named)
    missing = {family for family, samples in families.items() if not samples & used}
    assert not missing


def test_dashboard_panels_have_ids_titles_and_places_of_their_own() -> None:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    places = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in panels]
    assert len(places) == len(set(places))
    assert all(p["title"] for p in panels)


# --- promtool ---------------------------------------------------------------------------------


def _promtool(*args: str) -> str:
    promtool = shutil.which("promtool")
    # promtool comes from Debian's prometheus package (`make promtool`, a dependency of `make
    # test`): missing, the test fails rather than skips.
    assert promtool, "promtool not found: run `make promtool` (Debian package prometheus)"
    done = subprocess.run(
        [promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_promtool_accepts_the_configuration_and_the_rules() -> None:
    assert "SUCCESS" in _promtool("check", "config", "prometheus.yml")
    assert f"SUCCESS: {len(_rules())} rules found" in _promtool("check", "rules", "alerts.yml")


def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())
    tested = {t["alertname"] for case in tests["tests"] for t in case["alert_rule_test"]}
    assert {"VigieConsumerLagGrowing", "VigieMessagesDeadLettered", "VigieNotReady"} <= tested
    assert "SUCCESS" in _promtool("test", "rules", "alerts.test.yml")


def test_promtool_unit_tests_fail_on_a_wrong_expectation(tmp_path: Path) -> None:
    # The unit tests compare what fires, so an expectation nobody meets must fail them.
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path / "alerts.yml")
    text = (PROMETHEUS / "alerts.test.yml").read_text()
    wrong = text.replace("falls behind on vigie.reports.v1: 500 records", "…: 499 records")
    assert wrong != text
    (tmp_path / "alerts.test.yml").write_text(wrong)
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: run `make promtool` (Debian package prometheus)"
    done = subprocess.run(
        [promtool, "test", "rules", "alerts.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr


# --- Compose -----------------------------------------------------------------------------------


def _compose_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(COMPOSE_SPEC.read_text())
    # The schema names draft 07 without the trailing "#" jsonschema looks for: said explicitly.
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_the_compose_file_follows_the_compose_specification() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _compose_validator().iter_errors(compose)
    ]
    assert not errors


def test_the_compose_schema_refuses_what_compose_does_not_know() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    name = next(iter(compose["services"]))
    compose["services"][name]["restart_policy"] = "always"
    assert not _compose_validator().is_valid(compose)


# --- metrics of the registry's jobs and of consumers ------------------------------------------


def _case(status: CaseStatus, deadline: date | None) -> Case:
    return Case(
        status=status,
        severity=Severity.SERIOUS,
        deadline=deadline,
        device_name="Sepsis Watch",
        manufacturer="Acme Health",
        manufacturer_key="acme health",
        country="FR",
    )


def test_overdue_cases_are_those_past_their_deadline_with_a_running_clock(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables["case"]])
    today = date(2026, 12, 2)
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    with Session(engine) as session:
        session.add_all(
            [
                _case(CaseStatus.RECEIVED, yesterday),
                _case(CaseStatus.RECEIVED, yesterday - timedelta(days=30)),
                _case(CaseStatus.RECEIVED, today),
                _case(CaseStatus.RECEIVED, tomorrow),
                _case(CaseStatus.RECEIVED, None),
                _case(CaseStatus.REPORTED_TO_AUTHORITY, yesterday),
                _case(CaseStatus.CLOSED, yesterday),
            ]
        )
        session.commit()
        assert count_overdue(session, today=today) == 2
        assert count_overdue(session, today=tomorrow + timedelta(days=1)) == 4
    # The job counts against today's date: every case dated a month back or more is overdue.
    assert jobs.watch_deadlines_once(engine) == 0
    overdue = REGISTRY.get_sample_value("vigie_cases_overdue")
    assert overdue is not None and overdue >= 2


def test_a_periodic_job_exports_its_period_and_last_success() -> None:
    runs: list[int] = []

    def work() -> int:
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("second run fails")
        return 0

    def sample(name: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"task": "unit_test_job"})

    async def scenario() -> list[float | None]:
        seen: list[float | None] = []
        task = asyncio.create_task(
            jobs.every(0.01, work, "unit test job", cast(OutboxRelay, object()))
        )
        await asyncio.sleep(0)
        seen.append(sample("vigie_job_last_success_timestamp_seconds"))
        while len(runs) < 4:
            await asyncio.sleep(0.01)
        task.cancel()
        seen.append(sample("vigie_job_last_success_timestamp_seconds"))
        return seen

    at_start, later = asyncio.run(scenario())
    assert sample("vigie_job_period_seconds") == 0.01
    assert at_start is not None and later is not None
    # A failed run does not stop the job, and a success moves the timestamp on.
    assert later >= at_start


def test_the_lag_gauge_keeps_only_the_partitions_a_consumer_holds() -> None:
    watch = LagWatch(service="unit", group="unit-lag")

    def lag(topic: str, partition: int) -> float | None:
        labels = {
            "service": "unit",
            "group": "unit-lag",
            "topic": topic,
            "partition": str(partition),
        }
        return REGISTRY.get_sample_value("vigie_consumer_lag", labels)

    watch.export({TopicPartition("a", 0): 5, TopicPartition("a", 1): 0, TopicPartition("b", 0): 7})
    assert (lag("a", 0), lag("a", 1), lag("b", 0)) == (5, 0, 7)
    # After a rebalance this consumer holds a/1 only: the others are reported elsewhere.
    watch.export({TopicPartition("a", 1): 3})
    assert (lag("a", 0), lag("a", 1), lag("b", 0)) == (None, 3, None)
    watch.export({})
    assert lag("a", 1) is None


def test_only_real_consumers_are_watched() -> None:
    watch = LagWatch(service="unit", group="unit-fake")

    async def scenario() -> None:
        watch.watch(object())

    asyncio.run(scenario())
    assert not watch._tasks


def test_each_readiness_answer_is_exported() -> None:
    answers = iter([(False, {"kafka": False}), (True, {"kafka": True})])

    async def ready() -> tuple[bool, dict[str, Any]]:
        return next(answers)

    app = FastAPI()
    app.include_router(ops.router(ready, ready_doc="", not_ready_doc="", service="unit-ready"))
    client = TestClient(app)

    def exported() -> float | None:
        return REGISTRY.get_sample_value("vigie_ready", {"service": "unit-ready"})

    assert client.get("/readyz").status_code == 503
    assert exported() == 0
    assert client.get("/readyz").status_code == 200
    assert exported() == 1
