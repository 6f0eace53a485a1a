"""The change feed, acknowledgements, and a change's delivery status for its owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Access, AuditDep, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from changes import service
from schemas.changes import AcknowledgementPublic, ChangePage, ChangeStatus, ChangeType

router = APIRouter(prefix="/changes", tags=["changes"], route_class=ProtocolRoute)


@router.get(
    "",
    name="list_changes",
    response_model=ChangePage,
    responses=problem_responses(401, 403, 422),
)
async def list_changes(
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    since: Annotated[str | None, Query(max_length=20, description="cursor; omit to start")] = None,
    type: Annotated[list[ChangeType] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.DEFAULT_PAGE,
) -> ChangePage:
    return await service.read_feed(session, access, audit, since, type, limit)


@router.get(
    "/{change_id}",
    name="get_change",
    response_model=ChangeStatus,
    responses=problem_responses(401, 403, 404),
)
async def get_change(
    change_id: str, access: Access, session: SessionDep, audit: AuditDep
) -> ChangeStatus:
    return await service.change_status(session, access, audit, change_id)


@router.post(
    "/{change_id}/acknowledgements",
    name="acknowledge_change",
    response_model=AcknowledgementPublic,
    responses=problem_responses(401, 403, 404, 409),
)
async def acknowledge_change(
    change_id: str, access: Access, session: SessionDep, audit: AuditDep
) -> AcknowledgementPublic:
    return await service.acknowledge(session, access, audit, change_id)
