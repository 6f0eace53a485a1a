"""An agency's witness, run on the agency's own machine: fetch the log's latest checkpoint with
the agency's OAuth client, verify the log signature and a consistency proof from the checkpoint
this witness last cosigned (kept in a local state file), then cosign and post. Any
contradiction raises WitnessAlarm and the evidence is written next to the state file."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from tlog.checkpoint import (
    NoteError,
    NoteSigner,
    NoteVerifier,
    VerifiedCheckpoint,
    cosign_checkpoint,
    open_checkpoint,
)
from tlog.merkle import ProofError, verify_consistency

WITNESS_SCOPE = "audit:read"  # reads checkpoints and proofs, posts cosignatures
REGISTRATION_SCOPE = "admin"  # an agency admin registers its witness key


class WitnessAlarm(Exception):  # noqa: N818 (an alarm, not a programming error)
    """The log contradicts a checkpoint this witness cosigned: it was rewritten, truncated or
    forked, or its signature is forged. The log must not be trusted."""


class WitnessError(Exception):
    """The round could not be completed (network, credentials, refusal); nothing was signed."""


@dataclass(frozen=True, slots=True)
class WitnessState:
    """What the witness last cosigned; it never cosigns anything inconsistent with it."""

    origin: str
    log_key: str
    size: int
    root_hash: str  # standard base64
    note: str  # the checkpoint as cosigned by this witness

    @classmethod
    def load(cls, path: Path) -> WitnessState | None:
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return cls(**data)

    def save(self, path: Path) -> None:
        """Atomically (write, fsync, rename): a crash leaves the old state or the new one."""
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)


@dataclass(frozen=True, slots=True)
class WitnessConfig:
    client_id: str
    client_secret: str
    signer: NoteSigner  # signature type COSIGNATURE_V1
    state_path: Path
    log_key: str | None = None  # pinned verifier key; needed on the first run


@dataclass(frozen=True, slots=True)
class WitnessOutcome:
    size: int
    cosigned: bool
    message: str


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _alarm(config: WitnessConfig, message: str, evidence: dict[str, Any]) -> WitnessAlarm:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    record = config.state_path.with_name(f"{config.state_path.name}.alarm-{stamp}.json")
    record.write_text(json.dumps({"alarm": message, **evidence}, indent=2), "utf-8")
    return WitnessAlarm(f"{message} (evidence kept in {record})")


async def _token(http: httpx.AsyncClient, client_id: str, secret: str, scope: str) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
    )
    if response.status_code != 200:
        raise WitnessError(f"token request refused ({response.status_code})")
    token: str = response.json()["access_token"]
    return token


async def register_witness_key(
    http: httpx.AsyncClient, client_id: str, secret: str, signer: NoteSigner
) -> dict[str, Any]:
    """Register the witness's public key for the agency of an admin-scoped client."""
    body = {"verifier_key": signer.verifier().verifier_key()}
    return await _as_admin(http, client_id, secret, "/v1/audit/witnesses", body, "registration")


async def revoke_witness_key(
    http: httpx.AsyncClient, client_id: str, secret: str, witness_id: str, reason: str
) -> dict[str, Any]:
    """Revoke a witness key of the admin-scoped client's agency (its private key was lost or
    leaked): its cosignatures count nowhere from then on."""
    path = f"/v1/audit/witnesses/{witness_id}/revocation"
    return await _as_admin(http, client_id, secret, path, {"reason": reason}, "revocation")


async def _as_admin(
    http: httpx.AsyncClient,
    client_id: str,
    secret: str,
    path: str,
    body: dict[str, str],
    what: str,
) -> dict[str, Any]:
    token = await _token(http, client_id, secret, REGISTRATION_SCOPE)
    response = await http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code not in (200, 201):
        raise WitnessError(f"{what} refused ({response.status_code}): {response.text[:300]}")
    answer: dict[str, Any] = response.json()
    return answer


async def _get(http: httpx.AsyncClient, token: str, path: str, **params: int) -> Any:
    response = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        raise WitnessError(f"GET {path} failed ({response.status_code}): {response.text[:200]}")
    return response.json()


def _open(note: str, config: WitnessConfig, log_key: str, origin: str | None) -> VerifiedCheckpoint:
    try:
        return open_checkpoint(note.encode(), NoteVerifier.from_verifier_key(log_key), (), origin)
    except NoteError as exc:
        raise _alarm(
            config, f"the checkpoint is not validly signed by the log: {exc}", {"note": note}
        ) from None


def _same_key(given: str, pinned: str) -> bool:
    """One key, however its key id's hex is cased (tlog.checkpoint.NoteVerifier)."""
    try:
        return NoteVerifier.from_verifier_key(given) == NoteVerifier.from_verifier_key(pinned)
    except ValueError:
        return False


async def witness_once(
    http: httpx.AsyncClient, config: WitnessConfig, clock: Callable[[], float] = time.time
) -> WitnessOutcome:
    """One witnessing round against the server `http` points at."""
    state = WitnessState.load(config.state_path)
    log_key = state.log_key if state else config.log_key
    if log_key is None:
        raise WitnessError("first run: pin the log's verifier key (--log-key)")
    if state and config.log_key and not _same_key(config.log_key, state.log_key):
        raise _alarm(config, "the given log key differs from the one this witness pinned", {})
    token = await _token(http, config.client_id, config.client_secret, WITNESS_SCOPE)
    latest = await _get(http, token, "/v1/audit/checkpoints/latest")
    note: str = latest["note"]
    checkpoint = _open(note, config, log_key, state.origin if state else None).checkpoint
    if state is not None:
        old_root = base64.b64decode(state.root_hash)
        if checkpoint.size < state.size:
            raise _alarm(
                config,
                f"the log shrank from {state.size} to {checkpoint.size} leaves (truncated)",
                {"cosigned": state.note, "served": note},
            )
        if checkpoint.size == state.size:
            if checkpoint.root_hash != old_root:
                raise _alarm(
                    config,
                    f"two different trees of size {state.size} (the log forked or was rewritten)",
                    {"cosigned": state.note, "served": note},
                )
            await _post(http, token, config, state.size, state.note)  # idempotent re-post
            return WitnessOutcome(state.size, False, f"already cosigned size {state.size}")
        if state.size > 0:
            proof = await _get(
                http,
                token,
                "/v1/audit/proofs/consistency",
                first=state.size,
                second=checkpoint.size,
            )
            hashes = [base64.b64decode(h) for h in proof["proof"]]
            try:
                verify_consistency(
                    state.size, checkpoint.size, hashes, old_root, checkpoint.root_hash
                )
            except ProofError as exc:
                raise _alarm(
                    config,
                    f"size {checkpoint.size} is not consistent with the cosigned size "
                    f"{state.size}: {exc} (entries were altered, removed or reordered)",
                    {"cosigned": state.note, "served": note, "proof": proof["proof"]},
                ) from None
    cosigned = cosign_checkpoint(note.encode(), config.signer, int(clock())).decode()
    # remember before publishing: this witness must never sign a branch it later contradicts
    WitnessState(
        checkpoint.origin, log_key, checkpoint.size, _b64(checkpoint.root_hash), cosigned
    ).save(config.state_path)
    await _post(http, token, config, checkpoint.size, cosigned)
    return WitnessOutcome(checkpoint.size, True, f"cosigned size {checkpoint.size}")


async def _post(
    http: httpx.AsyncClient, token: str, config: WitnessConfig, size: int, note: str
) -> None:
    response = await http.post(
        f"/v1/audit/checkpoints/{size}/cosignatures",
        json={"note": note},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code not in (200, 201):
        raise WitnessError(f"cosignature refused ({response.status_code}): {response.text[:300]}")
