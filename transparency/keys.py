"""The log's Ed25519 note key: created with the log (and its empty checkpoint), kept in the
database, in a key file, or in a PKCS#11 token it never leaves (when one is configured for
signing keys as the log is created; `sealing/token_signing.py`); its public half is always in
`tlog_log_key`. A log keeps its key where it was created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from config.settings import Settings
from schemas.types import utcnow
from sealing.box import KEY_NOT_IN_ROW, TOKEN_KEY
from sealing.signing_keys import signing_token
from sealing.token_login import TokenSettings
from sealing.token_signing import TokenEd25519Key, generate_ed25519_key
from tlog.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from tlog.merkle import EMPTY_ROOT
from transparency import repository


class LogKeyError(RuntimeError):
    """The configured key is not the log's key (or is missing): the log must not be extended."""


@dataclass(frozen=True, slots=True)
class LogKeyPlace:
    """Where a new log's private key goes (a key file first, then a token, else the database),
    and where an existing log's is looked for. Plain values: it is pickled to the sequencer's
    child process."""

    key_file: str | None = None
    token: TokenSettings | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LogKeyPlace:
        return cls(settings.transparency_signing_key_file, signing_token(settings))

    @property
    def key_path(self) -> Path | None:
        return Path(self.key_file) if self.key_file else None


def read_key_file(path: Path) -> NoteSigner:
    return NoteSigner.from_signer_key(path.read_text("ascii").strip())


def write_key_file(path: Path, signer: NoteSigner) -> None:
    """Save a note signer key to a new file (an existing one is never overwritten)."""
    write_owner_only(path, signer.signer_key() + "\n")


def write_owner_only(path: Path, text: str) -> None:
    """Write a new file readable by its owner only (an existing one is never overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # created owner-only in one step: the key is never readable by others, even briefly
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as key_file:
        key_file.write(text)


def _new_key_file(path: Path, origin: str) -> NoteSigner:
    signer = NoteSigner.generate(origin)
    write_key_file(path, signer)
    return signer


def load_log_signer(conn: Connection, origin: str, place: LogKeyPlace) -> NoteSigner:
    """The log's signer, creating the log (key row and size-0 checkpoint) on first use.

    Call inside the sequencer's locked transaction so two workers never create two logs."""
    row = repository.log_key(conn)
    if row is not None:
        return _signer_of(row, place)
    key_file = place.key_path
    if key_file is not None:
        signer = read_key_file(key_file) if key_file.exists() else _new_key_file(key_file, origin)
        stored = None
    elif place.token is not None:
        stored = generate_ed25519_key(place.token)
        signer = NoteSigner(origin, TokenEd25519Key(place.token, stored))
    else:
        signer = NoteSigner.generate(origin)
        stored = signer.signer_key()
    _create_log(conn, signer, stored)
    return signer


def existing_log_signer(conn: Connection, place: LogKeyPlace) -> NoteSigner:
    """The signer of a log that exists (for signing exports); never creates one."""
    row = repository.log_key(conn)
    if row is None:
        raise LogKeyError("this database has no transparency log yet")
    return _signer_of(row, place)


def private_key_in_database(conn: Connection) -> bool:
    """Whether `tlog_log_key` holds the log's private key itself (not in a key file, not in a
    token): then whoever can write to the database can also re-sign a rewritten log, and only
    the witnesses' cosignatures show it."""
    row = repository.log_key(conn)
    stored: str | None = row["signer_key"] if row is not None else None
    return stored is not None and not stored.startswith(KEY_NOT_IN_ROW)


def _signer_of(row: Mapping[Any, Any], place: LogKeyPlace) -> NoteSigner:
    stored: str | None = row["signer_key"]
    key_file = place.key_path
    if key_file is not None:
        if not key_file.exists():
            raise LogKeyError(f"log key file {key_file} is missing; the log's key is on record")
        signer = read_key_file(key_file)
    elif stored is None:
        raise LogKeyError("the log's private key lives in a key file: set the key file setting")
    elif stored.startswith(TOKEN_KEY):
        signer = _token_signer(row["origin"], stored, place.token)
    else:
        signer = NoteSigner.from_signer_key(stored)
    if signer.verifier().verifier_key() != row["verifier_key"]:
        raise LogKeyError("the configured key is not this log's key")
    return signer


def _token_signer(origin: str, stored: str, token: TokenSettings | None) -> NoteSigner:
    if token is None:
        raise LogKeyError("the log's private key is in a PKCS#11 token: set SANAD_SEALING_PKCS11_*")
    try:
        return NoteSigner(origin, TokenEd25519Key(token, stored))
    except ValueError as exc:  # the token, its PIN or the key refused
        raise LogKeyError(str(exc)) from None


def _create_log(conn: Connection, signer: NoteSigner, stored: str | None) -> None:
    """The log's key row (`stored`: its private key as the database keeps it, if it does)
    and its size-0 checkpoint."""
    now = utcnow()
    repository.insert_log_key(
        conn,
        {
            "origin": signer.name,
            "verifier_key": signer.verifier().verifier_key(),
            "signer_key": stored,
            "created_at": now,
        },
    )
    empty = Checkpoint(signer.name, 0, EMPTY_ROOT)
    repository.insert_checkpoint(
        conn,
        {
            "size": 0,
            "root_hash": EMPTY_ROOT,
            "created_at": now,
            "signed_note": sign_checkpoint(empty, signer).decode(),
        },
    )
