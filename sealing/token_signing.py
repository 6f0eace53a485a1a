"""P-256 signing keys made and kept in the PKCS#11 token: the private halves of the keys that
sign access tokens and protection letters never exist outside it, so not even the running
service holds one. The database row keeps only the key's label in the token
(`p11key:<label>`). `TokenSigningKey` is a `cryptography` EC private key whose `sign` asks the
token (CKM_ECDSA over a digest made here, about 85 µs with SoftHSM), so joserfc and the COSE
letter code sign with it unchanged; it refuses to be exported or used for key agreement."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, NoReturn, cast

import pkcs11
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from sealing.box import TOKEN_KEY
from sealing.token_login import TokenObject, TokenSettings, login

if TYPE_CHECKING:
    from cryptography.utils import Buffer
    from pkcs11.types import SignMixin

CURVE = ec.SECP256R1()
COORDINATE_BYTES = 32


def generate_signing_key(settings: TokenSettings) -> tuple[str, ec.EllipticCurvePublicKey]:
    """A new P-256 key pair in the token, the private half sensitive and never extractable,
    for signing only: (what the database stores for it, its public key)."""
    label = f"sanad-signing-{uuid.uuid4().hex}"
    token = login(settings)
    with token.lock:
        public, _ = token.session.generate_keypair(
            KeyType.EC,
            store=True,
            label=label,
            public_template={
                Attribute.EC_PARAMS: encode_named_curve_parameters(CURVE.name),
                Attribute.VERIFY: True,
                Attribute.ENCRYPT: False,
                Attribute.WRAP: False,
                Attribute.DERIVE: False,
            },
            private_template={
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
                Attribute.DECRYPT: False,
                Attribute.UNWRAP: False,
                Attribute.DERIVE: False,
            },
        )
        public_key = _public_key(public)
    return TOKEN_KEY + label, public_key


def _public_key(public: pkcs11.PublicKey) -> ec.EllipticCurvePublicKey:
    loaded = serialization.load_der_public_key(encode_ec_public_key(public))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    return loaded


def _pair(session: pkcs11.Session, label: str) -> tuple[SignMixin, pkcs11.PublicKey]:
    try:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
        public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=label)
    except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned):
        raise ValueError(f"PKCS#11 signing key {label!r}: not in the token, or twice") from None
    if private[Attribute.EXTRACTABLE] or not private[Attribute.SENSITIVE]:
        raise ValueError(f"PKCS#11 signing key {label!r}: extractable or not sensitive; refused")
    return cast("SignMixin", private), cast(pkcs11.PublicKey, public)


class TokenSigningKey(ec.EllipticCurvePrivateKey):
    """The private half of a P-256 key in the token, as `cryptography` sees a private key."""

    def __init__(self, settings: TokenSettings, stored: str) -> None:
        label = stored.removeprefix(TOKEN_KEY)
        self._pair = TokenObject(settings, lambda session: _pair(session, label))
        self._public = self._pair.use(lambda pair: _public_key(pair[1]))

    def sign(self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        """A DER-encoded ECDSA signature, as `cryptography` returns one."""
        if not isinstance(signature_algorithm, ec.ECDSA) or isinstance(
            signature_algorithm.algorithm, utils.Prehashed
        ):
            raise TypeError("a token key signs ECDSA over a hash it is given the data for")
        digest = hashes.Hash(signature_algorithm.algorithm)
        digest.update(bytes(data))
        summary = digest.finalize()
        raw = self._pair.use(lambda pair: pair[0].sign(summary, mechanism=Mechanism.ECDSA))
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

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> NoReturn:
        raise TypeError("the private key never leaves the PKCS#11 token")

    def __copy__(self) -> TokenSigningKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> TokenSigningKey:
        return self
