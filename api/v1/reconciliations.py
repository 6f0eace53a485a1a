"""Reconciliation routes: start a run, follow it, page through links, discrepancies and
conflicts, read the report, and confirm or reject links. Thin: parse, authorise, call
reconcile.service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import Access, AuditDep, ServicesDep, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from problems import ProblemError
from reconcile import reporting, service
from schemas.reconciliation import (
    ConflictPage,
    DiscrepancyPage,
    LinkDecisionCreate,
    LinkPage,
    LinkPublic,
    ReconciliationCreate,
    ReconciliationPublic,
)

router = APIRouter(tags=["reconciliation"], route_class=ProtocolRoute)
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=200)]
Probability = Annotated[float | None, Query(ge=0.0, le=1.0)]


@router.post(
    "/reconciliations",
    name="create_reconciliation",
    status_code=202,
    response_model=ReconciliationPublic,
    responses=problem_responses(401, 403, 404),
)
async def create_reconciliation(
    body: ReconciliationCreate,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    services: ServicesDep,
) -> ReconciliationPublic:
    runner = services.reconciliation_runner
    if runner is None:
        raise ProblemError("not-ready", "reconciliation jobs are not running in this process")
    return await service.start(session, access, audit, body, runner)


@router.get(
    "/reconciliations/{reconciliation_id}",
    name="get_reconciliation",
    response_model=ReconciliationPublic,
    responses=problem_responses(401, 403, 404),
)
async def get_reconciliation(
    reconciliation_id: str, access: Access, session: SessionDep
) -> ReconciliationPublic:
    return await service.get(session, access, reconciliation_id)


@router.get(
    "/reconciliations/{reconciliation_id}/links",
    name="list_reconciliation_links",
    response_model=LinkPage,
    responses=problem_responses(401, 403, 404),
)
async def list_reconciliation_links(
    reconciliation_id: str,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    decision: Literal["accepted", "review", "confirmed", "rejected"] | None = None,
    min_probability: Probability = None,
    max_probability: Probability = None,
    held_for_conflict: Annotated[
        bool | None,
        Query(description="only links a three-way conflict holds for review (true) or not"),
    ] = None,
    status: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="only links one of whose records has this status (e.g. `detained`), "
            "on the lists whose status the caller's agreement shows; 422 where it shows none",
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> LinkPage:
    """The run's links, most probable first, each with its evidence and both records as the
    caller's agreements show them; filter the review queue by `decision=review`, by a band of
    `min_probability`/`max_probability`, or by a record's `status` to see detained people first."""
    items, next_cursor = await service.links(
        session,
        access,
        audit,
        reconciliation_id,
        decision=decision,
        min_probability=min_probability,
        max_probability=max_probability,
        cursor=cursor,
        limit=limit,
        held_for_conflict=held_for_conflict,
        status=status,
    )
    return LinkPage(items=items, next_cursor=next_cursor)


@router.get(
    "/reconciliations/{reconciliation_id}/discrepancies",
    name="list_reconciliation_discrepancies",
    response_model=DiscrepancyPage,
    responses=problem_responses(401, 403, 404),
)
async def list_reconciliation_discrepancies(
    reconciliation_id: str,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DiscrepancyPage:
    items, next_cursor = await service.discrepancies(
        session, access, audit, reconciliation_id, cursor, limit
    )
    return DiscrepancyPage(items=items, next_cursor=next_cursor)


@router.get(
    "/reconciliations/{reconciliation_id}/conflicts",
    name="list_reconciliation_conflicts",
    response_model=ConflictPage,
    responses=problem_responses(401, 403, 404),
)
async def list_reconciliation_conflicts(
    reconciliation_id: str,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ConflictPage:
    """Records linked together that cannot be one person, each with the links among them."""
    items, next_cursor = await service.conflicts(
        session, access, audit, reconciliation_id, cursor, limit
    )
    return ConflictPage(items=items, next_cursor=next_cursor)


@router.get(
    "/reconciliations/{reconciliation_id}/report",
    name="reconciliation_report",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **problem_responses(401, 403, 404)},
)
async def reconciliation_report(
    reconciliation_id: str, access: Access, session: SessionDep
) -> HTMLResponse:
    """The run's report for an official to read: its lists and how many of their records were
    found, what was decided about the links, a chart of links by probability and decision,
    statuses of the people found where the caller's agreement shows them, and what the records
    lack. Counts only: no name, no record."""
    return HTMLResponse(await reporting.report(session, access, reconciliation_id))


@router.post(
    "/links/{link_id}/decisions",
    name="decide_link",
    response_model=LinkPublic,
    responses=problem_responses(401, 403, 404),
)
async def decide_link(
    link_id: str, body: LinkDecisionCreate, access: Access, session: SessionDep, audit: AuditDep
) -> LinkPublic:
    return await service.decide(session, access, audit, link_id, body)
