"""Subscriptions: declare filters, route matching alerts to the subscriber's own topic."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import Session, col, select

from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.errors import AccessDenied, Conflict, NotFound
from services.registry.outbox import OutboxEvent, enqueue
from services.registry.subscriptions.models import (
    Delivery,
    DeliveryPublic,
    Subscription,
    SubscriptionCreate,
    SubscriptionPublic,
)
from vigie.contracts import Alert, AlertType, Severity, utcnow

_SUBSCRIBERS = (Role.REGULATOR, Role.ADMIN)


def topic_for(alerts_topic: str, name: str) -> str:
    """The Kafka topic of a subscription."""
    return f"{alerts_topic}.sub.{name}"


def _public(sub: Subscription) -> SubscriptionPublic:
    return SubscriptionPublic(
        sub_id=sub.sub_id,
        name=sub.name,
        topic=sub.topic,
        severities=[Severity(s) for s in sub.severities.split(",") if s],
        alert_types=[AlertType(a) for a in sub.alert_types.split(",") if a],
        manufacturer=sub.manufacturer_key,
        device_name=sub.device_name,
        category=sub.category,
        country=sub.country,
        active=sub.active,
        created_at=sub.created_at,
    )


def create(
    session: Session, body: SubscriptionCreate, *, principal: Principal, alerts_topic: str
) -> SubscriptionPublic:
    """Register a subscription (regulators and administrators)."""
    if principal.role not in _SUBSCRIBERS:
        raise AccessDenied(f"role {principal.role.value} may not subscribe to alerts")
    if session.exec(select(Subscription).where(col(Subscription.name) == body.name)).first():
        raise Conflict(f"a subscription named {body.name} exists")
    sub = Subscription(
        name=body.name,
        owner=principal.token_id,
        topic=topic_for(alerts_topic, body.name),
        severities=",".join(s.value for s in body.severities),
        alert_types=",".join(a.value for a in body.alert_types),
        manufacturer_key=body.manufacturer.casefold() if body.manufacturer else None,
        device_name=body.device_name,
        category=body.category,
        country=body.country,
    )
    session.add(sub)
    session.commit()
    session.refresh(sub)
    return _public(sub)


def _visible(session: Session, principal: Principal) -> list[Subscription]:
    if principal.role not in _SUBSCRIBERS:
        raise AccessDenied(f"role {principal.role.value} has no subscriptions")
    statement = select(Subscription).order_by(col(Subscription.created_at))
    if principal.role is Role.REGULATOR:
        statement = statement.where(col(Subscription.owner) == principal.token_id)
    return list(session.exec(statement))


def list_for(session: Session, *, principal: Principal) -> list[SubscriptionPublic]:
    """The caller's subscriptions (an administrator sees all)."""
    return [_public(s) for s in _visible(session, principal)]


def deliveries(
    session: Session, sub_id: uuid.UUID, *, principal: Principal, limit: int = 200
) -> list[DeliveryPublic]:
    """What was routed to a subscription, newest first, with when it reached Kafka."""
    if sub_id not in {s.sub_id for s in _visible(session, principal)}:
        raise NotFound(str(sub_id))
    rows = session.exec(
        select(Delivery, OutboxEvent)
        .join(OutboxEvent, col(OutboxEvent.event_id) == col(Delivery.outbox_event_id))
        .where(col(Delivery.sub_id) == sub_id)
        .order_by(col(Delivery.id).desc())
        .limit(limit)
    )
    return [
        DeliveryPublic(
            alert_id=d.alert_id,
            case_id=d.case_id,
            routed_at=d.routed_at,
            published_at=o.published_at,
        )
        for d, o in rows
    ]


def deactivate(session: Session, sub_id: uuid.UUID, *, principal: Principal) -> None:
    """Stop routing alerts to a subscription (its history stays)."""
    for sub in _visible(session, principal):
        if sub.sub_id == sub_id:
            sub.active = False
            session.add(sub)
            session.commit()
            return
    raise NotFound(str(sub_id))


def matches(sub: Subscription, alert: Alert) -> bool:
    """Whether ``alert`` passes every filter of ``sub``."""
    checks = [
        not sub.severities or alert.severity.value in sub.severities.split(","),
        not sub.alert_types or alert.alert_type.value in sub.alert_types.split(","),
        sub.manufacturer_key is None
        or alert.device.manufacturer.casefold() == sub.manufacturer_key,
        sub.device_name is None or alert.device.name == sub.device_name,
        sub.category is None or alert.category == sub.category,
        sub.country is None or alert.country == sub.country,
    ]
    return all(checks)


def active_subscriptions(session: Session) -> list[Subscription]:
    """The subscriptions alerts are routed to."""
    return list(session.exec(select(Subscription).where(col(Subscription.active))))


def raise_alert(
    session: Session,
    alert: Alert,
    *,
    topic: str,
    key: str,
    subscriptions: Sequence[Subscription] | None = None,
) -> None:
    """Queue ``alert`` for the regulators' topic and every matching subscription (caller
    commits, so the alert exists exactly when the state it derives from does). A batch passes
    the ``subscriptions`` it read once."""
    payload = alert.model_dump_json()
    enqueue(
        session,
        event_id=str(alert.event_id),
        topic=topic,
        key=key,
        event_type=alert.alert_type.value,
        payload=payload,
    )
    route(session, alert, key=key, subscriptions=subscriptions, payload=payload)


def route(
    session: Session,
    alert: Alert,
    *,
    key: str,
    subscriptions: Sequence[Subscription] | None = None,
    payload: str | None = None,
) -> list[OutboxEvent]:
    """Outbox copies of ``alert`` (serialised as ``payload`` when the caller already did) for
    every matching active subscription (caller commits)."""
    copies = []
    if subscriptions is None:
        subscriptions = active_subscriptions(session)
    for sub in subscriptions:
        if not matches(sub, alert):
            continue
        outbox_id = str(uuid.uuid5(alert.event_id, sub.name))
        if payload is None:
            payload = alert.model_dump_json()
        copy = enqueue(
            session,
            event_id=outbox_id,
            topic=sub.topic,
            key=key,
            event_type=alert.alert_type.value,
            payload=payload,
        )
        session.add(
            Delivery(
                sub_id=sub.sub_id,
                alert_id=str(alert.event_id),
                outbox_event_id=outbox_id,
                case_id=alert.case_id,
                routed_at=utcnow(),
            )
        )
        copies.append(copy)
    return copies
