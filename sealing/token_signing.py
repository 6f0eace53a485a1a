"""Signing keys made and kept in the PKCS#11 token: the P-256 keys that sign access tokens and
protection letters, and the transparency log's Ed25519 key. Their private halves never exist
outside the token, so not even the running service holds one; the database keeps only the
key's label in the token (`p11key:<label>`). `TokenSigningKey` and `TokenEd25519Key` are
`cryptography` private keys whose `sign` asks the token (CKM_ECDSA over a digest made here,
about 80 µs with SoftHSM; CKM_EDDSA, about 200 µs), so joserfc, the COSE letter code and the
note signer sign with them unchanged; they refuse to be exported or used for anything else."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, NoReturn, cast

import pkcs11
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from sealing.box import TOKEN_KEY
from sealing.token_login import TokenObject, TokenSettings, login, require_kept_in_token

if TYPE_CHECKING:
    from cryptography.utils import Buffer
    from pkcs11.types import SignMixin

CURVE = ec.SECP256R1()
COORDINATE_BYTES = 32
ED25519_PARAMS = bytes.fromhex("06032b6570")  # DER of the OID 1.3.101.112 (RFC 8410)
ED25519_KEY_BYTES = 32
# a public key's permissions and a private key's: it signs, it stays, and does nothing else
_PUBLIC = {Attribute.VERIFY: True, Attribute.ENCRYPT: False, Attribute.WRAP: False,
           Attribute.DERIVE: False}  # fmt: skip
_PRIVATE = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True,
            Attribute.DECRYPT: False, Attribute.UNWRAP: False, Attribute.DERIVE: False}  # fmt: skip


def _generate(
    settings: TokenSettings, key_type: KeyType, params: bytes, mechanism: Mechanism | None = None
) -> tuple[str, pkcs11.PublicKey]:
    label = f"sanad-signing-{uuid.uuid4().hex}"
    token = login(settings)
    with token.lock:
        public, _ = token.session.generate_keypair(
            key_type,
            store=True,
            label=label,
            mechanism=mechanism,
            public_template={**_PUBLIC, Attribute.EC_PARAMS: params},
            private_template=_PRIVATE,
        )
    return TOKEN_KEY + label, public


def generate_signing_key(settings: TokenSettings) -> tuple[str, ec.EllipticCurvePublicKey]:
    """A new P-256 key pair in the token: (what the database stores for it, its public key)."""
    stored, public = _generate(settings, KeyType.EC, encode_named_curve_parameters(CURVE.name))
    return stored, _p256_public(public)


def generate_ed25519_key(settings: TokenSettings) -> str:
    """A new Ed25519 key pair in the token: what the database stores for it (its public half
    is read through `TokenEd25519Key`)."""
    stored, _ = _generate(
        settings, KeyType.EC_EDWARDS, ED25519_PARAMS, Mechanism.EC_EDWARDS_KEY_PAIR_GEN
    )
    return stored


def _p256_public(public: pkcs11.PublicKey) -> ec.EllipticCurvePublicKey:
    loaded = serialization.load_der_public_key(encode_ec_public_key(public))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    return loaded


def _ed25519_public(public: pkcs11.PublicKey) -> ed25519.Ed25519PublicKey:
    point = bytes(public[Attribute.EC_POINT])
    # PKCS#11 3.0 wraps the 32 bytes in a DER OCTET STRING; some tokens give them bare
    raw = point[2:] if len(point) == ED25519_KEY_BYTES + 2 else point
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def _pair(session: pkcs11.Session, label: str) -> tuple[SignMixin, pkcs11.PublicKey]:
    try:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
        public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=label)
    except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned):
        raise ValueError(f"PKCS#11 signing key {label!r}: not in the token, or twice") from None
    require_kept_in_token(private, f"PKCS#11 signing key {label!r}")
    return cast("SignMixin", private), cast(pkcs11.PublicKey, public)


def destroy_key_pair(settings: TokenSettings, stored: str) -> None:
    """Destroy both halves of a key pair in the token (nothing to do if they are gone)."""
    label = stored.removeprefix(TOKEN_KEY)
    token = login(settings)
    with token.lock:
        for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
            for found in token.session.get_objects(
                {Attribute.CLASS: object_class, Attribute.LABEL: label}
            ):
                found.destroy()


class _HeldInToken:
    """What both kinds of token key share: the key pair found by its label, and refusals."""

    def __init__(self, settings: TokenSettings, stored: str) -> None:
        label = stored.removeprefix(TOKEN_KEY)
        self._pair = TokenObject(settings, lambda session: _pair(session, label))

    def _sign_in_token(self, data: bytes, mechanism: Mechanism) -> bytes:
        signature = self._pair.use(lambda pair: pair[0].sign(data, mechanism=mechanism))
        assert isinstance(signature, bytes)
        return signature

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> NoReturn:
        raise TypeError("the private key never leaves the PKCS#11 token")


class TokenSigningKey(_HeldInToken, ec.EllipticCurvePrivateKey):
    """The private half of a P-256 key in the token, as `cryptography` sees a private key."""

    def __init__(self, settings: TokenSettings, stored: str) -> None:
        super().__init__(settings, stored)
        self._public = self._pair.use(lambda pair: _p256_public(pair[1]))

    def sign(self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        """A DER-encoded ECDSA signature, as `cryptography` returns one."""
        if not isinstance(signature_algorithm, ec.ECDSA) or isinstance(
            signature_algorithm.algorithm, utils.Prehashed
        ):
            raise TypeError("a token key signs ECDSA over a hash it is given the data for")
        digest = hashes.Hash(signature_algorithm.algorithm)
        digest.update(bytes(data))
        raw = self._sign_in_token(digest.finalize(), Mechanism.ECDSA)
        r = int.from_bytes(raw[:COORDINATE_BYTES], "big")
        s = int.from_bytes(raw[COORDINATE_BYTES:], "big")
        return utils.encode_dss_signature(r, s)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    @property
    def curve(self) -> ec.EllipticCurve:
        return CURVE

    @property
    def key_size(self) -> int:
        return CURVE.key_size

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> NoReturn:
        raise TypeError("a signing key of the PKCS#11 token signs and does nothing else")

    def private_numbers(self) -> NoReturn:
        raise TypeError("the private key never leaves the PKCS#11 token")

    def __copy__(self) -> TokenSigningKey:
        return self  # one key in the token, whatever holds it

    def __deepcopy__(self, memo: dict[int, object]) -> TokenSigningKey:
        return self


class TokenEd25519Key(_HeldInToken, ed25519.Ed25519PrivateKey):
    """The private half of an Ed25519 key in the token, as `cryptography` sees one."""

    def __init__(self, settings: TokenSettings, stored: str) -> None:
        super().__init__(settings, stored)
        self._public = self._pair.use(lambda pair: _ed25519_public(pair[1]))

    def sign(self, data: Buffer) -> bytes:
        return self._sign_in_token(bytes(data), Mechanism.EDDSA)

    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self._public

    def private_bytes_raw(self) -> NoReturn:
        raise TypeError("the private key never leaves the PKCS#11 token")

    def __copy__(self) -> TokenEd25519Key:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> TokenEd25519Key:
        return self
