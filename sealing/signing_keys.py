"""Where the private half of a new P-256 signing key (access tokens, protection letters) is
made, and how it is read back to sign: in the PKCS#11 token when one is configured (unless
`SANAD_SEALING_PKCS11_SIGNING_KEYS=false`), where it stays (`sealing/token_signing.py`);
otherwise here, stored as a PEM sealed like any other secret. Keys made before a token was
configured keep signing from their sealed PEM until they are rotated. (The transparency log's
key: `transparency/keys.py`.)"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from config.settings import Settings
from sealing import seal, token_settings, unseal
from sealing.box import DESTROYED, TOKEN_KEY, SecretUnreadableError
from sealing.token_login import TokenSettings
from sealing.token_signing import TokenSigningKey, generate_signing_key


def signing_token(settings: Settings) -> TokenSettings | None:
    """The PKCS#11 token new signing keys are made in, if one is configured for them."""
    token = token_settings(settings)
    return token if token is not None and settings.sealing_pkcs11_signing_keys else None


def new_p256_key(
    kid_of: Callable[[ECKey], str], context_of: Callable[[str], str]
) -> tuple[str, ECKey, str]:
    """(its kid, the key — its public half only when the token holds the private one —, what
    the database stores for the private half)."""
    token = signing_token(Settings())
    if token is not None:
        stored, public = generate_signing_key(token)
        key = ECKey.import_key(public)
        return kid_of(key), key, stored
    key = ECKey.generate_key("P-256", private=True)
    kid = kid_of(key)
    return kid, key, seal(key.as_pem(private=True).decode("ascii"), context_of(kid))


def private_p256_key(stored: str, context: str) -> ec.EllipticCurvePrivateKey:
    """The private key that signs, from what the database stores for it."""
    if stored.startswith(DESTROYED):
        raise SecretUnreadableError("a retired key: its private half was destroyed")
    if stored.startswith(TOKEN_KEY):
        token = token_settings(Settings())
        if token is None:
            raise SecretUnreadableError("the key is in a PKCS#11 token, and none is configured")
        return TokenSigningKey(token, stored)
    loaded = serialization.load_pem_private_key(unseal(stored, context).encode(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise SecretUnreadableError("the stored key is not an EC private key")
    return loaded
