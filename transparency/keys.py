"""The log's Ed25519 note key: created with the log (and its empty checkpoint), kept either in
the database or in a key file; its public half is always in `tlog_log_key`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from schemas.types import utcnow
from tlog.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from tlog.merkle import EMPTY_ROOT
from transparency import repository


class LogKeyError(RuntimeError):
    """The configured key is not the log's key (or is missing): the log must not be extended."""


def read_key_file(path: Path) -> NoteSigner:
    return NoteSigner.from_signer_key(path.read_text("ascii").strip())


def write_key_file(path: Path, signer: NoteSigner) -> None:
    """Save a note signer key to a new file (an existing one is never overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # created owner-only in one step: the key is never readable by others, even briefly
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
        key_file.write(signer.signer_key() + "\n")


def _new_key_file(path: Path, origin: str) -> NoteSigner:
    signer = NoteSigner.generate(origin)
    write_key_file(path, signer)
    return signer


def load_log_signer(conn: Connection, origin: str, key_file: Path | None) -> NoteSigner:
    """The log's signer, creating the log (key row and size-0 checkpoint) on first use.

    Call inside the sequencer's locked transaction so two workers never create two logs."""
    row = repository.log_key(conn)
    if row is None:
        signer = (
            (read_key_file(key_file) if key_file.exists() else _new_key_file(key_file, origin))
            if key_file is not None
            else NoteSigner.generate(origin)
        )
        _create_log(conn, signer, keep_private=key_file is None)
        return signer
    return _signer_of(row, key_file)


def existing_log_signer(conn: Connection, key_file: Path | None) -> NoteSigner:
    """The signer of a log that exists (for signing exports); never creates one."""
    row = repository.log_key(conn)
    if row is None:
        raise LogKeyError("this database has no transparency log yet")
    return _signer_of(row, key_file)


def _signer_of(row: Mapping[Any, Any], key_file: Path | None) -> NoteSigner:
    if key_file is not None:
        if not key_file.exists():
            raise LogKeyError(f"log key file {key_file} is missing; the log's key is on record")
        signer = read_key_file(key_file)
    elif row["signer_key"] is None:
        raise LogKeyError("the log's private key lives in a key file: set the key file setting")
    else:
        signer = NoteSigner.from_signer_key(row["signer_key"])
    if signer.verifier().verifier_key() != row["verifier_key"]:
        raise LogKeyError("the configured key is not this log's key")
    return signer


def _create_log(conn: Connection, signer: NoteSigner, keep_private: bool) -> None:
    now = utcnow()
    repository.insert_log_key(
        conn,
        {
            "origin": signer.name,
            "verifier_key": signer.verifier().verifier_key(),
            "signer_key": signer.signer_key() if keep_private else None,
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
