"""Opaque keyset cursors over (time, id) for the auditor's paginated queries."""

from __future__ import annotations

import base64
import datetime as dt

from problems import ProblemError


def encode_cursor(occurred_at: dt.datetime, row_id: str) -> str:
    raw = f"{occurred_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|", 1)
        moment = dt.datetime.fromisoformat(stamp)
        if moment.tzinfo is None:  # issued in UTC: a naive time is no cursor of ours
            raise ValueError("naive")
        return moment.astimezone(dt.UTC), row_id
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise ProblemError(
            "validation-failed",
            "cursor is not one this API returned",
            invalid_params=[{"name": "cursor", "reason": "malformed"}],
        ) from None
