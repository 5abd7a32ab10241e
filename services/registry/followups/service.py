"""Recording reporters' follow-ups on their cases, and reading them back under access rules."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.registry.access import readable_reports
from services.registry.audit.service import append
from services.registry.auth.service import Principal
from services.registry.cases.links import primary_cases
from services.registry.cases.models import Case, CaseReport, CaseStatus
from services.registry.cases.workflow import CLOCK_STOPPED, TRANSITIONS, load_case
from services.registry.errors import NotFound
from services.registry.followups.models import FollowUp, FollowUpPublic, FollowUpReceived
from services.registry.followups.retiming import clock_start, retime
from services.registry.reports.models import Report, ReportStatusToken
from services.registry.subscriptions.models import Subscription
from services.registry.subscriptions.service import active_subscriptions, raise_alert
from vigie.contracts import (
    Alert,
    AlertType,
    RegulatoryAssessment,
    ReportedOutcome,
    ReportFollowedUp,
    ReportSubmitted,
    ReportTriaged,
    Severity,
    utcnow,
)
from vigie.processing import Refusal
from vigie.rules.deadlines import worse_outcome

# Dead-letter reasons of follow-ups the registry does not record.
UNKNOWN_REPORT = "unknown_report"
STATUS_LINK_MISMATCH = "status_link_mismatch"
FOLLOWUP_ID_CONFLICT = "followup_id_conflict"

# Namespace of the ids of alerts raised by follow-ups: one alert per follow-up, whatever the
# number of deliveries.
_ALERT_NAMESPACE = uuid.UUID("5d1f0a7e-8b3c-4e2d-9a6f-1c7b3e5d9f02")


@dataclass(frozen=True)
class RecordedFollowUps:
    """Outcome of recording a batch of follow-ups."""

    inserted: int
    duplicates: int
    retimed: int
    alerts: int
    refused: tuple[Refusal[ReportFollowedUp], ...] = ()


def content_hash(event: ReportFollowedUp) -> str:
    """SHA-256 of what a follow-up says, without what differs between its deliveries (the
    envelope and the status link it came through)."""
    content = event.model_dump(
        mode="json", exclude={"event_id", "occurred_at", "schema_version", "status_token_hash"}
    )
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def report_for_link(session: Session, token_hash: str) -> Report | None:
    """The report a status link (by the hash of its secret) belongs to."""
    link = session.get(ReportStatusToken, token_hash)
    if link is not None:
        return session.get(Report, link.report_id)
    # A report recorded before links had a table of their own has its one link on its row.
    return session.exec(select(Report).where(col(Report.status_token_hash) == token_hash)).first()


def _known_outcome(session: Session, report: ReportSubmitted) -> ReportedOutcome:
    """The worst outcome stated so far: the report's, or a recorded follow-up's."""
    followed_up = followed_up_outcomes(session, [report.report_id]).get(report.report_id)
    return report.outcome if followed_up is None else worse_outcome(report.outcome, followed_up)


def followed_up_outcomes(
    session: Session, report_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ReportedOutcome]:
    """The worst outcome the recorded follow-ups of each report state, for the reports whose
    follow-ups state one."""
    worst: dict[uuid.UUID, ReportedOutcome] = {}
    ids = list(dict.fromkeys(report_ids))
    for start in range(0, len(ids), 500):  # bounded IN lists, whatever the number of reports
        stated = session.exec(
            select(FollowUp.report_id, FollowUp.outcome).where(
                col(FollowUp.report_id).in_(ids[start : start + 500]),
                col(FollowUp.outcome).is_not(None),
            )
        )
        for report_id, outcome in stated:
            if outcome is None:
                continue
            known = worst.get(report_id)
            stated_outcome = ReportedOutcome(outcome)
            worst[report_id] = (
                stated_outcome if known is None else worse_outcome(known, stated_outcome)
            )
    return worst


def followups_of(session: Session, report_ids: Sequence[uuid.UUID]) -> list[FollowUp]:
    """The recorded follow-ups of the reports (texts as stored: scrubbed), oldest first."""
    ids = list(dict.fromkeys(report_ids))
    rows: list[FollowUp] = []
    for start in range(0, len(ids), 500):
        rows.extend(
            session.exec(
                select(FollowUp).where(col(FollowUp.report_id).in_(ids[start : start + 500]))
            )
        )
    return sorted(rows, key=lambda f: (f.submitted_at, str(f.followup_id)))


def record_followups(
    session: Session, events: Sequence[ReportFollowedUp], *, alerts_topic: str
) -> RecordedFollowUps:
    """Record a batch of follow-ups on their reports' cases, in one transaction: each one once,
    with its audit record; a worse outcome re-times the case (never later) and, when it makes
    the case serious or a death, queues the regulator's alert.

    A follow-up of a report the registry does not hold, through a status link that is not that
    report's, or whose id is recorded with other content, is refused (dead-lettered).
    """
    refused: list[Refusal[ReportFollowedUp]] = []
    seen: dict[uuid.UUID, str] = {}
    ids = {e.followup_id for e in events}
    recorded = {
        f.followup_id: f.content_hash
        for f in session.exec(select(FollowUp).where(col(FollowUp.followup_id).in_(ids)))
    }
    duplicates = inserted = retimed = alerts = 0
    subscriptions: list[Subscription] | None = None
    for event in events:
        this = content_hash(event)
        before = recorded.get(event.followup_id, seen.get(event.followup_id))
        if before is not None:
            if before == this:
                duplicates += 1
            else:
                refused.append(
                    Refusal(
                        event,
                        FOLLOWUP_ID_CONFLICT,
                        f"follow-up {event.followup_id} is already recorded with other content "
                        f"(recorded {before[:16]}, this event {this[:16]}); not recorded",
                    )
                )
            continue
        report = session.get(Report, event.report_id)
        if report is None:
            refused.append(
                Refusal(event, UNKNOWN_REPORT, f"no report {event.report_id} is recorded")
            )
            continue
        linked = report_for_link(session, event.status_token_hash)
        if linked is None or linked.report_id != report.report_id:
            refused.append(
                Refusal(
                    event,
                    STATUS_LINK_MISMATCH,
                    f"the status link of follow-up {event.followup_id} is not one of report "
                    f"{event.report_id}'s",
                )
            )
            continue
        if subscriptions is None:
            subscriptions = active_subscriptions(session)
        changed, alerted = _apply(
            session,
            event,
            report=report,
            alerts_topic=alerts_topic,
            subscriptions=subscriptions,
        )
        seen[event.followup_id] = this
        inserted += 1
        retimed += changed
        alerts += alerted
    session.commit()
    return RecordedFollowUps(inserted, duplicates, retimed, alerts, tuple(refused))


def _apply(
    session: Session,
    event: ReportFollowedUp,
    *,
    report: Report,
    alerts_topic: str,
    subscriptions: Sequence[Subscription],
) -> tuple[bool, bool]:
    """Record one follow-up on its case; returns (case re-timed, alert queued)."""
    submitted = ReportTriaged.model_validate_json(report.payload).report
    case = primary_cases(session, [report.report_id]).get(report.report_id)
    severity = case.severity if case is not None else report.severity
    serious = case.serious_incident if case is not None else report.serious_incident
    deadline = case.deadline if case is not None else report.deadline
    aware_on = event.awareness_date or event.occurred_at.date()
    after = retime(
        submitted,
        known=_known_outcome(session, submitted),
        severity=severity,
        serious_incident=serious,
        deadline=deadline,
        outcome=event.outcome,
        aware_on=aware_on,
    )
    now = utcnow()
    session.add(
        FollowUp(
            followup_id=event.followup_id,
            report_id=report.report_id,
            case_id=case.case_id if case is not None else None,
            text=event.text,
            outcome=event.outcome.value if event.outcome is not None else None,
            awareness_date=event.awareness_date,
            language=event.language.value,
            severity_before=severity.value,
            severity_after=after.severity.value,
            deadline_before=deadline,
            deadline_after=after.deadline,
            submitted_at=event.occurred_at,
            recorded_at=now,
            content_hash=content_hash(event),
            payload=event.model_dump_json(),
        )
    )
    if case is None:
        return False, False
    changed = (after.severity, after.serious_incident, after.deadline) != (
        severity,
        serious,
        deadline,
    )
    if changed:
        case.severity = after.severity
        case.serious_incident = after.serious_incident
        case.deadline = after.deadline
    case.updated_at = now
    session.add(case)
    detail: dict[str, object] = {
        "followup_id": str(event.followup_id),
        "report_id": str(report.report_id),
        "outcome": event.outcome.value if event.outcome is not None else None,
        "text_sha256": hashlib.sha256(event.text.encode()).hexdigest() if event.text else None,
        "severity": after.severity.value,
        "deadline": after.deadline,
        "before": {"severity": severity.value, "deadline": deadline},
    }
    if after.assessment is not None:
        detail["clock_start"] = clock_start(submitted, aware_on=aware_on)
        detail["basis"] = [f"{o.framework.value} {o.article}" for o in after.assessment.obligations]
    append(
        session,
        case_id=case.case_id,
        actor="reporter",
        action="follow_up_received",
        detail=detail,
    )
    if after.worsened and case.status in CLOCK_STOPPED:
        _reopen(session, case, event)
    became_serious = after.serious_incident and not serious
    became_death = after.severity is Severity.DEATH and severity is not Severity.DEATH
    if not (became_serious or became_death):
        return changed, False
    raise_alert(
        session,
        _alert(event, case, submitted, after.assessment),
        topic=alerts_topic,
        key=str(case.case_id),
        subscriptions=subscriptions,
    )
    return changed, True


# Where a case whose clock stopped goes back when a follow-up brings a worse outcome.
_REASSESS = CaseStatus.UNDER_ASSESSMENT


def _reopen(session: Session, case: Case, event: ReportFollowedUp) -> None:
    """Move a reported or closed case back to assessment: a worse outcome is new information the
    authority must get, and its deadline runs only while the case is open (caller commits)."""
    before = case.status
    if _REASSESS not in TRANSITIONS[before]:  # pragma: no cover - the workflow allows it
        raise AssertionError(f"the workflow cannot go from {before.value} to {_REASSESS.value}")
    outcome = event.outcome.value.replace("_", " ") if event.outcome else "unknown"
    reason = f"follow-up {event.followup_id} states a worse outcome ({outcome})"
    case.status, case.status_reason = _REASSESS, reason
    session.add(case)
    append(
        session,
        case_id=case.case_id,
        actor="system",
        action="status_changed",
        detail={"from": before.value, "to": _REASSESS.value, "reason": reason},
    )


def _alert(
    event: ReportFollowedUp,
    case: Case,
    report: ReportSubmitted,
    assessment: RegulatoryAssessment | None,
) -> Alert:
    """The regulator alert of a case a follow-up made serious, or a death."""
    obligations = assessment.obligations if assessment is not None else []
    basis = ", ".join(f"{o.framework.value} {o.article}" for o in obligations)
    outcome = event.outcome.value.replace("_", " ") if event.outcome else "outcome unchanged"
    return Alert(
        event_id=uuid.uuid5(_ALERT_NAMESPACE, f"{case.case_id}:{event.followup_id}"),
        alert_type=AlertType.SERIOUS_INCIDENT,
        case_id=case.case_id,
        report_id=report.report_id,
        tracking_number=report.tracking_number,
        severity=case.severity,
        device=report.device,
        country=report.country,
        category=case.category,
        summary=(
            f"{case.severity.value} — follow-up: {outcome} — {report.device.name} "
            f"{report.device.model_version} — {basis}"
        )[:500],
        deadline=case.deadline,
        obligations=obligations,
        registry_path=f"/api/v1/cases/{case.case_id}",
    )


def _public(row: FollowUp) -> FollowUpPublic:
    return FollowUpPublic.model_validate(row.model_dump())


def list_for_case(
    session: Session, case_id: uuid.UUID, *, principal: Principal, key: bytes
) -> list[FollowUpPublic]:
    """The follow-ups of the case's reports that the principal may read, oldest first
    (NotFound when the principal may not read the case)."""
    load_case(session, case_id, principal, key)
    linked = set(
        session.exec(select(CaseReport.report_id).where(col(CaseReport.case_id) == case_id))
    )
    readable = readable_reports(session, linked, principal=principal, key=key)
    if not readable:
        return []
    rows = session.exec(
        select(FollowUp)
        .where(col(FollowUp.report_id).in_(readable))
        .order_by(col(FollowUp.submitted_at), col(FollowUp.followup_id))
    )
    return [_public(r) for r in rows]


def received_for_link(session: Session, token_hash: str) -> list[FollowUpReceived]:
    """What the holder of a status link sees of the follow-ups of its report: when each was
    received, its outcome and its text as sent on (NotFound for an unknown link)."""
    report = report_for_link(session, token_hash)
    if report is None:
        raise NotFound("status")
    rows = session.exec(
        select(FollowUp)
        .where(col(FollowUp.report_id) == report.report_id)
        .order_by(col(FollowUp.submitted_at), col(FollowUp.followup_id))
    )
    return [
        FollowUpReceived(
            received_at=r.submitted_at,
            text=r.text,
            outcome=ReportedOutcome(r.outcome) if r.outcome else None,
        )
        for r in rows
    ]
