"""Routes of the audit transparency log: checkpoints, proofs, witnesses and cosignatures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import PlainTextResponse, Response

from api.deps import Access, AuditDep, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from schemas.transparency import (
    CheckpointPublic,
    ConsistencyProof,
    CosignatureSubmission,
    InclusionProof,
    WitnessCreate,
    WitnessList,
    WitnessPublic,
    WitnessRevocationCreate,
)
from transparency import service

router = APIRouter(prefix="/audit", tags=["transparency log"], route_class=ProtocolRoute)
TreeSize = Annotated[int, Path(ge=0, le=2**63 - 1)]
_NOTE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The checkpoint; `Accept: text/plain` gets the signed note text alone",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


def _negotiated(found: CheckpointPublic, accept: str | None) -> CheckpointPublic | Response:
    if accept and "text/plain" in accept and "application/json" not in accept:
        return PlainTextResponse(found.note)
    return found


@router.get(
    "/checkpoints/latest",
    name="get_latest_checkpoint",
    response_model=CheckpointPublic,
    responses={**_NOTE_RESPONSE, **problem_responses(401, 403, 404)},
)
async def get_latest_checkpoint(
    access: Access, session: SessionDep, accept: Annotated[str | None, Header()] = None
) -> CheckpointPublic | Response:
    """The newest signed checkpoint (C2SP tlog-checkpoint) and the cosignatures it has so far."""
    return _negotiated(await service.checkpoint(session, None), accept)


@router.get(
    "/checkpoints/{size}",
    name="get_checkpoint",
    response_model=CheckpointPublic,
    responses={**_NOTE_RESPONSE, **problem_responses(401, 403, 404, 422)},
)
async def get_checkpoint(
    size: TreeSize,
    access: Access,
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
) -> CheckpointPublic | Response:
    """The checkpoint of a given tree size, with every cosignature received for it."""
    return _negotiated(await service.checkpoint(session, size), accept)


@router.get(
    "/proofs/inclusion",
    name="get_inclusion_proof",
    response_model=InclusionProof,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_inclusion_proof(
    access: Access,
    session: SessionDep,
    leaf_index: Annotated[int, Query(ge=0, le=2**63 - 2)],
    tree_size: Annotated[int, Query(ge=1, le=2**63 - 1)],
) -> InclusionProof:
    """RFC 9162 inclusion proof of a leaf (an audit event's `leaf_index`) in a tree size."""
    return await service.inclusion(session, leaf_index, tree_size)


@router.get(
    "/proofs/consistency",
    name="get_consistency_proof",
    response_model=ConsistencyProof,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_consistency_proof(
    access: Access,
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=2**63 - 1)],
    second: Annotated[int, Query(ge=1, le=2**63 - 1)],
) -> ConsistencyProof:
    """RFC 9162 consistency proof that the tree of size `second` extends that of `first`."""
    return await service.consistency(session, first, second)


@router.post(
    "/checkpoints/{size}/cosignatures",
    name="add_cosignature",
    status_code=201,
    response_model=CheckpointPublic,
    responses=problem_responses(401, 403, 404, 422),
)
async def add_cosignature(
    size: TreeSize,
    body: CosignatureSubmission,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
) -> CheckpointPublic:
    """A witness of the caller's agency cosigns a checkpoint it found consistent with the last
    one it cosigned: send the note as served with the cosignature line appended."""
    return await service.add_cosignature(session, access, audit, size, body)


@router.post(
    "/witnesses",
    name="register_witness",
    status_code=201,
    response_model=WitnessPublic,
    responses=problem_responses(401, 403, 409, 422),
)
async def register_witness(
    body: WitnessCreate, access: Access, session: SessionDep, audit: AuditDep
) -> WitnessPublic:
    """Register a witness key (tlog-cosignature/v1 verifier key) for the caller's agency."""
    return await service.register_witness(session, access, audit, body)


@router.post(
    "/witnesses/{witness_id}/revocation",
    name="revoke_witness",
    response_model=WitnessPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def revoke_witness(
    witness_id: Annotated[str, Path(max_length=36)],
    body: WitnessRevocationCreate,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
) -> WitnessPublic:
    """Revoke a witness key of the caller's agency whose private key was lost or leaked: its
    cosignatures, earlier ones included, count nowhere from now on. A revoked key stays
    revoked; register a new key for the witness."""
    return await service.revoke_witness(session, access, audit, witness_id, body)


@router.get(
    "/witnesses",
    name="list_witnesses",
    response_model=WitnessList,
    responses=problem_responses(401, 403),
)
async def list_witnesses(access: Access, session: SessionDep) -> WitnessList:
    """Every registered witness key, with its agency."""
    return await service.list_witnesses(session)
