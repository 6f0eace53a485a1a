"""What the API offers of the log: checkpoints with their cosignatures, inclusion and
consistency proofs from stored nodes, witness registration and cosignature intake."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from problems import ProblemError
from schemas.transparency import (
    CheckpointPublic,
    ConsistencyProof,
    CosignaturePublic,
    CosignatureSubmission,
    InclusionProof,
    WitnessCreate,
    WitnessList,
    WitnessPublic,
    WitnessRevocationCreate,
)
from schemas.types import utcnow
from tlog.checkpoint import (
    NoteError,
    NoteVerifier,
    SignatureType,
    open_note,
    parse_note,
)
from tlog.merkle import NodeMap, NodeReader, consistency_proof, inclusion_proof, nodes_needed
from transparency import repository
from transparency.notes import b64, cosigned_note

_MAX_WITNESS_NAME = 200  # tlog_witness.name


async def _log_key(session: AsyncSession) -> RowMapping:
    key = await repository.log_key_public(session)
    if key is None:
        raise ProblemError("not-found", "the log has not been created yet")
    return key


async def checkpoint(session: AsyncSession, size: int | None) -> CheckpointPublic:
    """The checkpoint of that size (latest when None) with every cosignature received."""
    key = await _log_key(session)
    row = await repository.checkpoint_at(session, size)
    if row is None:
        raise ProblemError("not-found", f"no checkpoint of size {size}")
    cosignatures = await repository.cosignatures_at(session, row["size"])
    return CheckpointPublic(
        origin=key["origin"],
        size=row["size"],
        root_hash=b64(row["root_hash"]),
        created_at=row["created_at"],
        log_key=key["verifier_key"],
        note=cosigned_note(row["signed_note"], cosignatures),
        cosignatures=[
            CosignaturePublic(
                witness_id=c["witness_id"],
                witness_name=c["name"],
                agency_id=c["agency_id"],
                timestamp=c["timestamp"],
            )
            for c in cosignatures
        ],
    )


async def _prove(
    session: AsyncSession,
    computation: Callable[[NodeReader], list[bytes]],
    extra: list[tuple[int, int]],
    size: int,
    name: str,
) -> tuple[list[bytes], dict[tuple[int, int], bytes]]:
    """Run a proof computation over nodes fetched in one round trip (plus `extra` nodes).
    Leaf size - 1 is fetched too: it exists exactly when the log has `size` leaves (batches
    commit leaves, nodes and checkpoint together), so no query for the log's size is needed."""
    last_leaf = (0, size - 1)
    wanted = [*nodes_needed(computation), *extra, last_leaf]
    nodes = await repository.fetch_nodes_async(session, wanted)
    try:
        if last_leaf not in nodes:
            raise KeyError(last_leaf)
        return computation(NodeMap(nodes)), nodes
    except KeyError:
        raise ProblemError(
            "not-found",
            f"the log has fewer than {size} leaves so far",
            invalid_params=[{"name": name, "reason": "beyond the latest checkpoint"}],
        ) from None


async def inclusion(session: AsyncSession, leaf_index: int, tree_size: int) -> InclusionProof:
    if leaf_index >= tree_size:
        raise ProblemError(
            "validation-failed",
            "leaf_index must be below tree_size",
            invalid_params=[{"name": "leaf_index", "reason": "not below tree_size"}],
        )
    proof, nodes = await _prove(
        session,
        lambda reader: inclusion_proof(reader, leaf_index, tree_size),
        [(0, leaf_index)],
        tree_size,
        "tree_size",
    )
    return InclusionProof(
        leaf_index=leaf_index,
        tree_size=tree_size,
        leaf_hash=b64(nodes[(0, leaf_index)]),
        proof=[b64(h) for h in proof],
    )


async def consistency(session: AsyncSession, first: int, second: int) -> ConsistencyProof:
    if first > second:
        raise ProblemError(
            "validation-failed",
            "first must not exceed second",
            invalid_params=[{"name": "first", "reason": "greater than second"}],
        )
    proof, _ = await _prove(
        session, lambda reader: consistency_proof(reader, first, second), [], second, "second"
    )
    return ConsistencyProof(first=first, second=second, proof=[b64(h) for h in proof])


def _refused(detail: str) -> ProblemError:
    return ProblemError("cosignature-refused", detail)


def _witness_public(row: RowMapping) -> WitnessPublic:
    return WitnessPublic.model_validate(dict(row))


async def list_witnesses(session: AsyncSession) -> WitnessList:
    """Every registered witness key: they are public, and verifiers need all of them."""
    rows = await repository.witnesses_of(session, None)
    return WitnessList(items=[_witness_public(row) for row in rows])


async def register_witness(
    session: AsyncSession, access: AccessContext, audit: AuditContext, data: WitnessCreate
) -> WitnessPublic:
    """An agency admin registers a witness key that cosigns on the agency's behalf."""
    try:
        verifier = NoteVerifier.from_verifier_key(data.verifier_key)
    except NoteError as exc:
        raise ProblemError(
            "validation-failed",
            f"not a note verifier key: {exc}",
            invalid_params=[{"name": "verifier_key", "reason": "malformed"}],
        ) from None
    if len(verifier.name) > _MAX_WITNESS_NAME or not verifier.name.isprintable():
        raise ProblemError(
            "validation-failed",
            f"a witness name is printable and at most {_MAX_WITNESS_NAME} characters",
            invalid_params=[{"name": "verifier_key", "reason": "bad key name"}],
        )
    if verifier.signature_type is not SignatureType.COSIGNATURE_V1:
        raise ProblemError(
            "validation-failed",
            "a witness key is a tlog-cosignature/v1 key (signature type 0x04)",
            invalid_params=[{"name": "verifier_key", "reason": "not a cosignature key"}],
        )
    key = await _log_key(session)
    if verifier.name == key["origin"]:
        raise ProblemError("conflict", "a witness key may not use the log's own name")
    key_id = verifier.key_id.hex()
    # By the key, not the string: its hex key id may be spelled in either case, and the same
    # public key under another name verifies the same cosignatures.
    found = await repository.witness_by_identity(
        session, verifier.public_key, verifier.name, key_id
    )
    if found is not None:
        raise _registered(found)
    row = {
        "id": str(uuid.uuid4()),
        "agency_id": access.principal.agency_id,
        "name": verifier.name,
        "key_id": key_id,
        "verifier_key": verifier.verifier_key(),  # canonical: lower-case key id
        "public_key": verifier.public_key,
        "created_at": utcnow(),
        "created_by_client_id": access.principal.client_id,
    }
    try:
        await repository.insert_witness(session, row)
    except IntegrityError:
        # registered meanwhile by another request: the unique indexes decide, race-free
        await session.rollback()
        raise ProblemError("conflict", "this witness key is already registered") from None
    audit.names(witness_id=str(row["id"]))
    await commit_with_audit(session, audit, 201)
    return WitnessPublic.model_validate(row)


def _registered(found: RowMapping) -> ProblemError:
    if found["revoked_at"] is not None:
        return ProblemError(
            "conflict",
            "this witness key was revoked and can never be registered again: make a new key",
        )
    return ProblemError(
        "conflict", f"this witness key is already registered, by agency {found['agency_id']}"
    )


async def revoke_witness(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    witness_id: str,
    data: WitnessRevocationCreate,
) -> WitnessPublic:
    """An agency admin revokes one of the agency's witness keys, for good: its cosignatures,
    earlier ones included, no longer count (the key may have cosigned a forked log)."""
    found = await repository.witness(session, witness_id)
    if found is None or found["agency_id"] != access.principal.agency_id:
        raise ProblemError("not-found", "no such witness key of the caller's agency")
    revocation = {
        "witness_id": witness_id,
        "revoked_at": utcnow(),
        "revoked_by_client_id": access.principal.client_id,
        "reason": data.reason,
    }
    # the primary key keeps the first revocation, a request's at once included
    if not await repository.insert_witness_revocation(session, revocation):
        raise ProblemError("conflict", "this witness key is already revoked")
    await commit_with_audit(session, audit, 200)
    return WitnessPublic.model_validate(
        {**found, "revoked_at": revocation["revoked_at"], "revocation_reason": data.reason}
    )


async def add_cosignature(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    size: int,
    submission: CosignatureSubmission,
) -> CheckpointPublic:
    """Record the cosignatures that witnesses of the caller's agency put on our checkpoint.

    The witness checked consistency before signing; here we check that the note is exactly
    our checkpoint of that size, our signature on it holds, and each cosignature verifies
    under a key the caller's own agency registered."""
    key = await _log_key(session)
    stored = await repository.checkpoint_at(session, size)
    if stored is None:
        raise ProblemError("not-found", f"no checkpoint of size {size}")
    try:
        submitted = submission.note.encode("utf-8", errors="strict")
        if parse_note(submitted).text != parse_note(stored["signed_note"].encode()).text:
            raise _refused(f"the note is not this log's checkpoint of size {size}")
        witnesses = await repository.witnesses_of(
            session, access.principal.agency_id, in_force=True
        )
        by_identity = {
            (NoteVerifier.from_verifier_key(w["verifier_key"]).key_id, w["name"]): w
            for w in witnesses
        }
        verifiers = [NoteVerifier.from_verifier_key(w["verifier_key"]) for w in witnesses]
        log_verifier = NoteVerifier.from_verifier_key(key["verifier_key"])
        opened = open_note(submitted, [log_verifier, *verifiers])
    except (NoteError, UnicodeEncodeError) as exc:
        raise _refused(str(exc)) from None
    signatures = {(sig.key_id, sig.name): sig for sig in parse_note(submitted).signatures}
    accepted = [
        sig
        for sig in opened.verified
        if sig.signature_type is SignatureType.COSIGNATURE_V1
        and (sig.key_id, sig.name) in by_identity
    ]
    if not accepted:
        raise _refused(
            "no cosignature by a witness key the caller's agency registered and has not revoked"
        )
    now = utcnow()
    for sig in accepted:
        witness = by_identity[(sig.key_id, sig.name)]
        if await repository.has_cosignature(session, size, witness["id"]):
            continue  # a witness re-posting its cosignature changes nothing
        # nor does one posted twice at once: the first is kept
        await repository.insert_cosignature(
            session,
            {
                "size": size,
                "witness_id": witness["id"],
                "timestamp": sig.timestamp,
                "signature": sig.key_id + signatures[(sig.key_id, sig.name)].signature,
                "received_at": now,
            },
        )
    await commit_with_audit(session, audit, 201)
    return await checkpoint(session, size)
