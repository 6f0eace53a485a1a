"""The missions' letter-signing keys: P-256, one active key per mission, separate from the
OAuth token keys. Retired keys stay published until the last letter they signed expires, so a
letter stays verifiable for its whole life."""

from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from auth.policy import SCOPE_CEILING
from auth.repository import agency_kind
from letters import repository
from letters.credential import LetterKey
from problems import ProblemError
from schemas.letters import LetterSigningKey
from schemas.types import utcnow
from schemas.vocabulary import Scope
from sealing.signing_keys import new_p256_key, private_p256_key

ALG = "ES256"
MAX_LETTER_VALIDITY = dt.timedelta(days=730)  # LetterCreate.valid_days caps here
KEY_CACHE_SECONDS = 60.0
KID_LENGTH = 8  # the kid travels in every QR code: 48 bits of the thumbprint suffice
LETTER_KEY_USE = "protection-letter"


def new_letter_key(agency_id: str) -> LetterSigningKey:
    """A fresh P-256 key for the mission, made in the PKCS#11 token when one is configured."""
    kid, key, stored = new_p256_key(lambda key: key.thumbprint()[:KID_LENGTH], sealing_context)
    public_jwk: dict[str, object] = {
        **key.as_dict(private=False),
        "kid": kid,
        "alg": ALG,
        "use": "sig",
        # JWK extension members (RFC 7517 §4): this key signs COSE letter credentials only
        "sanad_key_use": LETTER_KEY_USE,
        "sanad_issuer": agency_id,
    }
    return LetterSigningKey(
        kid=kid,
        agency_id=agency_id,
        alg=ALG,
        private_pem=stored,
        public_jwk=public_jwk,
    )


def sealing_context(kid: str) -> str:
    """What a letter key's sealed private half is bound to (sealing/)."""
    return f"letter_signing_key:{kid}"


async def current_key(session: AsyncSession, agency_id: str) -> LetterSigningKey:
    """The mission's active key, created in the caller's transaction if it has none."""
    key = await repository.active_key(session, agency_id)
    if key is None:
        key = new_letter_key(agency_id)
        repository.add(session, key)
        await session.flush()
        KEY_CACHE.clear()
    return key


async def rotate(session: AsyncSession, agency_id: str) -> LetterSigningKey:
    """A new key for the agency's letters. Only an agency that may issue letters gets one
    (letters:write in `SCOPE_CEILING`: the mission): a key for another agency would be
    published, and trusted by every verifier, for letters in its name no one may issue."""
    kind = await agency_kind(await session.connection(), agency_id)
    if kind is None:
        raise ProblemError("not-found", f"no agency {agency_id}")
    if Scope.LETTERS_WRITE not in SCOPE_CEILING[kind]:
        raise ProblemError("agency-not-entitled", f"{agency_id} may issue no letters")
    now = utcnow()
    await repository.retire_keys(session, agency_id, now, now + MAX_LETTER_VALIDITY)
    key = new_letter_key(agency_id)
    repository.add(session, key)
    await session.flush()
    KEY_CACHE.clear()
    return key


async def public_jwks(session: AsyncSession) -> list[dict[str, object]]:
    """Public halves of every key whose letters may still be valid."""
    return [dict(key.public_jwk) for key in await repository.published_keys(session, utcnow())]


@lru_cache(maxsize=64)
def private_key(kid: str, private_pem: str) -> ec.EllipticCurvePrivateKey:
    # unsealing and parsing cost more than signing; keys never change, so cache by (kid, pem)
    return private_p256_key(private_pem, sealing_context(kid))


def public_key(jwk: dict[str, object]) -> ec.EllipticCurvePublicKey:
    key = ECKey.import_key(dict(jwk)).public_key  # type: ignore[arg-type]
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def letter_key(jwk: dict[str, object]) -> LetterKey:
    """A published key as verification uses it; a JWK naming no mission can vouch for none."""
    return LetterKey(public_key(jwk), str(jwk.get("sanad_issuer") or ""))


class _KeyCache:
    """Published letter keys, refreshed every minute, and at once for an unknown kid (a key
    another process just created) but no more than once a second."""

    def __init__(self) -> None:
        self._keys: dict[str, LetterKey] = {}
        self._loaded_at = -1e9

    async def get(
        self, db: AsyncConnection | AsyncSession, kid: str | None
    ) -> dict[str, LetterKey]:
        age = time.monotonic() - self._loaded_at
        if age > KEY_CACHE_SECONDS or (kid not in self._keys and age > 1.0):
            jwks = await repository.published_public_jwks(db, utcnow())
            self._keys = {str(jwk["kid"]): letter_key(jwk) for jwk in jwks}
            self._loaded_at = time.monotonic()
        return self._keys

    def clear(self) -> None:
        self._loaded_at = -1e9


KEY_CACHE = _KeyCache()
