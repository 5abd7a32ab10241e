"""Registry API of regulator subscriptions."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from services.registry.deps import PrincipalDep, SessionDep, SettingsDep
from services.registry.subscriptions import service
from services.registry.subscriptions.models import (
    DeliveryPublic,
    SubscriptionCreate,
    SubscriptionPublic,
)

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid API token"},
    403: {"description": "Only regulators and administrators subscribe"},
}


@router.post(
    "",
    response_model=SubscriptionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={**_ERRORS, 409: {"description": "Name taken"}},
)
def subscribe(
    body: SubscriptionCreate, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> SubscriptionPublic:
    """Declare filters; matching alerts are published to the returned topic."""
    return service.create(session, body, principal=principal, alerts_topic=settings.topics.alerts)


@router.get("", response_model=list[SubscriptionPublic], responses=_ERRORS)
def my_subscriptions(session: SessionDep, principal: PrincipalDep) -> list[SubscriptionPublic]:
    """The caller's subscriptions."""
    return service.list_for(session, principal=principal)


@router.get(
    "/{sub_id}/deliveries",
    response_model=list[DeliveryPublic],
    responses={**_ERRORS, 404: {"description": "No such subscription"}},
)
def deliveries(
    sub_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> list[DeliveryPublic]:
    """Alerts routed to the subscription and when each reached Kafka."""
    return service.deliveries(session, sub_id, principal=principal)


@router.delete(
    "/{sub_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_ERRORS, 404: {"description": "No such subscription"}},
)
def unsubscribe(sub_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> None:
    """Stop the subscription."""
    service.deactivate(session, sub_id, principal=principal)
