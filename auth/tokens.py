"""Verification of bearer access tokens: our own RFC 9068 JWTs and those of configured external
issuers, strictly (docs/auth.md lists every check), fast (verified tokens are cached until they
expire) and revocable at once (an in-process set fed by the revoke endpoint and a DB poll)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey, import_key
from sqlalchemy.ext.asyncio import AsyncEngine

from auth import repository
from auth.keys import MAX_TOKEN_LIFETIME_SECONDS, OWN_TOKEN_ALGORITHMS, VERIFICATION_GRACE
from auth.keys import verification_key_set as own_verification_keys
from auth.policy import SCOPE_CEILING
from auth.principal import Principal
from config.settings import ExternalIssuer, Settings
from problems import ProblemError
from schemas.types import utcnow
from schemas.vocabulary import AgencyKind, Scope

log = structlog.get_logger(__name__)

OWN_TOKEN_TYPES = frozenset({"at+jwt"})
# Header members that would let the token choose its own verification key.
KEY_CARRYING_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c"})
_KNOWN_SCOPES = frozenset(s.value for s in Scope)
_ID_MAX = 64  # audit columns for client ids and jtis
_SUBJECT_MAX = 200  # audit column for subjects
_JWKS_MAX_BYTES = 1_000_000
_JWKS_FETCH_TIMEOUT_SECONDS = 5.0
_ASYMMETRIC = (ECKey, OKPKey, RSAKey)


class InvalidTokenError(Exception):
    """A token failed a check; `reason` is a short, fixed phrase safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UnverifiedJWT:
    """Header and claims of a compact JWS, decoded but NOT verified: only for choosing how to
    verify (issuer, key id), never for deciding access."""

    header: dict[str, Any]
    claims: dict[str, Any]


# --- pure checks, shared with the introspection and revocation endpoints ------------------


def _no_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise InvalidTokenError("duplicate JSON member")
    return obj


def _json_segment(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw, object_pairs_hook=_no_duplicate_members)
    except (binascii.Error, ValueError):
        raise InvalidTokenError("malformed token") from None
    if not isinstance(value, dict):
        raise InvalidTokenError("malformed token")
    return value


def read_unverified(token: str, max_bytes: int) -> UnverifiedJWT:
    """Split a compact JWS, refusing oversized or non-JWS input before any JSON is parsed."""
    if len(token) > max_bytes or not token.isascii():
        raise InvalidTokenError("token too large or not ASCII")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidTokenError("not a signed JWT")
    return UnverifiedJWT(_json_segment(parts[0]), _json_segment(parts[1]))


def normalised_type(typ: str) -> str:
    """RFC 9068 §4: `at+jwt` and `application/at+jwt` are the same type; compare case-blind."""
    lowered = typ.lower()
    return lowered.removeprefix("application/")


def check_header(
    header: Mapping[str, Any], algorithms: frozenset[str], token_types: frozenset[str]
) -> tuple[str, str]:
    """The header's (alg, kid) once it passes the allow-lists; `token_types` are normalised."""
    if KEY_CARRYING_HEADERS & header.keys():
        raise InvalidTokenError("key-carrying header refused")
    if "crit" in header:
        raise InvalidTokenError("critical header extensions unsupported")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms or alg == "none" or alg.startswith("HS"):
        raise InvalidTokenError("algorithm not allowed")
    typ = header.get("typ")
    if not isinstance(typ, str) or normalised_type(typ) not in token_types:
        raise InvalidTokenError("token type not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        raise InvalidTokenError("key id required")
    return alg, kid


def verify_signature(token: str, key: Key, alg: str) -> None:
    try:
        jws.deserialize_compact(token, key, algorithms=[alg])
    except (JoseError, ValueError, TypeError):
        raise InvalidTokenError("bad signature") from None


def _numeric(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(f"{name} claim required")
    return float(value)


def check_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    audience: str,
    now: float,
    leeway: float,
    max_lifetime: float | None = None,
) -> None:
    """Exact `iss`, `aud` naming us, `exp` and `iat` required, `nbf` honoured, all within
    `leeway`."""
    if claims.get("iss") != issuer:
        raise InvalidTokenError("wrong issuer")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences or not all(isinstance(a, str) for a in audiences):
        raise InvalidTokenError("wrong audience")
    exp = _numeric(claims, "exp")
    iat = _numeric(claims, "iat")
    if now > exp + leeway:
        raise InvalidTokenError("expired")
    if iat > now + leeway:
        raise InvalidTokenError("issued in the future")
    if "nbf" in claims and _numeric(claims, "nbf") > now + leeway:
        raise InvalidTokenError("not yet valid")
    if max_lifetime is not None and exp - iat > max_lifetime:
        raise InvalidTokenError("lifetime too long")


def _required_str(claims: Mapping[str, Any], name: str, limit: int | None = None) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value or (limit is not None and len(value) > limit):
        raise InvalidTokenError(f"{name} claim required")
    return value


def own_token_claims(
    token: str,
    unverified: UnverifiedJWT,
    key_for: Callable[[str], Key | None],
    settings: Settings,
    now: float,
) -> dict[str, Any]:
    """Every check of a token we issued; returns its claims, or raises `InvalidTokenError`."""
    alg, kid = check_header(unverified.header, OWN_TOKEN_ALGORITHMS, OWN_TOKEN_TYPES)
    key = key_for(kid)
    if key is None:
        raise InvalidTokenError("unknown key id")
    verify_signature(token, key, alg)
    claims = unverified.claims
    check_claims(
        claims,
        issuer=settings.issuer,
        audience=settings.audience,
        now=now,
        leeway=settings.clock_leeway_seconds,
        max_lifetime=MAX_TOKEN_LIFETIME_SECONDS,
    )
    for name, limit in (
        ("client_id", _ID_MAX),
        ("agency", _ID_MAX),
        ("jti", _ID_MAX),
        ("sub", None),
    ):
        _required_str(claims, name, limit)
    if not isinstance(claims.get("scope"), str):
        raise InvalidTokenError("scope claim required")
    return claims


def _bounded_id(value: str, limit: int = _ID_MAX) -> str:
    """Ids longer than an audit column are replaced by a digest, so they still correlate."""
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[: limit - 7]


def _scope_list(value: object) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _granted_scopes(
    requested: list[str], kind: AgencyKind, allowed: list[str] | None
) -> frozenset[str]:
    """Scopes asked for, known, within the agency's ceiling and (an external issuer's) allowed."""
    granted = frozenset(requested) & _KNOWN_SCOPES & {s.value for s in SCOPE_CEILING[kind]}
    return granted if allowed is None else granted & frozenset(allowed)


def _refused(reason: str) -> ProblemError:
    return ProblemError(
        "unauthenticated",
        f"invalid access token: {reason}",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


# --- external issuers ---------------------------------------------------------------------


def _public_keys(jwks: Mapping[str, Any]) -> dict[str, Key]:
    """`kid` → key for the asymmetric signing keys of a JWK Set; others are skipped."""
    keys: dict[str, Key] = {}
    members = jwks.get("keys")
    for jwk in members if isinstance(members, list) else []:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            key = import_key(jwk)
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        if isinstance(key, _ASYMMETRIC):
            keys[jwk["kid"]] = key
    return keys


class ExternalIssuerKeys:
    """The keys of one external issuer: static, or fetched from its JWKS URL at most once per
    `min_refetch_seconds` (on an unknown `kid`, or when the set is older than `max_age`)."""

    def __init__(self, config: ExternalIssuer, min_refetch_seconds: float) -> None:
        self.config = config
        self._min_refetch = min_refetch_seconds
        self._max_age = max(min_refetch_seconds, 600.0)
        self._keys: dict[str, Key] = _public_keys(config.jwks) if config.jwks else {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> Key | None:
        if self.config.jwks_url is None:
            return self._keys.get(kid)
        if kid not in self._keys or self._age() > self._max_age:
            async with self._lock:
                if (kid not in self._keys or self._age() > self._max_age) and self._may_fetch():
                    await self._fetch(self.config.jwks_url)
        return self._keys.get(kid)

    def _age(self) -> float:
        return float("inf") if self._fetched_at is None else time.monotonic() - self._fetched_at

    def _may_fetch(self) -> bool:
        return self._age() >= self._min_refetch

    async def _fetch(self, url: str) -> None:
        # the attempt counts even when it fails: an unreachable issuer is not hammered
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(
                timeout=_JWKS_FETCH_TIMEOUT_SECONDS, follow_redirects=False
            ) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > _JWKS_MAX_BYTES:
                raise ValueError("JWKS too large")
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # keep the keys we had: a failed refresh must not lock every partner out
            log.warning("jwks_fetch_failed", issuer=self.config.issuer, error=type(exc).__name__)
            return
        if isinstance(document, dict):
            self._keys = _public_keys(document)


# --- the verifier -------------------------------------------------------------------------


class AccessTokenVerifier:
    """Turns a bearer token into a `Principal`, or raises a 401 `ProblemError`."""

    REVOCATION_POLL_SECONDS = 0.5
    # revoked_at/disabled_at are written by other workers' clocks: re-read this much history
    # on each poll so modest clock skew or a slow commit cannot hide a revocation
    POLL_OVERLAP = dt.timedelta(seconds=60)
    OWN_KEY_RELOAD_MIN_SECONDS = 1.0
    OWN_KEY_REFRESH_SECONDS = 60.0
    AGENCY_CACHE_SECONDS = 300.0
    CACHE_MAX_ENTRIES = 100_000

    def __init__(self, settings: Settings, async_engine: AsyncEngine) -> None:
        self._settings = settings
        self._engine = async_engine
        self._leeway = float(settings.clock_leeway_seconds)
        self._verified: dict[bytes, Principal] = {}
        self._revoked: dict[str, float] = {}  # jti → when it can be forgotten (epoch seconds)
        self._disabled_clients: set[str] = set()
        self._polled_at = float("-inf")
        self._poll_since = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        self._poll_lock = asyncio.Lock()
        self._own_keys: dict[str, Key] = {}
        self._own_keys_loaded_at = float("-inf")
        self._own_keys_lock = asyncio.Lock()
        self._agency_kinds: dict[str, tuple[AgencyKind, float]] = {}
        self._external = {
            issuer.issuer: ExternalIssuerKeys(issuer, settings.jwks_min_refetch_seconds)
            for issuer in settings.external_issuers
        }

    async def verify(self, token: str) -> Principal:
        # size first: nothing of an oversized token is decoded, hashed or cached
        if len(token) > self._settings.max_token_bytes:
            raise _refused("token too large")
        await self._poll_revocations()
        now = time.time()
        digest = hashlib.sha256(token.encode()).digest()
        principal = self._verified.get(digest)
        if principal is None:
            try:
                principal = await self._verify_uncached(token, now)
            except InvalidTokenError as exc:
                raise _refused(exc.reason) from None
            self._remember(digest, principal, now)
        if now > principal.expires_at + self._leeway:
            self._verified.pop(digest, None)
            raise _refused("expired")
        if principal.token_jti in self._revoked:
            raise _refused("revoked")
        if (
            principal.issuer == self._settings.issuer
            and principal.client_id in self._disabled_clients
        ):
            raise _refused("client disabled")
        return principal

    def note_revoked(self, jti: str, expires_at: float | None = None) -> None:
        """Called by the revoke endpoint of this process: refused from the next request on."""
        self._revoked[jti] = (
            expires_at if expires_at is not None else time.time() + MAX_TOKEN_LIFETIME_SECONDS
        ) + self._leeway

    def note_disabled(self, client_id: str) -> None:
        """Called when a client of this process is disabled: its tokens are refused at once."""
        self._disabled_clients.add(client_id)

    # --- verification of one token --------------------------------------------------------

    async def _verify_uncached(self, token: str, now: float) -> Principal:
        unverified = read_unverified(token, self._settings.max_token_bytes)
        issuer = unverified.claims.get("iss")
        if issuer == self._settings.issuer:
            return await self._verify_own(token, unverified, now)
        external = self._external.get(issuer) if isinstance(issuer, str) else None
        if external is None:
            raise InvalidTokenError("untrusted issuer")
        return await self._verify_external(token, unverified, external, now)

    async def _verify_own(self, token: str, unverified: UnverifiedJWT, now: float) -> Principal:
        # the header passes its checks before an unknown kid may cost a key reload
        _, kid = check_header(unverified.header, OWN_TOKEN_ALGORITHMS, OWN_TOKEN_TYPES)
        await self._ensure_own_key(kid)
        claims = own_token_claims(token, unverified, self._own_keys.get, self._settings, now)
        kind = await self._agency_kind(claims["agency"])
        return Principal(
            client_id=claims["client_id"],
            subject=claims["sub"][:_SUBJECT_MAX],
            agency_id=claims["agency"],
            agency_kind=kind,
            scopes=_granted_scopes(claims["scope"].split(), kind, None),
            token_jti=claims["jti"],
            issuer=self._settings.issuer,
            expires_at=int(claims["exp"]),
        )

    async def _verify_external(
        self, token: str, unverified: UnverifiedJWT, external: ExternalIssuerKeys, now: float
    ) -> Principal:
        config = external.config
        algorithms = frozenset(config.algorithms)
        types = frozenset(normalised_type(t) for t in config.token_types)
        alg, kid = check_header(unverified.header, algorithms, types)
        key = await external.key_for(kid)
        if key is None:
            raise InvalidTokenError("unknown key id")
        verify_signature(token, key, alg)
        claims = unverified.claims
        check_claims(
            claims,
            issuer=config.issuer,
            audience=config.audience,
            now=now,
            leeway=self._leeway,
            max_lifetime=config.max_token_lifetime_seconds,
        )
        agency_id = config.agency or _required_str(claims, config.agency_claim, _ID_MAX)
        if config.agency is None and agency_id not in config.agencies:
            raise InvalidTokenError("agency not served by this issuer")
        kind = await self._agency_kind(agency_id)
        subject = _required_str(claims, config.subject_claim)
        client = claims.get(config.client_id_claim) or claims.get("client_id") or subject
        jti = claims.get("jti")
        return Principal(
            # prefixed so an external client can never pass for one of ours in the audit
            client_id=_bounded_id(f"ext:{client}" if isinstance(client, str) else f"ext:{subject}"),
            subject=subject[:_SUBJECT_MAX],
            agency_id=agency_id,
            agency_kind=kind,
            scopes=_granted_scopes(
                _scope_list(claims.get(config.scope_claim)), kind, config.allowed_scopes
            ),
            token_jti=_bounded_id(jti if isinstance(jti, str) and jti else "sha256:" + token),
            issuer=config.issuer,
            expires_at=int(_numeric(claims, "exp")),
        )

    # --- caches -----------------------------------------------------------------------------

    def _remember(self, digest: bytes, principal: Principal, now: float) -> None:
        if len(self._verified) >= self.CACHE_MAX_ENTRIES:
            horizon = now - self._leeway
            self._verified = {d: p for d, p in self._verified.items() if p.expires_at > horizon}
            if len(self._verified) >= self.CACHE_MAX_ENTRIES:
                # still full of live tokens: drop the oldest half (dicts keep insertion order)
                keep = list(self._verified.items())[self.CACHE_MAX_ENTRIES // 2 :]
                self._verified = dict(keep)
        self._verified[digest] = principal

    async def _ensure_own_key(self, kid: str) -> None:
        """Reload our public keys when they are a minute old, or for an unknown `kid` at most
        once a second. A token with a brand-new `kid` (just after a rotation) waits for the
        next permitted reload instead of being refused; a flood of made-up kids still costs
        one query a second."""
        if kid in self._own_keys:
            # a routine refresh never makes a valid token queue behind unknown-kid requests
            if (
                self._own_keys_age() >= self.OWN_KEY_REFRESH_SECONDS
                and not self._own_keys_lock.locked()
            ):
                async with self._own_keys_lock:
                    await self._reload_own_keys()
            return
        asked_at = time.monotonic()
        async with self._own_keys_lock:
            if self._own_keys_loaded_at >= asked_at:
                return  # a reload began after this request arrived: nothing newer to find
            wait = self.OWN_KEY_RELOAD_MIN_SECONDS - self._own_keys_age()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._reload_own_keys()

    async def _reload_own_keys(self) -> None:
        started = time.monotonic()  # the snapshot holds every key committed before this
        async with self._engine.connect() as conn:
            jwks = await repository.published_public_jwks(conn, utcnow() - VERIFICATION_GRACE)
        self._own_keys = own_verification_keys(jwks)
        self._own_keys_loaded_at = started

    def _own_keys_age(self) -> float:
        return time.monotonic() - self._own_keys_loaded_at

    async def _agency_kind(self, agency_id: str) -> AgencyKind:
        cached = self._agency_kinds.get(agency_id)
        if cached is not None and time.monotonic() - cached[1] < self.AGENCY_CACHE_SECONDS:
            return cached[0]
        async with self._engine.connect() as conn:
            kind = await repository.agency_kind(conn, agency_id)
        if kind is None:
            raise InvalidTokenError("unknown agency")
        self._agency_kinds[agency_id] = (kind, time.monotonic())
        return kind

    async def _poll_revocations(self) -> None:
        """Learn revocations and disabled clients written by any worker, at most twice a
        second; requests wait for a due poll, so the cross-worker delay stays bounded."""
        if time.monotonic() - self._polled_at < self.REVOCATION_POLL_SECONDS:
            return
        async with self._poll_lock:
            if time.monotonic() - self._polled_at < self.REVOCATION_POLL_SECONDS:
                return
            started = utcnow()
            since = self._poll_since
            async with self._engine.connect() as conn:
                revoked = await repository.revoked_since(conn, since)
                disabled = await repository.disabled_clients_since(conn, since)
            for jti, expires_at, _revoked_at in revoked:
                self._revoked[jti] = expires_at.timestamp() + self._leeway
            self._disabled_clients.update(client_id for client_id, _ in disabled)
            self._poll_since = started - self.POLL_OVERLAP
            self._polled_at = time.monotonic()
            self._forget_expired_revocations()

    def _forget_expired_revocations(self) -> None:
        now = time.time()
        if any(until < now for until in self._revoked.values()):
            self._revoked = {jti: until for jti, until in self._revoked.items() if until >= now}
