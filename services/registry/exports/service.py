"""Exports of cases: FHIR R5 AdverseEvent, EU MIR-structured document, CSV lists."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import Session, col, select

from services.registry.cases.models import Case, CasePublic, CaseStatus, MirContent, MirReport
from services.registry.errors import NotFound
from services.registry.exports import csvsafe
from services.registry.reports.models import Report
from vigie.contracts import ReportedOutcome, ReportTriaged

_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
_VIGIE = "https://vigie.example.org/fhir/CodeSystem"
_IMDRF = "https://www.imdrf.org/aet"

# FHIR R5 AdverseEvent.outcome codes (adverse-event-outcome) for the reported outcome.
_FHIR_OUTCOME = {
    ReportedOutcome.DEATH: ("fatal", "Fatal"),
    ReportedOutcome.SERIOUS_DETERIORATION: ("ongoing", "Ongoing"),
    ReportedOutcome.INJURY: ("ongoing", "Ongoing"),
    ReportedOutcome.NO_HARM: ("resolved", "Resolved"),
    ReportedOutcome.UNKNOWN: ("unknown", "Unknown"),
}


def case_reports(session: Session, case: CasePublic) -> list[ReportTriaged]:
    """The triaged events of a case's reports as recorded: those ``case`` lists, which are the
    ones its reader may read (see ``workflow.get_case``). None readable is "no such case"."""
    rows = session.exec(select(Report).where(col(Report.report_id).in_(case.report_ids)))
    by_id = {r.report_id: ReportTriaged.model_validate_json(r.payload) for r in rows}
    reports = [by_id[i] for i in case.report_ids if i in by_id]
    if not reports:
        raise NotFound(str(case.case_id))
    return reports


def fhir_adverse_event(case: CasePublic, reports: Sequence[ReportTriaged]) -> dict[str, Any]:
    """The case as a FHIR R5 AdverseEvent resource (JSON), its first report as the index one."""
    first = reports[0]
    report = first.report
    device_id = "device-1"
    codes = [c for r in reports for c in r.triage.imdrf_codes]
    status = (
        "completed"
        if case.status in (CaseStatus.CLOSED, CaseStatus.REPORTED_TO_AUTHORITY)
        else "in-progress"
    )
    subject: dict[str, Any] = {"display": "pseudonymised patient"}
    if report.patient_pseudonym:
        subject["identifier"] = {
            "system": "urn:vigie:patient-pseudonym",
            "value": report.patient_pseudonym,
        }
    device: dict[str, Any] = {
        "resourceType": "Device",
        "id": device_id,
        "name": [{"value": report.device.name, "type": "registered-name"}],
        "manufacturer": report.device.manufacturer,
        "version": [{"value": report.device.model_version, "type": {"text": "AI model version"}}],
    }
    if report.device.udi_di:
        device["udiCarrier"] = [
            {"deviceIdentifier": report.device.udi_di, "issuer": "https://www.gs1.org/gtin"}
        ]
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": str(case.case_id),
        "contained": [device],
        "identifier": [{"system": "urn:vigie:case", "value": str(case.case_id)}]
        + [
            {"system": "urn:vigie:tracking-number", "value": r.report.tracking_number}
            for r in reports
        ],
        "status": status,
        "actuality": "potential" if report.kind.value == "near_miss" else "actual",
        "category": [
            {
                "coding": [{"system": f"{_VIGIE}/report-kind", "code": report.kind.value}],
                "text": report.kind.value.replace("_", " "),
            }
        ],
        "code": {
            "coding": [{"system": _IMDRF, "code": c.code, "display": c.term} for c in codes]
            or None,
            "text": case.category or report.kind.value.replace("_", " "),
        },
        "subject": subject,
        "detected": report.awareness_date.isoformat(),
        "recordedDate": report.occurred_at.isoformat(),
        "seriousness": {
            "coding": [
                {
                    "system": _SERIOUSNESS,
                    "code": "serious" if case.serious_incident else "non-serious",
                    "display": "Serious" if case.serious_incident else "Non-serious",
                }
            ]
        },
        "outcome": [
            {
                "coding": [
                    {
                        "system": _OUTCOME,
                        "code": _FHIR_OUTCOME[report.outcome][0],
                        "display": _FHIR_OUTCOME[report.outcome][1],
                    }
                ]
            }
        ],
        "suspectEntity": [{"instanceReference": {"reference": f"#{device_id}"}}],
        "note": [{"text": r.report.narrative} for r in reports],
    }
    if report.event_date:
        resource["occurrenceDateTime"] = report.event_date.isoformat()
    if resource["code"]["coding"] is None:
        del resource["code"]["coding"]
    return resource


def mir_document(
    case: CasePublic, reports: Sequence[ReportTriaged], mir_reports: Sequence[MirReport]
) -> dict[str, Any]:
    """The case in the structure of the EU MIR form (sections 1 to 4), for the authority."""
    first = reports[0].report
    latest = mir_reports[-1] if mir_reports else None
    content = MirContent.model_validate_json(latest.content) if latest else None
    return {
        "form": "EU Manufacturer Incident Report (MIR) 7.3 structure",
        "1_administrative_information": {
            "report_type": latest.report_type.value if latest else None,
            "case_id": str(case.case_id),
            "recipient_country": case.country,
            "date_of_this_report": latest.submitted_at.isoformat() if latest else None,
            "manufacturer_awareness_date": (
                content.manufacturer_awareness_date.isoformat() if content else None
            ),
            "incident_classification": "serious incident"
            if case.serious_incident
            else "non-serious incident",
            "reporting_deadlines": [
                o.model_dump(mode="json") for o in reports[0].regulatory.obligations
            ],
        },
        "2_medical_device_information": {
            "name": first.device.name,
            "manufacturer": first.device.manufacturer,
            "udi_di": first.device.udi_di,
            "software_version": first.device.software_version,
            "ai_model_version": first.device.model_version,
        },
        "3_incident_information": {
            "reports": [
                {
                    "tracking_number": r.report.tracking_number,
                    "kind": r.report.kind.value,
                    "event_date": r.report.event_date.isoformat() if r.report.event_date else None,
                    "awareness_date": r.report.awareness_date.isoformat(),
                    "patient_outcome": r.report.outcome.value,
                    "triage_severity": r.triage.severity.value,
                    "narrative": r.report.narrative,
                    "suggested_imdrf_codes": [c.model_dump() for c in r.triage.imdrf_codes],
                }
                for r in reports
            ],
            "imdrf_device_problem_codes": content.imdrf_device_problem_codes if content else [],
            "imdrf_health_effect_codes": content.imdrf_health_effect_codes if content else [],
        },
        "4_manufacturer_investigation": {
            "root_cause_analysis": content.root_cause_analysis if content else None,
            "imdrf_cause_codes": content.imdrf_cause_codes if content else [],
            "corrective_actions": content.corrective_actions if content else None,
            "similar_incidents": content.similar_incidents if content else None,
            "fsca_reference": content.fsca_reference if content else None,
            "history": [
                {"report_type": m.report_type.value, "submitted_at": m.submitted_at.isoformat()}
                for m in mir_reports
            ],
        },
    }


CASE_COLUMNS = (
    "case_id",
    "status",
    "severity",
    "serious_incident",
    "deadline",
    "days_left",
    "overdue",
    "device_name",
    "manufacturer",
    "country",
    "category",
    "opened_at",
    "updated_at",
    "report_count",
)


def cases_csv(cases: Iterable[CasePublic]) -> str:
    """Cases as CSV (one line each)."""
    out = io.StringIO()
    writer = csvsafe.writer(out)  # no cell can start a formula
    writer.writerow(CASE_COLUMNS)
    for c in cases:
        data = c.model_dump(mode="json")
        data["report_count"] = len(c.report_ids)
        writer.writerow(["" if data[k] is None else data[k] for k in CASE_COLUMNS])
    return out.getvalue()


def mir_rows(session: Session, case: Case | CasePublic) -> list[MirReport]:
    """MIR reports of a case, oldest first."""
    return list(
        session.exec(
            select(MirReport)
            .where(col(MirReport.case_id) == case.case_id)
            .order_by(col(MirReport.submitted_at))
        )
    )
