"""Agencies and their OAuth clients: registration within the agency's scope ceiling, liaison
credentials for named people, argon2-hashed secrets, disabling. The caller commits."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from auth import repository
from auth.keys import MAX_TOKEN_LIFETIME_SECONDS
from auth.policy import SCOPE_CEILING
from config.settings import Settings
from problems import ProblemError
from schemas.identity import Agency, ClientCreate, ClientPublic, OAuthClient
from schemas.types import utcnow
from schemas.vocabulary import AgencyKind, ClientKind, Scope

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). Secrets are 256-bit random strings, so
# the hash guards against a stolen table, not against guessing; this keeps the token endpoint
# fast without weakening that.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Defaults when a registration names no lifetime; settings may only lower them at issuance.
SYSTEM_TOKEN_LIFETIME_SECONDS = MAX_TOKEN_LIFETIME_SECONDS
LIAISON_TOKEN_LIFETIME_SECONDS = 300
CLIENT_ID_MAX = 64
_CLIENT_ID_SUFFIX_HEX = 3  # 6 hex digits
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_ASYMMETRIC_KEY_TYPES = frozenset({"EC", "OKP", "RSA"})
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# Keys that can sign an assertion the token endpoint accepts (ES256, EdDSA, RS256, PS256): a
# P-256 curve, an Edwards curve (X25519 and X448 only agree keys), RSA of 2048 bits at least
# (RFC 7518 §3.3, §3.5: a smaller modulus can be factored, and its owner impersonated).
_SIGNING_CURVES = {"EC": frozenset({"P-256"}), "OKP": frozenset({"Ed25519", "Ed448"})}
_MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A new client secret and its argon2 hash. Hashing takes tens of milliseconds, so async
    callers make one in a worker thread (`issue_secret`) and hand it to `register_client`."""

    secret: str
    secret_hash: str


def issue_secret() -> IssuedSecret:
    secret = secrets.token_urlsafe(32)
    return IssuedSecret(secret, _HASHER.hash(secret))


def verify_secret(secret_hash: str | None, presented: str) -> bool:
    if not secret_hash:
        return False
    try:
        return _HASHER.verify(secret_hash, presented)
    except (VerificationError, InvalidHashError):
        return False


def create_agency(session: Session, agency_id: str, name: str, kind: AgencyKind) -> Agency:
    if repository.get_agency(session, agency_id) is not None:
        raise ProblemError("conflict", f"agency {agency_id} exists")
    return repository.add(session, Agency(id=agency_id, name=name, kind=kind))


def register_client(
    session: Session,
    agency_id: str,
    data: ClientCreate,
    created_by_client_id: str | None = None,
    *,
    creator_scopes: Iterable[str] | None = None,
    settings: Settings | None = None,
    issued_secret: IssuedSecret | None = None,
) -> tuple[OAuthClient, str | None]:
    """Register a partner system or a named liaison in `agency_id`.

    Returns the client and, for `client_secret_basic`, the plain secret: the only time it
    exists outside the caller. A liaison's scopes must lie within its creator's: the creating
    client's registered scopes, or `creator_scopes` (the creating token's, which also covers
    admins authenticated by an external issuer)."""
    agency = repository.get_agency(session, agency_id)
    if agency is None:
        raise ProblemError("not-found", f"no agency {agency_id}")
    _check_printable(data)
    scopes = _checked_scopes(data.scopes, AgencyKind(agency.kind))
    ceiling = _creator_ceiling(session, agency_id, created_by_client_id, creator_scopes)
    if data.kind == ClientKind.LIAISON:
        _check_liaison(data, scopes, ceiling)
    elif data.person_name is not None:
        raise ProblemError(
            "validation-failed",
            "only a liaison credential names a person",
            invalid_params=[{"name": "person_name", "reason": "allowed for kind liaison only"}],
        )
    jwks = _checked_jwks(data)
    secret: str | None = None
    secret_hash: str | None = None
    if data.auth_method == "client_secret_basic":
        issued = issued_secret or issue_secret()
        secret, secret_hash = issued.secret, issued.secret_hash
    client = OAuthClient(
        id=_new_client_id(session, agency_id, data.name),
        agency_id=agency_id,
        name=data.name,
        kind=data.kind,
        person_name=data.person_name,
        scopes=" ".join(sorted(scopes)),
        auth_method=data.auth_method,
        token_lifetime_seconds=_lifetime(data, settings),
        secret_hash=secret_hash,
        jwks=jwks,
        created_by_client_id=created_by_client_id[:CLIENT_ID_MAX] if created_by_client_id else None,
    )
    return repository.add(session, client), secret


def disable_client(
    session: Session, agency_id: str, client_id: str, by_client_id: str
) -> OAuthClient:
    """Disable a client of `agency_id`; its tokens are refused from the verifier's next poll.
    The first to disable it is kept, with when (disabling again changes nothing)."""
    client = repository.get_client(session, client_id)
    if client is None or client.agency_id != agency_id:
        raise ProblemError("not-found", "no such client in your agency")
    if client.disabled_at is None:
        # conditional: of two admins disabling it at once, the later reads the first's answer
        repository.mark_client_disabled(session, client_id, utcnow(), by_client_id[:CLIENT_ID_MAX])
        session.refresh(client)
    return client


async def agency_clients(session: AsyncSession, agency_id: str) -> list[ClientPublic]:
    """The clients of one agency, as shown to its admin (never a secret or its hash)."""
    return [client_public(client) for client in await repository.list_clients(session, agency_id)]


def client_public(client: OAuthClient) -> ClientPublic:
    shown = set(ClientPublic.model_fields) - {"scopes"}
    return ClientPublic(**client.model_dump(include=shown), scopes=client.scopes.split())


def _invalid(name: str, reason: str, detail: str) -> ProblemError:
    return ProblemError(
        "validation-failed", detail, invalid_params=[{"name": name, "reason": reason}]
    )


def _check_printable(data: ClientCreate) -> None:
    for name, value in (("name", data.name), ("person_name", data.person_name)):
        if value is not None and (not value.strip() or _CONTROL_CHARS.search(value)):
            raise _invalid(name, "blank or containing control characters", f"invalid {name}")


def _checked_scopes(requested: list[str], kind: AgencyKind) -> frozenset[str]:
    known = {s.value for s in Scope}
    unknown = sorted(set(requested) - known)
    if unknown:
        raise _invalid("scopes", f"unknown: {' '.join(unknown)}", "unknown scope")
    beyond = sorted(set(requested) - {s.value for s in SCOPE_CEILING[kind]})
    if beyond:
        raise _invalid(
            "scopes",
            f"not grantable to a {kind.value} agency: {' '.join(beyond)}",
            "scope beyond the agency's ceiling",
        )
    return frozenset(requested)


def _creator_ceiling(
    session: Session,
    agency_id: str,
    created_by_client_id: str | None,
    creator_scopes: Iterable[str] | None,
) -> frozenset[str] | None:
    if creator_scopes is not None:
        return frozenset(creator_scopes)
    if created_by_client_id is None:
        return None
    creator = repository.get_client(session, created_by_client_id)
    if creator is None or creator.agency_id != agency_id:
        raise ProblemError("agency-not-entitled", "a client registers clients of its own agency")
    return frozenset(creator.scopes.split())


def _check_liaison(
    data: ClientCreate, scopes: frozenset[str], ceiling: frozenset[str] | None
) -> None:
    if not data.person_name:
        raise _invalid("person_name", "required for a liaison", "a liaison names its person")
    if ceiling is not None and not scopes <= ceiling:
        extra = " ".join(sorted(scopes - ceiling))
        raise _invalid("scopes", f"beyond the creating client's scopes: {extra}", "scope too wide")


def _lifetime(data: ClientCreate, settings: Settings | None) -> int:
    if data.kind == ClientKind.LIAISON:
        cap = (
            settings.liaison_token_lifetime_seconds if settings else LIAISON_TOKEN_LIFETIME_SECONDS
        )
    else:
        cap = settings.access_token_lifetime_seconds if settings else SYSTEM_TOKEN_LIFETIME_SECONDS
    return min(data.token_lifetime_seconds or cap, cap)


def _checked_jwks(data: ClientCreate) -> dict[str, object] | None:
    if data.auth_method == "client_secret_basic":
        if data.jwks is not None:
            raise _invalid("jwks", "only for private_key_jwt", "jwks given for a secret client")
        return None
    if data.jwks is None:
        raise _invalid("jwks", "required for private_key_jwt", "private_key_jwt needs a jwks")
    keys = data.jwks.get("keys")
    if not isinstance(keys, list) or not keys:
        raise _invalid("jwks", "a JWK Set with at least one key", "invalid jwks")
    for jwk in keys:
        # a private or symmetric key here would be a secret we must never store
        if not isinstance(jwk, dict) or jwk.get("kty") not in _ASYMMETRIC_KEY_TYPES:
            raise _invalid("jwks", "asymmetric public keys only (EC, OKP, RSA)", "invalid jwks")
        if _PRIVATE_JWK_MEMBERS & jwk.keys():
            raise _invalid("jwks", "contains private key material", "invalid jwks")
    try:
        key_set = KeySet.import_key_set(data.jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise _invalid("jwks", "not a valid JWK Set", "invalid jwks") from None
    for key in key_set.keys:
        if not can_sign_assertions(key):
            raise _invalid(
                "jwks",
                f"signing keys only: EC P-256, Ed25519, Ed448, RSA of {_MIN_RSA_BITS} bits or more",
                "invalid jwks",
            )
    return {"keys": keys}


def can_sign_assertions(key: Any) -> bool:
    """Whether a client's public key verifies an assertion we accept, at a strength we accept
    (also asked of keys registered before the check existed, at the token endpoint)."""
    if key.key_type == "RSA":
        return bool(getattr(key.raw_value, "key_size", 0) >= _MIN_RSA_BITS)
    return key.get("crv") in _SIGNING_CURVES.get(key.key_type, frozenset())


def _slug(text: str, limit: int) -> str:
    slug = _SLUG_CHARS.sub("-", text.lower()).strip("-")
    return slug[:limit].strip("-") or "client"


def _new_client_id(session: Session, agency_id: str, label: str) -> str:
    """Readable and unique: `<agency>-<slug of the client's name>-<6 hex>`, at most 64
    characters. Never built from a person's name: client ids appear in logs."""
    suffix_len = 2 * _CLIENT_ID_SUFFIX_HEX + 1
    agency_part = agency_id[:32]
    slug_room = CLIENT_ID_MAX - len(agency_part) - 1 - suffix_len
    while True:
        candidate = (
            f"{agency_part}-{_slug(label, slug_room)}-{secrets.token_hex(_CLIENT_ID_SUFFIX_HEX)}"
        )
        if repository.get_client(session, candidate) is None:
            return candidate
