"""RFC 8785 (JCS) canonical JSON: the exact bytes of one audit event that become a log entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

import rfc8785

JsonValue: TypeAlias = (
    bool | int | float | str | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
)


def canonical_json(obj: JsonValue) -> bytes:
    """The RFC 8785 serialisation of a JSON value.

    Raises rfc8785.CanonicalizationError (a ValueError) for values JSON cannot carry exactly,
    such as integers beyond 2**53 or NaN, so an entry never depends on a lossy encoding.
    """
    return rfc8785.dumps(obj)
