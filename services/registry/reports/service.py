"""Recording triaged reports and reading them back under access rules."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, insert, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from services.registry.access import report_scope
from services.registry.audit.service import Chain
from services.registry.auth.service import Principal
from services.registry.cases.links import primary_cases
from services.registry.cases.models import CaseStatus
from services.registry.cases.workflow import open_cases
from services.registry.db import insert_ignore
from services.registry.devices.service import note_model_versions
from services.registry.errors import InvalidValue, NotFound
from services.registry.outbox import OutboxEvent, event_row
from services.registry.reports.models import (
    AI_COLUMNS,
    Report,
    ReportPage,
    ReportPublic,
    ReportStatus,
    ReportStatusToken,
)
from services.registry.subscriptions.models import Subscription
from services.registry.subscriptions.service import active_subscriptions, route
from vigie.contracts import (
    Alert,
    AlertType,
    ReportKind,
    ReportSubmitted,
    ReportTriaged,
    Severity,
    utcnow,
)
from vigie.processing import Refusal

# Dead-letter reason of an event whose report id is recorded with other content.
REPORT_ID_CONFLICT = "report_id_conflict"

# Namespace of alert ids derived from case ids: a case's alert keeps its id across relays.
_ALERT_NAMESPACE = uuid.UUID("0b6a3c1e-2f4d-4e8a-9c1b-5d7e9f2a4b6c")


def _ai_columns(report: ReportSubmitted) -> dict[str, object]:
    """The AI part of a report as the columns of its row (all null when it has none)."""
    ai = report.ai
    if ai is None:
        return dict.fromkeys(AI_COLUMNS)
    return {
        "ai_task": ai.task.value if ai.task else None,
        "ai_output": ai.output,
        "ai_output_confidence": ai.output_confidence,
        "ai_clinician_action": ai.clinician_action.value if ai.clinician_action else None,
        "ai_patient_exposed": ai.patient_exposed,
        "ai_input_data_problems": ",".join(p.value for p in ai.input_data_problems) or None,
        "patient_age_band": ai.patient_age_band.value if ai.patient_age_band else None,
        "patient_sex": ai.patient_sex.value if ai.patient_sex else None,
    }


def _row(event: ReportTriaged) -> dict[str, object]:
    report, triage, regulatory = event.report, event.triage, event.regulatory
    return {
        "report_id": report.report_id,
        "tracking_number": report.tracking_number,
        "kind": report.kind,
        "reporter_role": report.reporter_role,
        "country": report.country,
        "establishment": report.establishment,
        "device_name": report.device.name,
        "manufacturer": report.device.manufacturer,
        "manufacturer_key": report.device.manufacturer.casefold(),
        "udi_di": report.device.udi_di,
        "model_version": report.device.model_version,
        "is_medical_device": report.is_medical_device,
        "event_date": report.event_date,
        "awareness_date": report.awareness_date,
        "outcome": report.outcome,
        "severity": triage.severity,
        "needs_review": triage.needs_review,
        "review_reasons": "; ".join(triage.review_reasons),
        "category": triage.category,
        "confidence": triage.confidence,
        "triage_model_version": triage.model_version,
        "serious_incident": regulatory.serious_incident,
        "deadline": regulatory.deadline,
        "narrative": report.narrative,
        **_ai_columns(report),
        "submitted_at": report.occurred_at,
        "patient_pseudonym": report.patient_pseudonym,
        "reporter_ref": report.reporter_ref,
        "status_token_hash": report.status_token_hash,
        "payload": event.model_dump_json(),
        "recorded_at": utcnow(),
    }


def _insert_ignoring_duplicates(
    session: Session, rows: list[dict[str, object]]
) -> dict[uuid.UUID, Mapping[str, Any]]:
    """Insert report rows in one statement; a report id already recorded is left as it is.

    Returns the new rows as stored (what an audit digest must cover), by report id.
    """
    dialect = session.get_bind().dialect.name
    table = Report.__table__  # type: ignore[attr-defined]
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=["report_id"])
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=["report_id"])
    else:  # other databases: check first (single writer per partition keeps this safe)
        known = set(
            session.exec(
                select(Report.report_id).where(
                    col(Report.report_id).in_([r["report_id"] for r in rows])
                )
            )
        )
        fresh = [r for r in rows if r["report_id"] not in known]
        if not fresh:
            return {}
        session.execute(insert(table), fresh)
        stored = session.execute(
            select(table).where(table.c.report_id.in_([r["report_id"] for r in fresh]))
        )
        return {row.report_id: dict(row._mapping) for row in stored}
    # RETURNING hands back the rows as the database stored them: no second read.
    result = session.execute(statement.returning(*table.columns), rows)
    return {row.report_id: dict(row._mapping) for row in result}


@dataclass(frozen=True)
class Recorded:
    """Outcome of recording a batch."""

    inserted: int
    duplicates: int
    alerts: int
    # Events whose report id is recorded with other content: not recorded, dead-lettered.
    refused: tuple[Refusal[ReportTriaged], ...] = ()


def report_content_hash(report: ReportSubmitted) -> str:
    """SHA-256 of what a report says, without what differs between deliveries of one
    submission: the envelope (event id, time, schema version) and the receipt's status token.

    A retry of one submission answered by two ingest replicas has one content hash; two
    submissions that came to the same report id with different bodies have two.
    """
    content = report.model_dump(
        mode="json", exclude={"event_id", "occurred_at", "schema_version", "status_token_hash"}
    )
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _recorded_content(session: Session, report_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Content hashes of the recorded reports ``report_ids``, from the events they came in."""
    if not report_ids:
        return {}
    rows = session.exec(
        select(Report.report_id, Report.payload).where(col(Report.report_id).in_(report_ids))
    )
    return {
        report_id: report_content_hash(ReportTriaged.model_validate_json(payload).report)
        for report_id, payload in rows
    }


def record_triaged(
    session: Session, events: Sequence[ReportTriaged], *, alerts_topic: str
) -> Recorded:
    """Upsert a batch of triaged reports, open their cases and queue alerts, in one transaction.

    Redelivered events (same report id, same content) change nothing but add their status
    link: each report is counted once, and every receipt's link works. An event whose report id
    is recorded with other content is refused (see :class:`Recorded`), never merged into it.

    Each table gets one multi-row statement per batch (reports, cases, links, audit records,
    outbox events); the ORM builds no object on this path.
    """
    unique: dict[uuid.UUID, ReportTriaged] = {}
    for event in events:
        unique.setdefault(event.report.report_id, event)
    if not unique:
        return Recorded(0, len(events), 0)
    stored = _insert_ignoring_duplicates(session, [_row(e) for e in unique.values()])
    content = _recorded_content(session, set(unique) - set(stored))
    refused: list[Refusal[ReportTriaged]] = []
    links: list[dict[str, object]] = []
    for event in events:
        report = event.report
        if not (event is unique[report.report_id] and report.report_id in stored):
            if report.report_id not in content:
                # Recorded by this batch: only a second delivery in the batch hashes it.
                content[report.report_id] = report_content_hash(unique[report.report_id].report)
            this = report_content_hash(report)
            if this != content[report.report_id]:
                # No patient data in the reason: it goes to logs and dead-letter headers.
                refused.append(
                    Refusal(
                        event,
                        REPORT_ID_CONFLICT,
                        f"report {report.report_id} is already recorded with other content "
                        f"(recorded {content[report.report_id][:16]}, this event {this[:16]}): "
                        "two submissions came to one report id; this one is not recorded",
                    )
                )
                continue
        if report.status_token_hash is not None:
            links.append({"token_hash": report.status_token_hash, "report_id": report.report_id})
    insert_ignore(session, ReportStatusToken, "token_hash", _distinct(links))
    fresh = [unique[report_id] for report_id in sorted(stored)]
    alerts = 0
    if fresh:
        # Read what every report of the batch needs once (devices, audit tail, subscriptions).
        note_model_versions(session, [e.report.device for e in fresh])
        chain = Chain(session)
        subscriptions = active_subscriptions(session)
        cases = open_cases(session, [(e, stored[e.report.report_id]) for e in fresh], chain=chain)
        serious = [
            serious_incident_alert(event, case_id)
            for event, case_id in zip(fresh, cases, strict=True)
            if event.regulatory.serious_incident
        ]
        alerts = _queue_alerts(session, serious, topic=alerts_topic, subscriptions=subscriptions)
    session.commit()
    return Recorded(len(stored), len(events) - len(stored) - len(refused), alerts, tuple(refused))


def _queue_alerts(
    session: Session, alerts: list[Alert], *, topic: str, subscriptions: Sequence[Subscription]
) -> int:
    """Queue the regulator's copy of each alert in one insert, then each matching
    subscription's (as :func:`raise_alert` does, the regulator's first); returns how many."""
    if not alerts:
        return 0
    payloads = [alert.model_dump_json() for alert in alerts]
    session.execute(
        insert(OutboxEvent),
        [
            event_row(
                event_id=str(alert.event_id),
                topic=topic,
                key=str(alert.case_id),
                event_type=alert.alert_type.value,
                payload=payload,
            )
            for alert, payload in zip(alerts, payloads, strict=True)
        ],
    )
    for alert, payload in zip(alerts, payloads, strict=True):
        route(session, alert, key=str(alert.case_id), subscriptions=subscriptions, payload=payload)
    return len(alerts)


def _distinct(links: list[dict[str, object]]) -> list[dict[str, object]]:
    """One row per token hash (a batch can hold the same delivery twice)."""
    return list({str(link["token_hash"]): link for link in links}.values())


def serious_incident_alert(event: ReportTriaged, case_id: uuid.UUID) -> Alert:
    """The regulator alert of the serious case ``case_id``."""
    report, regulatory = event.report, event.regulatory
    basis = ", ".join(f"{o.framework.value} {o.article}" for o in regulatory.obligations)
    return Alert(
        event_id=uuid.uuid5(_ALERT_NAMESPACE, f"{case_id}:serious_incident"),
        alert_type=AlertType.SERIOUS_INCIDENT,
        case_id=case_id,
        report_id=report.report_id,
        tracking_number=report.tracking_number,
        severity=event.triage.severity,
        device=report.device,
        country=report.country,
        category=event.triage.category,
        summary=(
            f"{event.triage.severity.value} — {report.kind.value.replace('_', ' ')} — "
            f"{report.device.name} {report.device.model_version} — {basis}"
        )[:500],
        deadline=regulatory.deadline,
        obligations=regulatory.obligations,
        registry_path=f"/api/v1/reports/{report.report_id}",
    )


def _publics(session: Session, reports: Sequence[Report]) -> list[ReportPublic]:
    """Reports with the case each one stands in (a merged case resolves to its target)."""
    cases = primary_cases(session, [r.report_id for r in reports])
    out = []
    for report in reports:
        case = cases.get(report.report_id)
        out.append(
            ReportPublic.model_validate(
                {
                    **report.model_dump(),
                    "case_id": case.case_id if case else None,
                    "case_status": case.status if case else None,
                }
            )
        )
    return out


def get_report(
    session: Session, report_id: uuid.UUID, *, principal: Principal, key: bytes
) -> ReportPublic:
    """One report the principal may read (NotFound otherwise: no hint that it exists)."""
    statement = select(Report).where(
        col(Report.report_id) == report_id, report_scope(principal, key=key)
    )
    found = session.exec(statement).first()
    if found is None:
        raise NotFound(str(report_id))
    return _publics(session, [found])[0]


@dataclass(frozen=True)
class ReportFilter:
    """Filters of the report list."""

    severity: Severity | None = None
    kind: ReportKind | None = None
    manufacturer: str | None = None
    device_name: str | None = None
    country: str | None = None
    needs_review: bool | None = None
    serious_incident: bool | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None


def _encode_cursor(report: Report) -> str:
    raw = f"{report.submitted_at.isoformat()}|{report.report_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, rid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(stamp), uuid.UUID(rid)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidValue("invalid cursor") from exc


def list_reports(
    session: Session,
    *,
    principal: Principal,
    key: bytes,
    filters: ReportFilter,
    limit: int,
    cursor: str | None,
) -> ReportPage:
    """Newest reports first, keyset-paginated on (submitted_at, report_id)."""
    conditions: list[ColumnElement[bool]] = [report_scope(principal, key=key)]
    f = filters
    if f.severity is not None:
        conditions.append(col(Report.severity) == f.severity)
    if f.kind is not None:
        conditions.append(col(Report.kind) == f.kind)
    if f.manufacturer is not None:
        conditions.append(col(Report.manufacturer_key) == f.manufacturer.casefold())
    if f.device_name is not None:
        conditions.append(col(Report.device_name) == f.device_name)
    if f.country is not None:
        conditions.append(col(Report.country) == f.country)
    if f.needs_review is not None:
        conditions.append(col(Report.needs_review) == f.needs_review)
    if f.serious_incident is not None:
        conditions.append(col(Report.serious_incident) == f.serious_incident)
    if f.submitted_from is not None:
        conditions.append(
            col(Report.submitted_at) >= datetime.combine(f.submitted_from, datetime.min.time())
        )
    if f.submitted_to is not None:
        conditions.append(
            col(Report.submitted_at) < datetime.combine(f.submitted_to, datetime.max.time())
        )
    if cursor is not None:
        stamp, rid = _decode_cursor(cursor)
        conditions.append(
            or_(
                col(Report.submitted_at) < stamp,
                and_(col(Report.submitted_at) == stamp, col(Report.report_id) < rid),
            )
        )
    statement = (
        select(Report)
        .where(*conditions)
        .order_by(col(Report.submitted_at).desc(), col(Report.report_id).desc())
        .limit(limit + 1)
    )
    rows = list(session.exec(statement))
    page = rows[:limit]
    return ReportPage(
        items=_publics(session, page),
        next_cursor=_encode_cursor(page[-1]) if len(rows) > limit else None,
    )


def status_for_token(session: Session, token_hash: str) -> ReportStatus:
    """Where the report behind a status link stands (any of its receipts' links)."""
    link = session.get(ReportStatusToken, token_hash)
    report = (
        session.get(Report, link.report_id)
        if link is not None
        # A report recorded before links had a table of their own has its one link on its row.
        else session.exec(select(Report).where(col(Report.status_token_hash) == token_hash)).first()
    )
    if report is None:
        raise NotFound("status")
    case = primary_cases(session, [report.report_id]).get(report.report_id)
    return ReportStatus(
        tracking_number=report.tracking_number,
        received_at=report.submitted_at,
        case_status=case.status if case else CaseStatus.RECEIVED,
        last_update=case.updated_at if case else report.recorded_at,
    )
