"""List routes: create a list, list the lists a caller owns or receives, read one list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import Access, AuditDep, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from exchange import service
from schemas.lists import ExchangeListCreate, ExchangeListPage, ExchangeListPublic
from schemas.records import PRINTABLE_PATTERN

router = APIRouter(prefix="/lists", tags=["lists"], route_class=ProtocolRoute)


@router.post(
    "",
    name="create_list",
    status_code=201,
    response_model=ExchangeListPublic,
    responses=problem_responses(401, 403, 422),
)
async def create_list(
    body: ExchangeListCreate, access: Access, session: SessionDep, audit: AuditDep
) -> ExchangeListPublic:
    return await service.create_list(session, access, audit, body)


@router.get(
    "",
    name="list_lists",
    response_model=ExchangeListPage,
    responses=problem_responses(401, 403),
)
async def list_lists(access: Access, session: SessionDep) -> ExchangeListPage:
    return await service.list_lists(session, access)


@router.get(
    "/{list_id}",
    name="get_list",
    response_model=ExchangeListPublic,
    responses=problem_responses(401, 403, 404),
)
async def get_list(
    list_id: Annotated[str, Path(max_length=36, pattern=PRINTABLE_PATTERN)],
    access: Access,
    session: SessionDep,
) -> ExchangeListPublic:
    return await service.get_list(session, access, list_id)
