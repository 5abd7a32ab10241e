"""Reviewers' decisions on triage: the case takes them, and they go back as training feedback."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from services.registry.audit.service import append
from services.registry.auth.service import Principal
from services.registry.cases.models import Case, CaseReport, LinkRole
from services.registry.cases.workflow import SUPERVISORS, actor, load_case
from services.registry.errors import AccessDenied, Conflict
from services.registry.outbox import enqueue
from services.registry.reports.models import Report
from vigie.contracts import ReportTriaged, Severity, TriageFeedback, utcnow
from vigie.rules.deadlines import assess


def review_triage(
    session: Session,
    case_id: uuid.UUID,
    *,
    severity: Severity,
    category: str | None,
    reason: str,
    principal: Principal,
    key: bytes,
    feedback_topic: str,
) -> Case:
    """A reviewer's decision on a triage: it becomes the case's severity and deadline, and is
    published (through the outbox) as feedback for the next training run."""
    if principal.role not in SUPERVISORS:
        raise AccessDenied(f"role {principal.role.value} may not review triage")
    case = load_case(session, case_id, principal, key)
    link = session.exec(
        select(CaseReport).where(
            col(CaseReport.case_id) == case_id, col(CaseReport.role) == LinkRole.PRIMARY
        )
    ).first()
    if link is None:
        raise Conflict("case has no primary report")
    report = session.get(Report, link.report_id)
    assert report is not None
    event = ReportTriaged.model_validate_json(report.payload)
    regulatory = assess(event.report, severity)
    feedback = TriageFeedback(
        event_id=uuid.uuid5(case_id, f"feedback:{utcnow().isoformat()}"),
        report_id=report.report_id,
        case_id=case_id,
        kind=event.report.kind,
        language=event.report.language,
        narrative=event.report.narrative,
        model_version=event.triage.model_version,
        predicted_severity=event.triage.severity,
        decided_severity=severity,
        predicted_category=event.triage.category,
        decided_category=category,
        reviewer_role=principal.role.value,
        reason=reason,
    )
    enqueue(
        session,
        event_id=str(feedback.event_id),
        topic=feedback_topic,
        key=str(report.report_id),
        event_type="triage_feedback",
        payload=feedback.model_dump_json(),
    )
    before = {"severity": case.severity.value, "deadline": case.deadline, "category": case.category}
    case.severity, case.needs_review = severity, False
    case.category = category if category is not None else case.category
    case.deadline = regulatory.deadline
    case.serious_incident = regulatory.serious_incident
    case.updated_at = utcnow()
    session.add(case)
    append(
        session,
        case_id=case_id,
        actor=actor(principal),
        action="triage_reviewed",
        detail={
            "before": before,
            "severity": severity.value,
            "category": case.category,
            "deadline": case.deadline,
            "reason": reason,
        },
    )
    session.commit()
    session.refresh(case)
    return case
