"""Webhook subscriptions: create, list, disable, read the delivery log, replay."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import Access, AuditDep, ServicesDep, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from changes import subscriptions as service
from schemas.changes import (
    DeliveryPage,
    ReplayRequest,
    ReplayResult,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
)

router = APIRouter(prefix="/subscriptions", tags=["webhooks"], route_class=ProtocolRoute)


@router.post(
    "",
    name="create_subscription",
    status_code=201,
    response_model=SubscriptionCreated,
    responses=problem_responses(401, 403, 422),
)
async def create_subscription(
    body: SubscriptionCreate,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    services: ServicesDep,
) -> SubscriptionCreated:
    networks = services.webhooks.settings.networks()
    return await service.create_subscription(session, access, audit, body, networks)


@router.get(
    "",
    name="list_subscriptions",
    response_model=list[SubscriptionPublic],
    responses=problem_responses(401, 403),
)
async def list_subscriptions(access: Access, session: SessionDep) -> list[SubscriptionPublic]:
    return await service.list_subscriptions(session, access)


@router.delete(
    "/{subscription_id}",
    name="disable_subscription",
    response_model=SubscriptionPublic,
    responses=problem_responses(401, 403, 404),
)
async def disable_subscription(
    subscription_id: str, access: Access, session: SessionDep, audit: AuditDep
) -> SubscriptionPublic:
    return await service.disable_subscription(session, access, audit, subscription_id)


@router.get(
    "/{subscription_id}/deliveries",
    name="list_deliveries",
    response_model=DeliveryPage,
    responses=problem_responses(401, 403, 404, 422),
)
async def list_deliveries(
    subscription_id: str,
    access: Access,
    session: SessionDep,
    status: Literal["pending", "delivered", "dead"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryPage:
    return await service.delivery_log(session, access, subscription_id, status, limit)


@router.post(
    "/{subscription_id}/replays",
    name="replay_deliveries",
    response_model=ReplayResult,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def replay_deliveries(
    subscription_id: str,
    body: ReplayRequest,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
) -> ReplayResult:
    return await service.replay(session, access, audit, subscription_id, body)
