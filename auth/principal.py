"""Who is calling: the verified identity behind an access token."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.vocabulary import AgencyKind


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str
    subject: str
    agency_id: str
    agency_kind: AgencyKind
    scopes: frozenset[str]
    token_jti: str
    issuer: str
    expires_at: int

    def has_scopes(self, required: frozenset[str]) -> bool:
        return required <= self.scopes
