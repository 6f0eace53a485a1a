"""The log entry of one audit event: every column of the event and of its disclosures, as
RFC 8785 canonical JSON. The sequencer, the exporter and every verifier build it here."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Mapping
from itertools import compress, repeat
from typing import Any

import orjson

LEAF_FORMAT = "sanad-audit-event/v1"
# v2 (session 25): an event that names the objects of its request (`target`, the route's path
# parameters). An event without them is encoded as v1, byte for byte, so leaves logged before
# the column existed verify as they always did, and one row has one encoding.
LEAF_FORMAT_WITH_TARGET = "sanad-audit-event/v2"

# Every column of audit_event (schemas.audit.AuditEvent) and of audit_disclosure except its
# event_id, which the nesting states. A column added to those tables must be added here (and
# a format added for it), or a change to it would go unnoticed: tests compare with the tables.
V1_EVENT_FIELDS: tuple[str, ...] = (
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
EVENT_FIELDS: tuple[str, ...] = (*V1_EVENT_FIELDS, "target")
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


_ENTRY_KEYS = {
    LEAF_FORMAT: frozenset((*V1_EVENT_FIELDS, "format", "disclosures")),
    LEAF_FORMAT_WITH_TARGET: frozenset((*EVENT_FIELDS, "format", "disclosures")),
}
_DISCLOSURE_KEYS = frozenset(DISCLOSURE_FIELDS)
_SCALAR_TYPES = frozenset((str, int, bool, type(None)))
_MAX_EXACT_INTEGER = 2**53 - 1


class LeafEncodingError(ValueError):
    """A value that the leaf format does not carry (it must never be silently altered)."""


def timestamp_text(moment: dt.datetime) -> str:
    """RFC 3339 UTC with exactly six fraction digits and `Z`, e.g. 2026-11-27T09:30:00.000000Z."""
    if moment.tzinfo is None:
        raise LeafEncodingError("audit timestamps are timezone-aware")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def _moment(value: dt.datetime | str) -> dt.datetime:
    """A timestamp as a row carries it: a datetime, or ISO text as SQLite stores it (a time
    without offset is UTC there, see schemas.types.UtcDateTime); parsed in C, not by the ORM."""
    if isinstance(value, dt.datetime):
        return value
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise LeafEncodingError("an audit timestamp is not a valid time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _project(row: Mapping[Any, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    projected = {name: row[name] for name in fields}
    projected[_TIME_FIELD] = timestamp_text(_moment(projected[_TIME_FIELD]))
    return projected


def leaf_entry(
    event: Mapping[Any, Any], disclosures: Iterable[Mapping[Any, Any]]
) -> dict[str, Any]:
    """The JSON object of one leaf; disclosures are ordered by id so row order never matters."""
    if event.get("target") is None:  # also a row read before the column existed
        entry = _project(event, V1_EVENT_FIELDS)
        entry["format"] = LEAF_FORMAT
    else:
        entry = _project(event, EVENT_FIELDS)
        entry["format"] = LEAF_FORMAT_WITH_TARGET
    shown = [_project(row, DISCLOSURE_FIELDS) for row in disclosures]
    shown.sort(key=lambda item: str(item["id"]))
    entry["disclosures"] = shown
    return entry


def _check_values(values: list[Any], lists_allowed: int) -> None:
    """Scalars of the leaf domain only, plus exactly `lists_allowed` lists. Built from C-level
    iterators: this runs once per leaf when a million leaves are verified."""
    kinds = list(map(type, values))
    if kinds.count(list) != lists_allowed or not set(kinds) - {list} <= _SCALAR_TYPES:
        raise LeafEncodingError("leaf values are strings, integers, booleans or null")
    integers = list(compress(values, map(operator.is_, kinds, repeat(int))))
    if integers and (max(integers) > _MAX_EXACT_INTEGER or min(integers) < -_MAX_EXACT_INTEGER):
        raise LeafEncodingError("integer beyond the exact JSON range")


def check_entry(entry: Mapping[Any, Any]) -> None:
    """Exactly the leaf's members for its format, each in the leaf domain: flat objects (the
    event, and each disclosure in `disclosures`) of ASCII keys and string, integer within
    ±(2**53 - 1), boolean or null values. Raises LeafEncodingError otherwise."""
    form = entry.get("format")
    members = _ENTRY_KEYS.get(form) if isinstance(form, str) else None
    if members is None or entry.keys() != members:
        raise LeafEncodingError("a leaf has exactly the audit event's members for its format")
    if entry["format"] == LEAF_FORMAT_WITH_TARGET and type(entry["target"]) is not str:
        raise LeafEncodingError("a v2 leaf names its target (an event without one is v1)")
    disclosures = entry["disclosures"]
    if type(disclosures) is not list:
        raise LeafEncodingError("disclosures of a leaf are a list")
    _check_values(list(entry.values()), lists_allowed=1)  # the one list: `disclosures`
    for item in disclosures:
        if type(item) is not dict or item.keys() != _DISCLOSURE_KEYS:
            raise LeafEncodingError("a disclosure has exactly the disclosure's members")
        _check_values(list(item.values()), lists_allowed=0)


def encode_entry(entry: Mapping[Any, Any]) -> bytes:
    """RFC 8785 bytes of a leaf entry.

    `rfc8785.dumps` (pure Python, ~20 us an event) would cap sequencing and verification
    throughput, so orjson is used on the leaf domain, where both agree byte for byte: keys are
    ASCII so byte order is UTF-16 order; integers print alike below 2**53; no floats occur;
    strings escape only '"', '\\' and U+0000..U+001F, with \\b \\t \\n \\f \\r short forms
    and lowercase \\u00xx otherwise; all else is literal UTF-8 (lone surrogates are refused).
    A property test holds this against rfc8785 itself.
    """
    check_entry(entry)
    try:
        return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise LeafEncodingError(str(exc)) from exc


def encode_leaf(event: Mapping[Any, Any], disclosures: Iterable[Mapping[Any, Any]]) -> bytes:
    return encode_entry(leaf_entry(event, disclosures))
