"""Sealing inside a PKCS#11 token: an HSM, or a cloud KMS or HSM service through its PKCS#11
library. The AES-256 key is made in the token as sensitive and not extractable, so it never
exists outside it: what the service host holds is a PIN file that lets this process ask the
token to seal and open, which the token's operator can revoke, and no key that a copy of the
host's disk would carry away. Each seal and open is one AES-GCM call in the token (about 25 µs
with SoftHSM here; a networked HSM adds its round trip), bound to the same context as a key
file's (`sealing/box.py`), under the prefix `p11gcm1:`.

The nonce is drawn here, as for a key file: a token that insists on drawing GCM nonces itself
(some FIPS-mode HSMs refuse caller nonces with CKR_MECHANISM_PARAM_INVALID) is not supported."""

from __future__ import annotations

import os
from typing import ClassVar

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.mechanisms import GCMParams

from sealing.box import (
    NONCE_BYTES,
    TOKEN_SEALED,
    WRONG_KEY_OR_ROW,
    SecretUnreadableError,
    decoded,
    encoded,
)
from sealing.token_login import (
    TokenObject,
    TokenSettings,
    TokenUnavailableError,
    login,
    require_kept_in_token,
)

TAG_BITS = 128
KEY_BITS = 256


def _key_in(session: pkcs11.Session, label: str) -> pkcs11.SecretKey | None:
    keys = list(
        session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label})
    )
    if len(keys) > 1:
        raise ValueError(f"PKCS#11 key {label!r}: {len(keys)} keys carry this label")
    return keys[0] if keys else None  # type: ignore[return-value]


def _sealing_key(session: pkcs11.Session, label: str) -> pkcs11.SecretKey:
    """The key, refused unless it is an AES key that cannot leave the token."""
    key = _key_in(session, label)
    if key is None:
        raise ValueError(f"PKCS#11 key {label!r}: not in the token (sanad keys new-sealing-key)")
    if key[Attribute.KEY_TYPE] != KeyType.AES or key[Attribute.VALUE_LEN] != KEY_BITS // 8:
        raise ValueError(f"PKCS#11 key {label!r}: an AES-{KEY_BITS} key wanted")
    require_kept_in_token(key, f"PKCS#11 key {label!r}")
    return key


def create_key(settings: TokenSettings) -> None:
    """Make the sealing key in the token: AES-256, sensitive, never extractable, for encrypting
    and decrypting only (ValueError if a key of that label exists)."""
    token = login(settings)
    with token.lock:
        if _key_in(token.session, settings.key_label) is not None:
            raise ValueError(f"PKCS#11 key {settings.key_label!r}: already in the token")
        token.session.generate_key(
            KeyType.AES,
            KEY_BITS,
            label=settings.key_label,
            store=True,
            template={
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.ENCRYPT: True,
                Attribute.DECRYPT: True,
                Attribute.WRAP: False,
                Attribute.UNWRAP: False,
                Attribute.SIGN: False,
                Attribute.VERIFY: False,
                Attribute.DERIVE: False,
            },
        )


class TokenBox:
    """Seals and opens in the token, on the process's logged-in session with it."""

    prefix: ClassVar[str] = TOKEN_SEALED

    def __init__(self, settings: TokenSettings) -> None:
        self.settings = settings
        self._key = TokenObject(settings, lambda session: _sealing_key(session, settings.key_label))

    def seal(self, secret: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._in_token("encrypt", secret.encode(), nonce, context)
        return encoded(self.prefix, nonce, sealed)

    def open(self, stored: str, context: str) -> str:
        nonce, sealed = decoded(self.prefix, stored)
        try:
            plain = self._in_token("decrypt", sealed, nonce, context)
        except TokenUnavailableError:
            raise
        except p11.PKCS11Error:
            # tokens differ in what a failed tag check returns (SoftHSM: CKR_GENERAL_ERROR)
            raise SecretUnreadableError(WRONG_KEY_OR_ROW) from None
        return plain.decode()

    def _in_token(self, operation: str, data: bytes, nonce: bytes, context: str) -> bytes:
        gcm = GCMParams(nonce, context.encode(), TAG_BITS)

        def apply(key: pkcs11.SecretKey) -> bytes:
            out = getattr(key, operation)(data, mechanism=Mechanism.AES_GCM, mechanism_param=gcm)
            assert isinstance(out, bytes)  # bytes in, bytes out (an iterator only for iterators)
            return out

        return self._key.use(apply)
