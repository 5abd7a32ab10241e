"""Exports of cases: FHIR R5 AdverseEvent, EU MIR-structured document, CSV lists."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.registry.cases.models import Case, CasePublic, CaseStatus, MirContent, MirReport
from services.registry.errors import NotFound
from services.registry.exports import csvsafe, imdrf
from services.registry.followups.retiming import as_it_stands, kind_as_it_stands
from services.registry.followups.service import followed_up_outcomes, followups_of
from services.registry.reports.models import AI_COLUMNS, Report
from vigie.contracts import (
    AgeBand,
    AiInvolvement,
    ClinicianAction,
    ReportedOutcome,
    ReporterRole,
    ReportKind,
    ReportTriaged,
)
from vigie.rules.deadlines import worse_outcome

_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
_VIGIE = "https://vigie.example.org/fhir/CodeSystem"
_IMDRF = imdrf.SYSTEM
_LOINC = "http://loinc.org"
_GENDER = "http://hl7.org/fhir/administrative-gender"
_UCUM = "http://unitsofmeasure.org"

# FHIR R5 AdverseEvent.outcome codes (adverse-event-outcome) for the reported outcome.
_FHIR_OUTCOME = {
    ReportedOutcome.DEATH: ("fatal", "Fatal"),
    ReportedOutcome.SERIOUS_DETERIORATION: ("ongoing", "Ongoing"),
    ReportedOutcome.INJURY: ("ongoing", "Ongoing"),
    ReportedOutcome.NO_HARM: ("resolved", "Resolved"),
    ReportedOutcome.UNKNOWN: ("unknown", "Unknown"),
}


@dataclass(frozen=True)
class FollowUpNote:
    """A reporter's follow-up of a report as the exports give it: its text as stored (scrubbed
    by ingest), the outcome it states and when it was sent and learned of."""

    received_at: datetime
    outcome: ReportedOutcome | None
    awareness_date: date | None
    text: str | None

    def note(self, tracking_number: str) -> str:
        """The follow-up as one line of text."""
        said = []
        if self.outcome is not None:
            said.append(f"outcome now: {self.outcome.value.replace('_', ' ')}")
        if self.awareness_date is not None:
            said.append(f"learned of on {self.awareness_date.isoformat()}")
        head = f"Follow-up of report {tracking_number}"
        if said:
            head += f" ({'; '.join(said)})"
        return f"{head}: {self.text}" if self.text else head


class StandingReport(ReportTriaged):
    """A report as it now stands: its outcome the worst stated (its own or a follow-up's; see
    :func:`services.registry.followups.retiming.as_it_stands`), with its follow-ups."""

    submitted_outcome: ReportedOutcome
    submitted_kind: ReportKind
    followups: tuple[FollowUpNote, ...] = ()


def standing(event: ReportTriaged, followups: Sequence[FollowUpNote] = ()) -> StandingReport:
    """``event`` with its report as its ``followups`` leave it."""
    worst: ReportedOutcome | None = None
    for f in followups:
        if f.outcome is not None:
            worst = f.outcome if worst is None else worse_outcome(worst, f.outcome)
    return StandingReport.model_construct(
        **{name: getattr(event, name) for name in ReportTriaged.model_fields if name != "report"},
        report=as_it_stands(event.report, worst),
        submitted_outcome=event.report.outcome,
        submitted_kind=event.report.kind,
        followups=tuple(followups),
    )


def case_reports(session: Session, case: CasePublic) -> list[StandingReport]:
    """The triaged events of a case's reports as they now stand (their follow-ups' outcomes
    taken into account): those ``case`` lists, which are the ones its reader may read (see
    ``workflow.get_case``). None readable is "no such case"."""
    rows = session.exec(select(Report).where(col(Report.report_id).in_(case.report_ids)))
    by_id = {r.report_id: ReportTriaged.model_validate_json(r.payload) for r in rows}
    notes: dict[uuid.UUID, list[FollowUpNote]] = {}
    for f in followups_of(session, list(by_id)):
        notes.setdefault(f.report_id, []).append(
            FollowUpNote(
                received_at=f.submitted_at,
                outcome=ReportedOutcome(f.outcome) if f.outcome else None,
                awareness_date=f.awareness_date,
                text=f.text,
            )
        )
    reports = [standing(by_id[i], notes.get(i, ())) for i in case.report_ids if i in by_id]
    if not reports:
        raise NotFound(str(case.case_id))
    return reports


# Age bands as FHIR Ranges in years (the last band is open above).
_AGE_YEARS: dict[AgeBand, tuple[int, int | None]] = {
    AgeBand.UNDER_18: (0, 17),
    AgeBand.FROM_18_TO_44: (18, 44),
    AgeBand.FROM_45_TO_64: (45, 64),
    AgeBand.FROM_65_TO_79: (65, 79),
    AgeBand.FROM_80: (80, None),
}

_ACTION_TEXT = {
    ClinicianAction.FOLLOWED: "Clinician followed the AI output",
    ClinicianAction.PARTLY_FOLLOWED: "Clinician partly followed the AI output",
    ClinicianAction.OVERRODE: "Clinician overrode the AI output",
    ClinicianAction.DID_NOT_SEE: "Clinician did not see the AI output",
}


def _concept(system: str, code: str, text: str) -> dict[str, Any]:
    return {"coding": [{"system": f"{_VIGIE}/{system}", "code": code}], "text": text}


def _years(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "a", "system": _UCUM, "code": "a"}


def _fhir_ai_part(
    ai: AiInvolvement, *, device_ref: str, reporter_role: ReporterRole
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The AI part of the index report as contained Observations and the AdverseEvent's
    ``participant``, ``contributingFactor`` and ``supportingInfo`` elements."""
    contained: list[dict[str, Any]] = []
    elements: dict[str, list[dict[str, Any]]] = {}
    if ai.task is not None:
        # The device took part in the event by performing its task.
        elements.setdefault("participant", []).append(
            {
                "function": _concept("ai-task", ai.task.value, f"AI task: {ai.task.value}"),
                "actor": {"reference": device_ref},
            }
        )
    if ai.clinician_action is not None:
        action = _concept(
            "clinician-action", ai.clinician_action.value, _ACTION_TEXT[ai.clinician_action]
        )
        elements.setdefault("participant", []).append(
            {"function": action, "actor": {"display": reporter_role.value.replace("_", " ")}}
        )
        if ai.clinician_action in (ClinicianAction.FOLLOWED, ClinicianAction.PARTLY_FOLLOWED):
            elements.setdefault("contributingFactor", []).append({"itemCodeableConcept": action})
    for problem in ai.input_data_problems:
        elements.setdefault("contributingFactor", []).append(
            {
                "itemCodeableConcept": _concept(
                    "input-data-problem",
                    problem.value,
                    f"AI input data: {problem.value.replace('_', ' ')}",
                )
            }
        )
    if ai.output is not None or ai.output_confidence is not None:
        output: dict[str, Any] = {
            "resourceType": "Observation",
            "id": "ai-output",
            "status": "final",
            "code": _concept(
                "observation", "ai-output", "Output of the AI as the clinician saw it"
            ),
            "device": {"reference": device_ref},
        }
        if ai.output is not None:
            output["valueString"] = ai.output
        if ai.output_confidence is not None:
            output["component"] = [
                {
                    "code": _concept(
                        "observation", "ai-confidence", "Confidence shown with the output"
                    ),
                    "valueQuantity": {
                        "value": round(ai.output_confidence * 100, 2),
                        "unit": "%",
                        "system": _UCUM,
                        "code": "%",
                    },
                }
            ]
        contained.append(output)
    if ai.patient_age_band is not None:
        low, high = _AGE_YEARS[ai.patient_age_band]
        age_range: dict[str, Any] = {"low": _years(low)}
        if high is not None:
            age_range["high"] = _years(high)
        contained.append(
            {
                "resourceType": "Observation",
                "id": "patient-age",
                "status": "final",
                "code": {"coding": [{"system": _LOINC, "code": "30525-0", "display": "Age"}]},
                "valueRange": age_range,
            }
        )
    if ai.patient_sex is not None:
        contained.append(
            {
                "resourceType": "Observation",
                "id": "patient-sex",
                "status": "final",
                "code": {"coding": [{"system": _LOINC, "code": "46098-0", "display": "Sex"}]},
                "valueCodeableConcept": {
                    "coding": [{"system": _GENDER, "code": ai.patient_sex.value}]
                },
            }
        )
    if contained:
        elements["supportingInfo"] = [
            {"itemReference": {"reference": f"#{c['id']}"}} for c in contained
        ]
    return contained, elements


def _stated_problems(event: ReportTriaged) -> list[imdrf.Term]:
    return imdrf.device_problems(event.report.kind)


def _stated_impacts(event: ReportTriaged) -> list[imdrf.Term]:
    report = event.report
    exposed = report.ai.patient_exposed if report.ai is not None else None
    return imdrf.health_impacts(report.kind, report.outcome, patient_exposed=exposed)


def _listed(terms: Sequence[imdrf.Term]) -> list[dict[str, str]]:
    return [{"code": t.code, "term": t.term} for t in terms]


def _notes(reports: Sequence[ReportTriaged]) -> list[dict[str, Any]]:
    """Each report's narrative, then its follow-ups (as stored: scrubbed) with when each was
    received."""
    notes: list[dict[str, Any]] = []
    for r in reports:
        notes.append({"text": r.report.narrative})
        for f in r.followups if isinstance(r, StandingReport) else ():
            notes.append(
                {"time": f.received_at.isoformat(), "text": f.note(r.report.tracking_number)}
            )
    return notes


def fhir_adverse_event(case: CasePublic, reports: Sequence[ReportTriaged]) -> dict[str, Any]:
    """The case as a FHIR R5 AdverseEvent resource (JSON), its first report as the index one;
    ``reports`` as they now stand (:func:`case_reports`) give the outcome follow-ups stated."""
    first = reports[0]
    report = first.report
    device_id = "device-1"
    # Annex A terms the reports state, then those triage suggested, each code once.
    codes: dict[str, str] = {}
    for r in reports:
        for t in _stated_problems(r):
            codes.setdefault(t.code, t.term)
        for c in r.triage.imdrf_codes:
            codes.setdefault(c.code, c.term)
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
            "coding": [
                {"system": _IMDRF, "code": code, "display": term} for code, term in codes.items()
            ]
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
                    },
                    *(
                        {"system": _IMDRF, "code": t.code, "display": t.term}
                        for t in _stated_impacts(first)
                    ),
                ]
            }
        ],
        "suspectEntity": [{"instanceReference": {"reference": f"#{device_id}"}}],
        "note": _notes(reports),
    }
    if report.ai is not None:
        contained, elements = _fhir_ai_part(
            report.ai, device_ref=f"#{device_id}", reporter_role=report.reporter_role
        )
        resource["contained"].extend(contained)
        resource.update(elements)
        if report.ai.patient_exposed is False:
            resource["actuality"] = "potential"  # the output never reached the patient
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
                    # The worst outcome stated, the report's or a follow-up's.
                    "patient_outcome": r.report.outcome.value,
                    "follow_ups": [
                        {
                            "received_at": f.received_at.isoformat(),
                            "outcome": f.outcome.value if f.outcome else None,
                            "awareness_date": (
                                f.awareness_date.isoformat() if f.awareness_date else None
                            ),
                            "text": f.text,
                        }
                        for f in (r.followups if isinstance(r, StandingReport) else ())
                    ],
                    "triage_severity": r.triage.severity.value,
                    "narrative": r.report.narrative,
                    "ai": r.report.ai.model_dump(mode="json") if r.report.ai else None,
                    "suggested_imdrf_codes": [c.model_dump() for c in r.triage.imdrf_codes],
                    # What the report itself states, coded (IMDRF/AE WG/N43 Annexes A and F).
                    "stated_imdrf_device_problem_codes": _listed(_stated_problems(r)),
                    "stated_imdrf_health_impact_codes": _listed(_stated_impacts(r)),
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


# The AI part of the case's index report (its first readable one); the AI's output is free
# text, which the list leaves out as it does the narrative.
_AI_COLUMNS = tuple(c for c in AI_COLUMNS if c != "ai_output")
CASE_COLUMNS: tuple[str, ...] = (
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
    *_AI_COLUMNS,
    # IMDRF codes the index report states (Annex A device problem, Annex F health impact).
    "imdrf_device_problem_codes",
    "imdrf_health_impact_codes",
)


@dataclass(frozen=True)
class IndexReport:
    """A case's index report as its CSV line gives it: the row, and its outcome and kind as
    they now stand (its follow-ups' outcomes taken into account)."""

    row: Report
    outcome: ReportedOutcome
    kind: ReportKind


def index_reports(session: Session, cases: Iterable[CasePublic]) -> dict[uuid.UUID, IndexReport]:
    """The index report of each case, by case id: the first of the reports it lists, which are
    those its reader may read."""
    first = {c.report_ids[0]: c.case_id for c in cases if c.report_ids}
    ids = list(first)
    rows: list[Report] = []
    for start in range(0, len(ids), 500):  # bounded IN lists, whatever the number of cases
        rows.extend(
            session.exec(select(Report).where(col(Report.report_id).in_(ids[start : start + 500])))
        )
    followed = followed_up_outcomes(session, [r.report_id for r in rows])
    found: dict[uuid.UUID, IndexReport] = {}
    for r in rows:
        outcome, kind = ReportedOutcome(r.outcome), ReportKind(r.kind)
        later = followed.get(r.report_id)
        if later is not None:
            outcome = worse_outcome(outcome, later)
            kind = kind_as_it_stands(kind, later)
        found[first[r.report_id]] = IndexReport(r, outcome, kind)
    return found


def cases_csv(cases: Iterable[CasePublic], index: Mapping[uuid.UUID, IndexReport]) -> str:
    """Cases as CSV (one line each), with the AI part of each one's index report and the
    IMDRF codes of its outcome as it now stands."""
    out = io.StringIO()
    writer = csvsafe.writer(out)  # no cell can start a formula
    writer.writerow(CASE_COLUMNS)
    for c in cases:
        data = c.model_dump(mode="json")
        data["report_count"] = len(c.report_ids)
        index_report = index.get(c.case_id)
        report = index_report.row if index_report is not None else None
        for column in _AI_COLUMNS:
            data[column] = getattr(report, column) if report is not None else None
        if index_report is not None:
            data["imdrf_device_problem_codes"] = imdrf.codes(
                imdrf.device_problems(index_report.kind)
            )
            data["imdrf_health_impact_codes"] = imdrf.codes(
                imdrf.health_impacts(
                    index_report.kind,
                    index_report.outcome,
                    patient_exposed=index_report.row.ai_patient_exposed,
                )
            )
        else:
            data["imdrf_device_problem_codes"] = data["imdrf_health_impact_codes"] = None
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
