"""Generates ``schemas/``: JSON Schema and examples per topic, AsyncAPI and OpenAPI documents."""

from __future__ import annotations

import json
import tempfile
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from vigie import topics
from vigie.contracts import (
    AgeBand,
    AiInvolvement,
    AiTask,
    Alert,
    AlertType,
    AuditCheckpoint,
    ClinicianAction,
    DeviceRef,
    DriftDetected,
    DriftMonitorState,
    DriftReference,
    DriftStreamState,
    FeatureSummary,
    Histogram,
    Language,
    PatientSex,
    ReportedOutcome,
    ReporterRole,
    ReportFollowedUp,
    ReportKind,
    ReportSubmitted,
    Severity,
    SignalSeverity,
    TelemetryWindow,
    TriageFeedback,
)

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
_AT = datetime(2026, 11, 19, 9, 30, tzinfo=UTC)
_DEVICE = DeviceRef(
    name="Veye Lung Nodules",
    manufacturer="Aidence B.V.",
    udi_di="08720299160012",
    model_version="3.2.1",
)


def example_events() -> dict[str, list[BaseModel]]:
    """Fixed, valid example events per topic (deterministic so that the files are stable)."""
    from services.triage.reports.service import TriagePolicy, triage_batch

    report = ReportSubmitted(
        event_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
        occurred_at=_AT,
        report_id=uuid.UUID("00000000-0000-4000-8000-0000000000a1"),
        tracking_number="VG-0000-00A1",
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        reporter_role=ReporterRole.PHYSICIAN,
        establishment="CHU de Bordeaux",
        country="FR",
        device=_DEVICE,
        event_date=date(2026, 11, 18),
        awareness_date=date(2026, 11, 19),
        outcome=ReportedOutcome.SERIOUS_DETERIORATION,
        language=Language.FR,
        narrative="Le logiciel n'a pas signalé un nodule de 9 mm visible sur le scanner ; "
        "diagnostic retardé de quatre mois. IPP [ps1:5d41402abc4b2a76b9719d911017c592].",
        patient_pseudonym="ps1:5d41402abc4b2a76b9719d911017c592",
        status_token_hash="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ai=AiInvolvement(
            task=AiTask.DETECTION,
            output="Aucun nodule détecté.",
            output_confidence=0.93,
            clinician_action=ClinicianAction.FOLLOWED,
            patient_exposed=True,
            patient_age_band=AgeBand.FROM_65_TO_79,
            patient_sex=PatientSex.FEMALE,
        ),
    )
    triaged = triage_batch([report], classifier=None, key=b"example", policy=TriagePolicy())[0]
    triaged = triaged.model_copy(
        update={"event_id": uuid.UUID("00000000-0000-4000-8000-000000000002"), "occurred_at": _AT}
    )
    telemetry = TelemetryWindow(
        event_id=uuid.UUID("00000000-0000-4000-8000-000000000003"),
        occurred_at=_AT,
        device=_DEVICE,
        window_start=datetime(2026, 11, 19, 9, 0, tzinfo=UTC),
        window_end=_AT,
        n_predictions=412,
        score_histogram=Histogram(edges=[0.0, 0.25, 0.5, 0.75, 1.0], counts=[250, 80, 50, 32]),
        features=[
            FeatureSummary(
                name="patient_age", count=412, mean=63.2, std=12.1, minimum=19, maximum=94
            )
        ],
    )
    alert = Alert(
        event_id=uuid.UUID("00000000-0000-4000-8000-000000000004"),
        occurred_at=_AT,
        alert_type=AlertType.SERIOUS_INCIDENT,
        case_id=uuid.UUID("00000000-0000-4000-8000-0000000000c1"),
        report_id=report.report_id,
        tracking_number=report.tracking_number,
        severity=Severity.SERIOUS,
        device=_DEVICE,
        country="FR",
        summary="serious — inappropriate ai suggestion — Veye Lung Nodules 3.2.1 — "
        "EU MDR 2017/745 Art. 87(5)",
        deadline=triaged.regulatory.deadline,
        obligations=triaged.regulatory.obligations,
        registry_path=f"/api/v1/reports/{report.report_id}",
    )
    return {
        topics.REPORTS.name: [report],
        topics.REPORTS_TRIAGED.name: [triaged],
        topics.REPORT_FOLLOWUPS.name: [
            ReportFollowedUp(
                event_id=uuid.UUID("00000000-0000-4000-8000-000000000009"),
                occurred_at=_AT,
                followup_id=uuid.UUID("00000000-0000-8000-8000-0000000000f1"),
                report_id=report.report_id,
                tracking_number=report.tracking_number,
                status_token_hash=report.status_token_hash or "",
                language=Language.FR,
                text="La patiente est décédée le 24 novembre ; IPP "
                "[ps1:5d41402abc4b2a76b9719d911017c592].",
                outcome=ReportedOutcome.DEATH,
                awareness_date=date(2026, 11, 25),
            )
        ],
        topics.TELEMETRY.name: [telemetry],
        topics.SIGNALS.name: [
            DriftDetected(
                event_id=uuid.UUID("00000000-0000-4000-8000-000000000006"),
                occurred_at=_AT,
                signal_id=uuid.UUID("00000000-0000-4000-8000-0000000000d1"),
                device=_DEVICE,
                detector="psi",
                subject="score",
                statistic=0.41,
                threshold=0.25,
                reference_window=(
                    datetime(2026, 11, 1, tzinfo=UTC),
                    datetime(2026, 11, 2, tzinfo=UTC),
                ),
                current_window=(datetime(2026, 11, 19, 9, 0, tzinfo=UTC), _AT),
                severity=SignalSeverity.HIGH,
                summary="Output score distribution moved (PSI 0.41 > 0.25).",
            )
        ],
        topics.ALERTS.name: [alert],
        topics.TRIAGE_FEEDBACK.name: [
            TriageFeedback(
                event_id=uuid.UUID("00000000-0000-4000-8000-000000000005"),
                occurred_at=_AT,
                report_id=report.report_id,
                case_id=uuid.UUID("00000000-0000-4000-8000-0000000000c1"),
                kind=report.kind,
                language=report.language,
                narrative=report.narrative,
                model_version="sev-3f9a1c2e",
                predicted_severity=Severity.MALFUNCTION,
                decided_severity=Severity.SERIOUS,
                predicted_category="missed_finding",
                decided_category="missed_finding",
                reviewer_role="regulator",
                reason="Delayed diagnosis is a serious deterioration of health.",
            )
        ],
        topics.DRIFT_STATE.name: [
            DriftMonitorState(
                event_id=uuid.UUID("00000000-0000-4000-8000-000000000007"),
                occurred_at=_AT,
                device=_DEVICE,
                version=4,
                reference=DriftReference(
                    start=datetime(2026, 11, 1, tzinfo=UTC),
                    end=datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
                    windows=3,
                ),
                reference_generation=1,
                reference_parts=3,
                latched={"feature:age": 1},
                error_rates=[0.021, 0.019, 0.024],
                stream=DriftStreamState(
                    detector="adwin",
                    snapshot={"_n": 1380, "_s1": 29.0, "_s2": 29.0},
                ),
            )
        ],
        topics.AUDIT_CHECKPOINTS.name: [
            AuditCheckpoint(
                event_id=uuid.UUID("00000000-0000-4000-8000-000000000006"),
                occurred_at=_AT,
                seq=1842,
                head_hash="9c1d4e2b7a0f5c3e8d6b1a4f2e9c7d5b3a1f0e8d6c4b2a09f7e5d3c1b9a8f6e4",
                registry="vigie-registry",
                key_id="5b0e3c9a17d24f86",
                signature=(
                    "O7Eu2jwpjbXeJVl/VNkk8uF+eKJq2JU+2CGO5oLwu76Q"
                    "IeLzAJ0VLJEb8fJexoOpAnFBZnZ6+9jlvQ+wEk7Lig=="
                ),
            )
        ],
    }


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _hoist(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Move a model schema's ``$defs`` into the shared components."""
    defs.update(schema.pop("$defs", {}))
    return schema


def asyncapi(examples: dict[str, list[BaseModel]]) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic and who sends or receives it."""
    schemas: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in topics.ALL:
        name = spec.event.__name__
        schemas[name] = _hoist(
            spec.event.model_json_schema(ref_template="#/components/schemas/{model}"), schemas
        )
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (spec.event.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "examples": [{"payload": e.model_dump(mode="json")} for e in examples[spec.name]],
        }
        bindings = {
            "kafka": {
                "topic": spec.name,
                "partitions": spec.partitions,
                "topicConfiguration": {"retention.ms": int(spec.config.get("retention.ms", "-1"))},
            }
        }
        channels[name] = {
            "address": spec.name,
            "description": spec.description,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": bindings,
        }
        channels[name + "DeadLetter"] = {
            "address": spec.dlq,
            "description": f"Messages of {spec.name} that could not be processed, unchanged; "
            "headers vigie-dlq-reason, vigie-dlq-error, vigie-dlq-source-topic, "
            "vigie-dlq-source-partition, vigie-dlq-source-offset, vigie-dlq-consumer-group, "
            "vigie-dlq-failed-at.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        }
    channels["AlertSubscription"] = {
        "address": topics.ALERTS.name + ".sub.{subscription}",
        "description": "Alerts matching one regulator subscription (filters on severity, alert "
        "type, manufacturer, device, category, country), declared through the registry API "
        "(POST /api/v1/subscriptions). The registry creates the topic and records every "
        "delivery (GET /api/v1/subscriptions/{id}/deliveries). Same messages and keys as "
        + topics.ALERTS.name
        + ".",
        "parameters": {"subscription": {"description": "Name given to the subscription."}},
        "messages": {"Alert": {"$ref": "#/components/messages/Alert"}},
    }
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "summary": "The original bytes of a rejected message, with the reason in headers.",
        "contentType": "application/octet-stream",
        "payload": {"type": "string", "format": "binary"},
    }

    def op(action: str, channel: str, summary: str) -> dict[str, Any]:
        return {"action": action, "channel": {"$ref": f"#/channels/{channel}"}, "summary": summary}

    operations = {
        "ingestPublishesReports": op(
            "send", "ReportSubmitted", "ingest publishes each accepted report (acks=all)."
        ),
        "triageConsumesReports": op(
            "receive", "ReportSubmitted", "triage consumes reports in batches (group vigie-triage)."
        ),
        "triagePublishesTriaged": op(
            "send", "ReportTriaged", "triage publishes the triaged report."
        ),
        "registryConsumesTriaged": op(
            "receive", "ReportTriaged", "registry records triaged reports (group vigie-registry)."
        ),
        "devicesPublishTelemetry": op(
            "send", "TelemetryWindow", "device software publishes telemetry windows."
        ),
        "registryPublishesAlerts": op(
            "send", "Alert", "registry relays alerts from its transactional outbox."
        ),
        "triagePublishesSignals": op(
            "send", "DriftDetected", "triage publishes drift detected in device telemetry."
        ),
        "registryConsumesSignals": op(
            "receive", "DriftDetected", "registry records signals and alerts on severe ones."
        ),
        "registryPublishesFeedback": op(
            "send", "TriageFeedback", "registry publishes reviewers' triage decisions."
        ),
        "trainingReadsFeedback": op(
            "receive", "TriageFeedback", "`vigie train` reads the decisions it learns from."
        ),
        "regulatorsReceiveAlerts": op(
            "receive", "Alert", "regulators subscribe; de-duplicate on event_id."
        ),
        "triageKeepsDriftState": op(
            "send", "DriftMonitorState", "triage writes each device's drift monitor state."
        ),
        "triageReadsDriftState": op(
            "receive", "DriftMonitorState", "every triage instance follows the compacted topic."
        ),
        "registryPublishesAuditHeads": op(
            "send", "AuditCheckpoint", "registry publishes its audit chain's head when it moved."
        ),
        "auditVerifyReadsHeads": op(
            "receive", "AuditCheckpoint", "`vigie audit verify` checks the chain against them."
        ),
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Vigie event contracts",
            "version": "1.0.0",
            "description": "Topics of the Vigie vigilance platform. Every topic T has T.dlq. "
            "Within a topic version changes are additive only.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "Broker started by `vigie kafka start`.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def openapi_documents() -> dict[str, dict[str, Any]]:
    """OpenAPI documents of the HTTP services."""
    from services.ingest.app import create_app as create_ingest
    from services.ingest.settings import IngestSettings
    from services.registry.app import create_app as create_registry
    from services.registry.db import upgrade_url
    from services.registry.settings import RegistrySettings

    ingest = create_ingest(IngestSettings()).openapi()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/registry.db"
        upgrade_url(url)
        app = create_registry(RegistrySettings(database_url=url), consume=False)
        registry = app.openapi()
        app.state.engine.dispose()
    return {"ingest": ingest, "registry": registry}


def render_all() -> dict[str, str]:
    """Every generated file, relative path -> content."""
    files: dict[str, str] = {}
    examples = example_events()
    for spec in topics.ALL:
        files[f"{spec.name}.schema.json"] = _dump(spec.event.model_json_schema())
        for index, event in enumerate(examples[spec.name], start=1):
            files[f"examples/{spec.name}/{index}.json"] = _dump(event.model_dump(mode="json"))
    files["asyncapi.json"] = _dump(asyncapi(examples))
    for name, document in openapi_documents().items():
        files[f"openapi/{name}.openapi.json"] = _dump(document)
    return files


def write_all(root: Path) -> list[Path]:
    """Write every generated file under ``root``; return their paths."""
    written = []
    for rel, content in render_all().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def differences(root: Path) -> list[str]:
    """Files under ``root`` that differ from what the code generates."""
    problems = []
    for rel, content in render_all().items():
        path = root / rel
        if not path.exists():
            problems.append(f"missing: {path}")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"out of date: {path} (run `vigie schemas`)")
    return problems
