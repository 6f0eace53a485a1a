"""RFC 9457 problem details as returned by every error response."""

from __future__ import annotations

from sqlmodel import SQLModel


class InvalidParam(SQLModel):
    name: str
    reason: str


class Problem(SQLModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    invalid_params: list[InvalidParam] | None = None
