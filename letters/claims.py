"""What a letter says about the people it names, taken from their pipeline records, and how
the claims are fitted into one QR code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from letters.credential import (
    MAX_CREDENTIAL_CHARS,
    SOLAR_HIJRI,
    CoveredMember,
    LetterClaims,
    sign,
)

Row = Mapping[str, Any]


class CredentialTooLargeError(ValueError):
    """Even without the members' Arabic-script names the credential exceeds one QR code."""


def latin_name(row: Row) -> str:
    parts = (row.get("given_name"), row.get("family_name"))
    return " ".join(p for p in parts if p) or str(row.get("name_native") or "")


def birth_year(row: Row) -> tuple[int | None, str | None]:
    dob = row.get("dob")
    if not dob or not str(dob)[:4].isdigit():
        return None, None
    calendar = SOLAR_HIJRI if str(row.get("dob_calendar") or "") == "solar_hijri" else None
    return int(str(dob)[:4]), calendar


def claims_for(
    letter_id: str,
    issuer: str,
    holder: Row,
    covered: Sequence[Row],
    issued_at: int,
    expires_at: int,
) -> LetterClaims:
    year, calendar = birth_year(holder)
    return LetterClaims(
        letter_id=letter_id,
        issuer=issuer,
        name=latin_name(holder),
        name_native=holder.get("name_native") or None,
        father_name=holder.get("father_name") or None,
        birth_year=year,
        birth_calendar=calendar,
        members=tuple(CoveredMember(latin_name(r), r.get("name_native") or None) for r in covered),
        issued_at=issued_at,
        expires_at=expires_at,
    )


def fitted_credential(claims: LetterClaims, kid: str, key: ec.EllipticCurvePrivateKey) -> str:
    """Sign the claims; if the QR text is too long, drop the covered members' Arabic-script
    names (the holder's stay), and refuse if that is still not enough."""
    text = sign(claims, kid, key)
    if len(text) <= MAX_CREDENTIAL_CHARS:
        return text
    latin_only = tuple(CoveredMember(m.name) for m in claims.members)
    text = sign(replace(claims, members=latin_only), kid, key)
    if len(text) > MAX_CREDENTIAL_CHARS:
        raise CredentialTooLargeError(len(text))
    return text
