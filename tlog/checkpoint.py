"""C2SP signed notes with Ed25519 keys (byte-compatible with golang.org/x/mod/sumdb/note), the
tlog-checkpoint body carried in them, and tlog-cosignature/v1 timestamped witness cosignatures."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAX_SIGNATURES = 100  # the spec demands at least 16; Go's note package stops at 100
MAX_TREE_SIZE = 2**64 - 1
MAX_COSIGNATURE_TIME = 2**63 - 1
_SIGNATURE_LINE_PREFIX = "\u2014 "  # em dash, space
_SIGNER_KEY_PREFIX = "PRIVATE+KEY+"
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_KEY_ID_SIZE = 4
_HASH_SIZE = 32
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")  # bounded: int() of huge strings is slow


class SignatureType(IntEnum):
    """Signature type byte of the signed-note spec; it enters the key id."""

    ED25519 = 0x01  # plain note signature, used by the log
    COSIGNATURE_V1 = 0x04  # timestamped Ed25519 cosignature, used by witnesses


class NoteError(ValueError):
    """A signed note or checkpoint was refused."""


class MalformedNoteError(NoteError):
    """The bytes are not a well-formed signed note, checkpoint or key."""


class UnverifiedNoteError(NoteError):
    """No signature by a required known key was found."""


class InvalidSignatureError(NoteError):
    """A signature from a known key did not verify."""


def _encode_base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _decode_base64(text: str) -> bytes:
    """Standard base64, refusing any non-canonical spelling so one value has one encoding."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise MalformedNoteError("invalid base64") from exc
    if _encode_base64(raw) != text:
        raise MalformedNoteError("non-canonical base64")
    return raw


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty and contain neither Unicode spaces nor '+'."""
    return bool(name) and "+" not in name and not any(char.isspace() for char in name)


def _signature_type(type_byte: int) -> SignatureType:
    try:
        return SignatureType(type_byte)
    except ValueError:
        raise MalformedNoteError(f"unsupported signature type {type_byte:#04x}") from None


def compute_key_id(name: str, signature_type: SignatureType, public_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    return sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def _cosigned_message(text: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + text


@dataclass(frozen=True)
class NoteVerifier:
    """A known public key: the name and id that signature lines must carry, and the key."""

    name: str
    signature_type: SignatureType
    public_key: bytes  # raw 32-byte Ed25519 key

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name) or len(self.public_key) != _ED25519_KEY_SIZE:
            raise MalformedNoteError("invalid key name or Ed25519 public key")

    @property
    def key_id(self) -> bytes:
        return compute_key_id(self.name, self.signature_type, self.public_key)

    @classmethod
    def from_verifier_key(cls, verifier_key: str) -> NoteVerifier:
        """Parse `name+hex(key id)+base64(type || public key)` (sumdb/note's vkey format). The
        hex reads in either case, as Go's parser reads it, so one key has several spellings:
        compare keys as verifiers (or their `verifier_key()`, the canonical lower-case
        spelling), never as the strings given."""
        name, _, rest = verifier_key.partition("+")
        hex_key_id, _, encoded_key = rest.partition("+")
        typed_key = _decode_base64(encoded_key)
        if not _HEX_KEY_ID.fullmatch(hex_key_id) or not typed_key:
            raise MalformedNoteError("malformed verifier key")
        verifier = cls(name, _signature_type(typed_key[0]), typed_key[1:])
        if verifier.key_id != bytes.fromhex(hex_key_id):
            raise MalformedNoteError("verifier key id does not match the key")
        return verifier

    def verifier_key(self) -> str:
        typed_key = bytes([self.signature_type]) + self.public_key
        return f"{self.name}+{self.key_id.hex()}+{_encode_base64(typed_key)}"

    def verify_signature(self, text: bytes, signature: bytes) -> int | None:
        """Verify a signature (the bytes after the key id) over a note text; return the
        cosignature timestamp, or None for a plain signature."""
        timestamp = None
        if self.signature_type is SignatureType.COSIGNATURE_V1:
            timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
            signature = signature[_TIMESTAMP_SIZE:]
            text = _cosigned_message(text, timestamp)
        if (timestamp or 0) > MAX_COSIGNATURE_TIME or not self._ed25519_verifies(text, signature):
            raise InvalidSignatureError(f"invalid signature for key {self.name}")
        return timestamp

    def _ed25519_verifies(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NoteSigner:
    """A private key with the name (and signature type) it signs under."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    signature_type: SignatureType = SignatureType.ED25519

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise MalformedNoteError("key names are non-empty, without spaces or '+'")

    @classmethod
    def generate(
        cls, name: str, signature_type: SignatureType = SignatureType.ED25519
    ) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.generate(), signature_type)

    @classmethod
    def from_signer_key(
        cls, signer_key: str, signature_type: SignatureType = SignatureType.ED25519
    ) -> NoteSigner:
        """Parse sumdb/note's `PRIVATE+KEY+name+hex(key id)+base64(0x01 || seed)`; a witness
        reuses such a key for cosignatures by passing COSIGNATURE_V1."""
        if not signer_key.startswith(_SIGNER_KEY_PREFIX):
            raise MalformedNoteError("a signer key starts with PRIVATE+KEY+")
        name, _, rest = signer_key[len(_SIGNER_KEY_PREFIX) :].partition("+")
        hex_key_id, _, encoded_seed = rest.partition("+")
        typed_seed = _decode_base64(encoded_seed)
        if not _HEX_KEY_ID.fullmatch(hex_key_id) or len(typed_seed) != 1 + _ED25519_KEY_SIZE:
            raise MalformedNoteError("malformed signer key")
        if _signature_type(typed_seed[0]) is not SignatureType.ED25519:
            raise MalformedNoteError("signer keys are plain Ed25519 keys")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(typed_seed[1:]), signature_type)
        plain_key_id = compute_key_id(name, SignatureType.ED25519, signer.public_key)
        if plain_key_id != bytes.fromhex(hex_key_id):
            raise MalformedNoteError("signer key id does not match the key")
        return signer

    def signer_key(self) -> str:
        """The sumdb/note encoding of this private key (always typed 0x01, as Go writes it)."""
        typed_seed = bytes([SignatureType.ED25519]) + self.private_key.private_bytes_raw()
        plain_key_id = compute_key_id(self.name, SignatureType.ED25519, self.public_key)
        encoded_seed = _encode_base64(typed_seed)
        return f"{_SIGNER_KEY_PREFIX}{self.name}+{plain_key_id.hex()}+{encoded_seed}"

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.signature_type, self.public_key)

    def sign(self, text: bytes, timestamp: int | None = None) -> NoteSignature:
        """Signature line over a note text; cosigners must state the time, signers must not."""
        if self.signature_type is SignatureType.COSIGNATURE_V1:
            if timestamp is None or not 0 <= timestamp <= MAX_COSIGNATURE_TIME:
                raise ValueError("a cosignature needs a POSIX timestamp in [0, 2**63)")
            signed = self.private_key.sign(_cosigned_message(text, timestamp))
            payload = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signed
        elif timestamp is not None:
            raise ValueError("plain Ed25519 note signatures carry no timestamp")
        else:
            payload = self.private_key.sign(text)
        return NoteSignature(self.name, self.verifier().key_id, payload)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key id, and the signature bytes after the key id."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        encoded = _encode_base64(self.key_id + self.signature)
        return f"{_SIGNATURE_LINE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class SignedNote:
    """A note text (ending in a newline) and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> bytes:
        return (self.text + "\n" + "".join(sig.line() for sig in self.signatures)).encode()


def parse_note(data: bytes) -> SignedNote:
    """Split a signed note into text and signature lines, refusing any malformed byte."""
    try:
        message = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNoteError("a note is UTF-8") from exc
    if any(char < " " and char != "\n" for char in message):
        raise MalformedNoteError("a note has no control characters but newline")
    # The text ends at the last blank line, so the text itself may contain blank lines.
    split = message.rfind("\n\n")
    if split < 0 or not message.endswith("\n") or split + 2 == len(message):
        raise MalformedNoteError("a note ends with a blank line and signature lines")
    lines = message[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_SIGNATURE_LINE_PREFIX):
            raise MalformedNoteError("signature lines start with an em dash and a space")
        name, _, encoded = line[len(_SIGNATURE_LINE_PREFIX) :].partition(" ")
        raw = _decode_base64(encoded)
        if not is_valid_key_name(name) or len(raw) <= _KEY_ID_SIZE:
            raise MalformedNoteError("malformed signature line")
        signatures.append(NoteSignature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:]))
    return SignedNote(message[: split + 1], tuple(signatures))


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified under a known key; timestamp is set for cosignatures."""

    name: str
    key_id: bytes
    signature_type: SignatureType
    timestamp: int | None


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures from known keys all verified."""

    text: str
    verified: tuple[VerifiedSignature, ...]
    unverified: tuple[NoteSignature, ...]  # lines from unknown keys, ignored as the spec asks


def open_note(data: bytes, known_keys: Iterable[NoteVerifier]) -> OpenedNote:
    """Parse a note and check every signature from a known key (sumdb/note's Open): a bad one
    refuses the note, unknown ones are set aside, and at least one must verify."""
    note = parse_note(data)
    by_identity: dict[tuple[str, bytes], list[NoteVerifier]] = {}
    for verifier in known_keys:
        by_identity.setdefault((verifier.name, verifier.key_id), []).append(verifier)
    text = note.text.encode()
    verified: dict[tuple[str, bytes], VerifiedSignature] = {}
    unverified: dict[NoteSignature, None] = {}  # ordered set: repeated lines count once
    for sig in note.signatures:
        candidates = by_identity.get((sig.name, sig.key_id), [])
        if not candidates:
            unverified[sig] = None
            continue
        if len(candidates) > 1:
            raise NoteError(f"ambiguous key {sig.name}+{sig.key_id.hex()}")
        # Every line from a known key is checked (Go skips repeats; the spec says MUST verify).
        verifier = candidates[0]
        timestamp = verifier.verify_signature(text, sig.signature)
        verified.setdefault(
            (sig.name, sig.key_id),
            VerifiedSignature(sig.name, sig.key_id, verifier.signature_type, timestamp),
        )
    if not verified:
        raise UnverifiedNoteError("note has no verifiable signatures")
    return OpenedNote(note.text, tuple(verified.values()), tuple(unverified))


def _check_line(line: str, what: str) -> None:
    if not line or any(char < " " for char in line):
        raise MalformedNoteError(f"checkpoint {what} must be a non-empty single line")


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        for extension in self.extensions:
            _check_line(extension, "extension line")
        if not 0 <= self.size <= MAX_TREE_SIZE or len(self.root_hash) != _HASH_SIZE:
            raise MalformedNoteError("checkpoint size or root hash out of range")

    def body(self) -> str:
        lines = [self.origin, str(self.size), _encode_base64(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise MalformedNoteError("a checkpoint body ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not _DECIMAL_SIZE.fullmatch(lines[1]):
            raise MalformedNoteError("a checkpoint is origin, decimal size, root hash, ...")
        return cls(lines[0], int(lines[1]), _decode_base64(lines[2]), tuple(lines[3:]))


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint signed by its log, with the cosignatures of known witnesses."""

    checkpoint: Checkpoint
    cosignatures: tuple[VerifiedSignature, ...]  # by known witnesses, each with its time


def sign_checkpoint(checkpoint: Checkpoint, log_signer: NoteSigner) -> bytes:
    """The checkpoint as a signed note carrying the log's signature."""
    body = checkpoint.body()
    return SignedNote(body, (log_signer.sign(body.encode()),)).encode()


def cosign_checkpoint(signed_checkpoint: bytes, cosigner: NoteSigner, timestamp: int) -> bytes:
    """Append a witness cosignature, replacing an earlier one by the same key. The witness must
    have opened the checkpoint and checked consistency first: this only signs."""
    note = parse_note(signed_checkpoint)
    Checkpoint.from_body(note.text)  # a witness cosigns checkpoints and nothing else
    cosignature = cosigner.sign(note.text.encode(), timestamp)
    kept = tuple(
        sig
        for sig in note.signatures
        if (sig.name, sig.key_id) != (cosignature.name, cosignature.key_id)
    )
    return SignedNote(note.text, (*kept, cosignature)).encode()


def open_checkpoint(
    signed_checkpoint: bytes,
    log_key: NoteVerifier,
    witness_keys: Iterable[NoteVerifier] = (),
    origin: str | None = None,
) -> VerifiedCheckpoint:
    """Verify the log's signature (and any known witness cosignatures) and parse the body;
    origin defaults to the log key's name, as tlog-checkpoint recommends."""
    opened = open_note(signed_checkpoint, [log_key, *witness_keys])
    log_identity = (log_key.name, log_key.key_id)
    if not any((sig.name, sig.key_id) == log_identity for sig in opened.verified):
        raise UnverifiedNoteError(f"checkpoint is not signed by {log_key.name}")
    checkpoint = Checkpoint.from_body(opened.text)
    if checkpoint.origin != (origin if origin is not None else log_key.name):
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the expected log")
    cosignatures = tuple(
        sig for sig in opened.verified if sig.signature_type is SignatureType.COSIGNATURE_V1
    )
    return VerifiedCheckpoint(checkpoint, cosignatures)
