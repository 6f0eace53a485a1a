"""The letter credential: a COSE_Sign1 (RFC 9052) over a CWT claims set (RFC 8392), signed
ES256, as QR text `SL1:` + base45. Pure functions; keys are passed in. See docs/letters.md for
why COSE/CWT rather than compact JWS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from letters import base45

PREFIX = "SL1:"
MAX_CREDENTIAL_CHARS = 600  # one QR code of version <= 17 at error correction level M
_MAX_INPUT_CHARS = 2000  # refuse before decoding anything larger
COSE_SIGN1_TAG = 18
ES256 = -7
_HEADER_ALG, _HEADER_KID = 1, 4
_CWT_ISS, _CWT_EXP, _CWT_IAT = 1, 4, 6
# A private-use CWT claim (RFC 8392 §4: keys below -65536) holding the letter's own fields.
LETTER_CLAIM = -70001
_ID, _NAME, _NATIVE, _FATHER, _BIRTH_YEAR, _MEMBERS, _CALENDAR = 1, 2, 3, 4, 5, 6, 7
SOLAR_HIJRI = "SH"

Outcome = Literal["valid", "invalid", "unknown-key", "expired", "not-yet-valid"]


class MalformedCredentialError(ValueError):
    """The text is not a credential of this format (nothing about its signature is known)."""


@dataclass(frozen=True, slots=True)
class CoveredMember:
    name: str
    name_native: str | None = None


@dataclass(frozen=True, slots=True)
class LetterClaims:
    """What the letter says, as signed: nothing more than a checkpoint needs to compare with
    the person in front of it."""

    letter_id: str
    issuer: str
    name: str
    name_native: str | None
    father_name: str | None
    birth_year: int | None
    birth_calendar: str | None  # None = Gregorian, "SH" = Solar Hijri
    members: tuple[CoveredMember, ...]
    issued_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class ParsedCredential:
    kid: str
    protected: bytes
    payload: bytes
    signature: bytes
    claims: LetterClaims


@dataclass(frozen=True, slots=True)
class LetterKey:
    """A published letter key and the mission it signs for (its JWK's `sanad_issuer`): a
    letter is genuine only if its `iss` names that mission, so one mission's key cannot sign
    letters in another's name."""

    public: ec.EllipticCurvePublicKey
    issuer: str


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    outcome: Outcome
    kid: str | None = None
    claims: LetterClaims | None = None


def _letter_map(claims: LetterClaims) -> dict[int, Any]:
    letter: dict[int, Any] = {_ID: claims.letter_id, _NAME: claims.name}
    optional = {
        _NATIVE: claims.name_native,
        _FATHER: claims.father_name,
        _BIRTH_YEAR: claims.birth_year,
        _CALENDAR: claims.birth_calendar,
    }
    letter.update({key: value for key, value in optional.items() if value is not None})
    if claims.members:
        letter[_MEMBERS] = [
            [m.name, m.name_native] if m.name_native else [m.name] for m in claims.members
        ]
    return letter


def encode_claims(claims: LetterClaims) -> bytes:
    """The CWT claims set, deterministically encoded (RFC 8949 §4.2)."""
    cwt = {
        _CWT_ISS: claims.issuer,
        _CWT_EXP: claims.expires_at,
        _CWT_IAT: claims.issued_at,
        LETTER_CLAIM: _letter_map(claims),
    }
    return cbor2.dumps(cwt, canonical=True)


def _text(value: object, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise MalformedCredentialError(f"{name} must be text")
    return value


def _int(value: object, name: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedCredentialError(f"{name} must be an integer")
    return value


def _members(value: object) -> tuple[CoveredMember, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise MalformedCredentialError("members must be an array")
    members = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) not in (1, 2):
            raise MalformedCredentialError("a member is [name] or [name, native name]")
        name = _text(item[0], "member name")
        native = _text(item[1], "member native name") if len(item) == 2 else None
        assert name is not None
        members.append(CoveredMember(name, native))
    return tuple(members)


def decode_claims(payload: bytes) -> LetterClaims:
    try:
        cwt = cbor2.loads(payload)
    except Exception as exc:  # cbor2 raises several types on garbage
        raise MalformedCredentialError("payload is not CBOR") from exc
    if not isinstance(cwt, dict) or not isinstance(cwt.get(LETTER_CLAIM), dict):
        raise MalformedCredentialError("payload is not a letter claims set")
    letter = cwt[LETTER_CLAIM]
    return LetterClaims(
        letter_id=str(_text(letter.get(_ID), "letter id")),
        issuer=str(_text(cwt.get(_CWT_ISS), "iss")),
        name=str(_text(letter.get(_NAME), "name")),
        name_native=_text(letter.get(_NATIVE), "native name", optional=True),
        father_name=_text(letter.get(_FATHER), "father's name", optional=True),
        birth_year=_int(letter.get(_BIRTH_YEAR), "birth year", optional=True),
        birth_calendar=_text(letter.get(_CALENDAR), "calendar", optional=True),
        members=_members(letter.get(_MEMBERS)),
        issued_at=int(_int(cwt.get(_CWT_IAT), "iat") or 0),
        expires_at=int(_int(cwt.get(_CWT_EXP), "exp") or 0),
    )


def signature_input(protected: bytes, payload: bytes) -> bytes:
    """RFC 9052 §4.4 Sig_structure for COSE_Sign1 with empty external AAD."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


def protected_header(kid: str) -> bytes:
    return cbor2.dumps({_HEADER_ALG: ES256, _HEADER_KID: kid.encode()}, canonical=True)


def sign(claims: LetterClaims, kid: str, key: ec.EllipticCurvePrivateKey) -> str:
    """The QR text of a credential for `claims`, signed by `key` (P-256) under `kid`."""
    protected = protected_header(kid)
    payload = encode_claims(claims)
    der = key.sign(signature_input(protected, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    sign1 = cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature])
    return PREFIX + base45.encode(cbor2.dumps(sign1))


def _unwrap(text: str) -> list[Any] | tuple[Any, ...]:
    text = text.strip("\r\n\t")
    if len(text) > _MAX_INPUT_CHARS or not text.startswith(PREFIX):
        raise MalformedCredentialError("not a Sanad letter credential")
    try:
        raw = base45.decode(text[len(PREFIX) :])
        tagged = cbor2.loads(raw)
    except Exception as exc:
        raise MalformedCredentialError("credential is not base45 CBOR") from exc
    if not isinstance(tagged, cbor2.CBORTag) or tagged.tag != COSE_SIGN1_TAG:
        raise MalformedCredentialError("credential is not a COSE_Sign1")
    parts = tagged.value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise MalformedCredentialError("COSE_Sign1 must have four parts")
    return parts


def parse(text: str) -> ParsedCredential:
    """Structure only: the signature is NOT checked here."""
    protected, unprotected, payload, signature = _unwrap(text)
    if not all(isinstance(part, bytes) for part in (protected, payload, signature)):
        raise MalformedCredentialError("COSE_Sign1 parts have the wrong types")
    # cbor2 decodes maps inside a tag as its immutable `frozendict`, not a dict
    if not isinstance(unprotected, dict | cbor2.frozendict) or len(unprotected):
        raise MalformedCredentialError("nothing may travel unprotected")
    try:
        header = cbor2.loads(protected)
    except Exception as exc:
        raise MalformedCredentialError("protected header is not CBOR") from exc
    if not isinstance(header, dict) or header.get(_HEADER_ALG) != ES256:
        raise MalformedCredentialError("only ES256 is accepted")
    kid = header.get(_HEADER_KID)
    if not isinstance(kid, bytes) or set(header) != {_HEADER_ALG, _HEADER_KID}:
        raise MalformedCredentialError("protected header must hold exactly alg and kid")
    try:
        kid_text = kid.decode("ascii")
    except UnicodeDecodeError as exc:
        raise MalformedCredentialError("kid is not ASCII") from exc
    return ParsedCredential(kid_text, protected, payload, signature, decode_claims(payload))


def signature_valid(parsed: ParsedCredential, key: ec.EllipticCurvePublicKey) -> bool:
    if len(parsed.signature) != 64:
        return False
    r = int.from_bytes(parsed.signature[:32], "big")
    s = int.from_bytes(parsed.signature[32:], "big")
    try:
        key.verify(
            encode_dss_signature(r, s),
            signature_input(parsed.protected, parsed.payload),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        return False
    return True


def verify(
    text: str,
    keys: Mapping[str, LetterKey],
    now: int,
    leeway_seconds: int = 300,
) -> CredentialCheck:
    """Signature first; only a genuine credential is judged on its dates. `leeway_seconds`
    forgives a checkpoint phone's clock running slow when a letter was issued minutes ago."""
    try:
        parsed = parse(text)
    except MalformedCredentialError:
        return CredentialCheck("invalid")
    key = keys.get(parsed.kid)
    if key is None:
        return CredentialCheck("unknown-key", parsed.kid)
    if not signature_valid(parsed, key.public) or parsed.claims.issuer != key.issuer:
        return CredentialCheck("invalid", parsed.kid)
    claims = parsed.claims
    if now >= claims.expires_at:
        return CredentialCheck("expired", parsed.kid, claims)
    if claims.issued_at > now + leeway_seconds:
        return CredentialCheck("not-yet-valid", parsed.kid, claims)
    return CredentialCheck("valid", parsed.kid, claims)
