"""The log entry of one audit event: every column of the event and of its disclosures, as
RFC 8785 canonical JSON. The sequencer, the exporter and every verifier build it here."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

LEAF_FORMAT = "sanad-audit-event/v1"

# Every column of audit_event (schemas.audit.AuditEvent) and of audit_disclosure except its
# event_id, which the nesting states. A column added to those tables must be added here (and
# LEAF_FORMAT bumped), or a change to it would go unnoticed: tests compare with the tables.
EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "request_id",
    "client_id",
    "subject",
    "agency_id",
    "token_jti",
    "scopes",
    "purpose",
    "method",
    "route",
    "status",
    "outcome",
    "reason",
    "disclosure_count",
)
DISCLOSURE_FIELDS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "list_id",
    "record_id",
    "record_key",
    "owner_agency_id",
    "recipient_agency_id",
    "client_id",
    "purpose",
    "fields",
)
_TIME_FIELD = "occurred_at"


class LeafEncodingError(ValueError):
    """A value that the leaf format does not carry (it must never be silently altered)."""


def timestamp_text(moment: dt.datetime) -> str:
    """RFC 3339 UTC with exactly six fraction digits and `Z`, e.g. 2026-11-27T09:30:00.000000Z."""
    if moment.tzinfo is None:
        raise LeafEncodingError("audit timestamps are timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _project(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    projected = {name: row[name] for name in fields}
    moment = projected[_TIME_FIELD]
    if isinstance(moment, dt.datetime):
        projected[_TIME_FIELD] = timestamp_text(moment)
    return projected


def leaf_entry(event: Mapping[str, Any], disclosures: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON object of one leaf; disclosures are ordered by id so row order never matters."""
    entry = _project(event, EVENT_FIELDS)
    entry["format"] = LEAF_FORMAT
    shown = [_project(row, DISCLOSURE_FIELDS) for row in disclosures]
    shown.sort(key=lambda item: str(item["id"]))
    entry["disclosures"] = shown
    return entry


def _check_values(value: Any) -> None:
    """The leaf domain: strings, integers within ±2**53, booleans, null, lists and objects with
    ASCII keys. Inside it, `json.dumps` below emits exactly the RFC 8785 bytes (see encode)."""
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise LeafEncodingError("integer beyond the exact JSON range")
        return
    if isinstance(value, list):
        for item in value:
            _check_values(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise LeafEncodingError("object keys of a leaf are ASCII strings")
            _check_values(item)
        return
    raise LeafEncodingError(f"a leaf carries no {type(value).__name__} values")


_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def encode_entry(entry: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of a leaf entry.

    `rfc8785.dumps` (pure Python, ~20 us an event) would cap sequencing and verification
    throughput, so the C JSON encoder is used on the leaf domain, where both agree byte for
    byte: keys are ASCII so code-point order is UTF-16 order; integers print alike below 2**53;
    no floats occur; strings escape only '"', '\\' and U+0000..U+001F, with \\b \\t \\n \\f \\r
    short forms and lowercase \\u00xx otherwise; everything else is literal UTF-8 (lone
    surrogates fail to encode). A property test holds this against rfc8785 itself.
    """
    _check_values(entry)
    return _encoder.encode(entry).encode("utf-8")


def encode_leaf(event: Mapping[str, Any], disclosures: Iterable[Mapping[str, Any]]) -> bytes:
    return encode_entry(leaf_entry(event, disclosures))
