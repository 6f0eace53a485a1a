"""Checkpoint notes as stored and served: the log-signed note plus its cosignature lines."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from tlog.checkpoint import NoteSignature


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def cosigned_note(signed_note: str, cosignatures: Iterable[Mapping[Any, Any]]) -> str:
    """The stored log-signed note with a line per recorded cosignature (`name`, and
    `signature` = key id || timestamp || Ed25519 signature, as in the signature line)."""
    lines = [
        NoteSignature(row["name"], bytes(row["signature"][:4]), bytes(row["signature"][4:])).line()
        for row in cosignatures
    ]
    return signed_note + "".join(lines)
