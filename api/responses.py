"""OpenAPI declarations of the problem responses a route can return."""

from __future__ import annotations

from typing import Any

from problems import PROBLEM_KINDS
from schemas.problems import Problem

_DESCRIPTIONS = {kind.status: kind.title for kind in reversed(tuple(PROBLEM_KINDS.values()))}


# Any protected route can meet a malformed request, a missing or bad token, a refused scope or
# purpose, invalid fields, and a held-back response (503) when its audit event cannot be
# committed.
_ALWAYS = (400, 401, 403, 422, 503)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Each status documented as `application/problem+json` with the Problem schema."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(status, "Problem"),
            "content": {"application/problem+json": {}},
        }
        for status in sorted(set(statuses) | set(_ALWAYS))
    }
