"""An agency admin's management of its own OAuth clients: register, list, disable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Access, AuditDep, ServicesDep, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from audit.writer import commit_with_audit
from auth.clients import (
    agency_clients,
    client_public,
    disable_client,
    issue_secret,
    register_client,
)
from schemas.identity import ClientCreate, ClientCreated, ClientPublic

router = APIRouter(tags=["clients"], route_class=ProtocolRoute)

ClientId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


@router.post(
    "/clients",
    name="create_client",
    status_code=201,
    response_model=ClientCreated,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_client(
    body: ClientCreate,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    services: ServicesDep,
    response: Response,
) -> ClientCreated:
    """Register a partner system or a named liaison in the caller's agency. A
    `client_secret_basic` client's secret is in this response and nowhere else, ever."""
    caller = access.principal
    # hashing takes tens of milliseconds: off the event loop
    issued = (
        await run_in_threadpool(issue_secret) if body.auth_method == "client_secret_basic" else None
    )
    # a token of another issuer has no client row here: its own scopes bound a liaison's
    foreign = caller.issuer != services.settings.issuer
    client, secret = await session.run_sync(
        lambda sync: register_client(
            sync,
            caller.agency_id,
            body,
            caller.client_id,
            creator_scopes=caller.scopes if foreign else None,
            settings=services.settings,
            issued_secret=issued,
        )
    )
    created = ClientCreated(**client_public(client).model_dump(), client_secret=secret)
    audit.names(client_id=client.id)
    await commit_with_audit(session, audit, 201)
    response.headers["Cache-Control"] = "no-store"
    return created


@router.get(
    "/clients",
    name="list_clients",
    response_model=list[ClientPublic],
    responses=problem_responses(401, 403),
)
async def list_clients(access: Access, session: SessionDep) -> list[ClientPublic]:
    """The caller's agency's clients (never a secret or its hash)."""
    return await agency_clients(session, access.principal.agency_id)


@router.post(
    "/clients/{client_id}/disable",
    name="disable_client",
    response_model=ClientPublic,
    responses=problem_responses(401, 403, 404),
)
async def disable(
    client_id: ClientId,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    services: ServicesDep,
) -> ClientPublic:
    """Disable a client of the caller's agency: no new tokens, and its live tokens are refused
    (at once in this worker, within the revocation poll interval in the others)."""
    agency_id, by = access.principal.agency_id, access.principal.client_id
    client = await session.run_sync(lambda sync: disable_client(sync, agency_id, client_id, by))
    public = client_public(client)
    await commit_with_audit(session, audit, 200)
    services.token_verifier.note_disabled(client_id)
    return public
