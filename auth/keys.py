"""ES256 keys that sign our access tokens: creation, rotation without downtime, and the JWKS.

A rotated key stops signing at once but stays published and verifiable for its grace period:
the longest token lifetime plus the clock leeway, so every token it signed expires first.
These functions commit: key management is an operation of its own, never part of another
transaction."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from joserfc.jwk import ECKey, Key, KeySet, OKPKey, import_key
from sqlalchemy.orm import Session

from auth import repository
from schemas.identity import SigningKey
from schemas.types import utcnow
from sealing.signing_keys import new_p256_key, private_p256_key

SIGNING_ALG = "ES256"
# Algorithms our own tokens may carry; EdDSA (and its RFC 9864 name Ed25519) is accepted so
# keys can migrate to Ed25519.
OWN_TOKEN_ALGORITHMS = frozenset({"ES256", "EdDSA", "Ed25519"})
# Settings.access_token_lifetime_seconds and ClientCreate.token_lifetime_seconds are capped
# at 900 s and Settings.clock_leeway_seconds at 10 s: no token outlives its key by more.
MAX_TOKEN_LIFETIME_SECONDS = 900
MAX_CLOCK_LEEWAY_SECONDS = 10
VERIFICATION_GRACE = dt.timedelta(seconds=MAX_TOKEN_LIFETIME_SECONDS + MAX_CLOCK_LEEWAY_SECONDS)


def new_signing_key() -> SigningKey:
    """A fresh P-256 key, made in the PKCS#11 token when one is configured; its `kid` is the
    RFC 7638 thumbprint of the public key."""
    kid, key, stored = new_p256_key(lambda key: key.thumbprint(), sealing_context)
    public_jwk: dict[str, object] = {
        **key.as_dict(private=False),
        "kid": kid,
        "alg": SIGNING_ALG,
        "use": "sig",
    }
    return SigningKey(kid=kid, alg=SIGNING_ALG, private_pem=stored, public_jwk=public_jwk)


def sealing_context(kid: str) -> str:
    """What a token key's sealed private half is bound to (sealing/)."""
    return f"signing_key:{kid}"


def current_signing_key(session: Session) -> SigningKey | None:
    """The key new tokens are signed with: the newest active one."""
    active = repository.active_signing_keys(session)
    return active[0] if active else None


def ensure_signing_key(session: Session) -> SigningKey:
    """The current signing key, created (and committed) if there is none."""
    current = current_signing_key(session)
    if current is not None:
        return current
    key = repository.add(session, new_signing_key())
    session.commit()
    return key


def rotate_signing_key(session: Session) -> SigningKey:
    """Retire every active key and make a new one current; the retired keys stay published."""
    repository.retire_signing_keys(session, utcnow())
    key = repository.add(session, new_signing_key())
    session.commit()
    return key


def published_keys(session: Session, now: dt.datetime | None = None) -> list[SigningKey]:
    """Keys whose tokens may still be valid: active ones and those inside their grace period."""
    retired_after = (now or utcnow()) - VERIFICATION_GRACE
    return list(repository.published_signing_keys(session, retired_after))


def public_jwks(session: Session) -> dict[str, object]:
    """The JWK Set served at `/.well-known/jwks.json`: public halves only."""
    return {"keys": [dict(key.public_jwk) for key in published_keys(session)]}


def verification_key_set(public_jwks_list: list[dict[str, object]]) -> dict[str, Key]:
    """`kid` → public key, keeping only asymmetric public keys our tokens may be signed with."""
    keys: dict[str, Key] = {}
    for jwk in public_jwks_list:
        kid = jwk.get("kid")
        if not isinstance(kid, str) or jwk.get("alg", SIGNING_ALG) not in OWN_TOKEN_ALGORITHMS:
            continue
        key = import_key(jwk)  # type: ignore[arg-type]
        if isinstance(key, ECKey | OKPKey) and not key.is_private:
            keys[kid] = key
    return keys


@lru_cache(maxsize=16)
def _private_key(kid: str, private_pem: str) -> ECKey:
    # unsealing and parsing cost more than signing; keys are immutable, so cache by (kid, pem)
    private = private_p256_key(private_pem, sealing_context(kid))
    # described by its public half: joserfc would otherwise export the private numbers to
    # describe it, which a key held in a PKCS#11 token refuses
    public = ECKey.import_key(private.public_key()).as_dict(private=False)
    return ECKey(private, public, {"kid": kid, "alg": SIGNING_ALG, "use": "sig"})


def signing_key_set(key: SigningKey) -> KeySet:
    """The private key as a one-key set, so joserfc writes its `kid` into the JWS header."""
    return KeySet([_private_key(key.kid, key.private_pem)])
