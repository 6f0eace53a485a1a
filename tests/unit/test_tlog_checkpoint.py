"""tlog.checkpoint against the golang.org/x/mod/sumdb/note and C2SP known answers, plus
round trips and refusals of signed checkpoints and witness cosignatures."""

import base64
from hashlib import sha256

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tlog.checkpoint import (
    Checkpoint,
    InvalidSignatureError,
    MalformedNoteError,
    NoteError,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    SignatureType,
    SignedNote,
    UnverifiedNoteError,
    cosign_checkpoint,
    open_checkpoint,
    open_note,
    parse_note,
    sign_checkpoint,
)
from tlog.merkle import leaf_hash

# Known answers published in golang.org/x/mod/sumdb/note (note.go docs and note_test.go).
PETER_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
NEUMANN_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_LINE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_LINE = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnW"
    "Lox33WWd1RvMc+QQ=\n"
)
# Witness verifier keys from transparency-dev/formats' tests: one native cosignature (0x04) key.
REMORA_COSIGNER_KEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
TEST_PLAIN_KEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
# The cosigned checkpoint example of c2sp.org/tlog-cosignature; its message example is at time
# 1679315147, which the witness line must carry after its key id.
C2SP_COSIGNED_EXAMPLE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Z"
    "hcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrD"
    "JsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
).encode()

LOG_NAME = "sanad.example/audit-log"


@pytest.fixture(scope="module")
def log_signer() -> NoteSigner:
    return NoteSigner.generate(LOG_NAME)


@pytest.fixture(scope="module")
def witness() -> NoteSigner:
    return NoteSigner.generate("witness.agency.example/w1", SignatureType.COSIGNATURE_V1)


@pytest.fixture(scope="module")
def signed(log_signer: NoteSigner) -> bytes:
    checkpoint = Checkpoint(LOG_NAME, 1_000_003, leaf_hash(b"root"), ("sequencer 7",))
    return sign_checkpoint(checkpoint, log_signer)


def test_sumdb_signing_known_answer() -> None:
    signer = NoteSigner.from_signer_key(PETER_SIGNER_KEY)
    assert signer.signer_key() == PETER_SIGNER_KEY
    assert signer.verifier().verifier_key() == PETER_VERIFIER_KEY
    signature = signer.sign(NEUMANN_TEXT.encode())
    assert (
        SignedNote(NEUMANN_TEXT, (signature,)).encode()
        == (NEUMANN_TEXT + "\n" + PETER_LINE).encode()
    )


def test_sumdb_open_known_answer() -> None:
    peter = NoteVerifier.from_verifier_key(PETER_VERIFIER_KEY)
    enoch = NoteVerifier.from_verifier_key(ENOCH_VERIFIER_KEY)
    message = (NEUMANN_TEXT + "\n" + PETER_LINE + ENOCH_LINE).encode()

    only_peter = open_note(message, [peter])
    assert only_peter.text == NEUMANN_TEXT
    assert [(sig.name, sig.key_id.hex()) for sig in only_peter.verified] == [
        ("PeterNeumann", "c74f20a3")
    ]
    assert [sig.name for sig in only_peter.unverified] == ["EnochRoot"]
    assert len(open_note(message, [peter, enoch]).verified) == 2
    with pytest.raises(UnverifiedNoteError):
        open_note(message, [])
    with pytest.raises(NoteError, match="ambiguous"):
        open_note(message, [enoch, peter, enoch])
    corrupted = (NEUMANN_TEXT + "\n" + PETER_LINE[:60] + "ABCD" + PETER_LINE[60:]).encode()
    with pytest.raises(InvalidSignatureError):
        open_note(corrupted, [peter])


@pytest.mark.parametrize(
    "message",
    [
        NEUMANN_TEXT,
        NEUMANN_TEXT + "\n",
        NEUMANN_TEXT + "\n" + PETER_LINE[:-1],
        "\x01" + NEUMANN_TEXT + "\n" + PETER_LINE,
        NEUMANN_TEXT + "\n" + "\u2014 Bad Name " + PETER_LINE.split(" ")[-1],
        NEUMANN_TEXT + "\n" + PETER_LINE + "Unexpected line.\n",
        NEUMANN_TEXT + "\n" + PETER_LINE * 101,
    ],
)
def test_sumdb_malformed_notes_are_refused(message: str) -> None:
    peter = NoteVerifier.from_verifier_key(PETER_VERIFIER_KEY)
    with pytest.raises(MalformedNoteError):
        open_note(message.encode(), [peter])
    with pytest.raises(MalformedNoteError):
        open_note(b"\xff" + message.encode(), [peter])


def test_mangled_verifier_keys_are_refused() -> None:
    key = PETER_VERIFIER_KEY
    mangled = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)}
    mangled |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    mangled.discard(key)
    for candidate in mangled:
        with pytest.raises(MalformedNoteError):
            NoteVerifier.from_verifier_key(candidate)


def test_cosignature_key_ids_known_answer() -> None:
    remora = NoteVerifier.from_verifier_key(REMORA_COSIGNER_KEY)
    assert (remora.signature_type, remora.key_id.hex()) == (
        SignatureType.COSIGNATURE_V1,
        "da77ade7",
    )
    assert remora.verifier_key() == REMORA_COSIGNER_KEY
    plain = NoteVerifier.from_verifier_key(TEST_PLAIN_KEY)
    assert (plain.signature_type, plain.key_id.hex()) == (SignatureType.ED25519, "7997405c")


def test_c2sp_cosigned_checkpoint_example_layout() -> None:
    note = parse_note(C2SP_COSIGNED_EXAMPLE)
    checkpoint = Checkpoint.from_body(note.text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.body() == note.text
    log_line, witness_line = note.signatures
    assert len(log_line.signature) == 64
    assert len(witness_line.signature) == 8 + 64
    assert int.from_bytes(witness_line.signature[:8], "big") == 1679315147
    assert note.encode() == C2SP_COSIGNED_EXAMPLE


def test_checkpoint_round_trip(log_signer: NoteSigner, signed: bytes) -> None:
    verified = open_checkpoint(signed, log_signer.verifier())
    assert verified.checkpoint == Checkpoint(
        LOG_NAME, 1_000_003, leaf_hash(b"root"), ("sequencer 7",)
    )
    assert verified.cosignatures == ()
    root_line = base64.b64encode(leaf_hash(b"root")).decode()
    assert signed.startswith(f"{LOG_NAME}\n1000003\n{root_line}\nsequencer 7\n\n\u2014 ".encode())
    assert NoteVerifier.from_verifier_key(log_signer.verifier().verifier_key()) == (
        log_signer.verifier()
    )


def test_every_one_byte_change_is_refused(log_signer: NoteSigner, signed: bytes) -> None:
    for position in range(len(signed)):
        changed = bytearray(signed)
        changed[position] ^= 0x01
        with pytest.raises(NoteError):
            open_checkpoint(bytes(changed), log_signer.verifier())


def test_unknown_key_is_refused(signed: bytes) -> None:
    impostor = NoteSigner.generate(LOG_NAME)
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(signed, impostor.verifier())
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(signed, NoteSigner.generate("other.example/log").verifier())


def test_origin_must_be_the_expected_log(log_signer: NoteSigner) -> None:
    foreign = sign_checkpoint(Checkpoint("other.example/log", 1, bytes(32)), log_signer)
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(foreign, log_signer.verifier())
    opened = open_checkpoint(foreign, log_signer.verifier(), origin="other.example/log")
    assert opened.checkpoint.origin == "other.example/log"


def test_cosignature_round_trip(log_signer: NoteSigner, witness: NoteSigner, signed: bytes) -> None:
    cosigned = cosign_checkpoint(signed, witness, timestamp=1_767_225_600)
    assert cosigned.startswith(signed)
    verified = open_checkpoint(cosigned, log_signer.verifier(), [witness.verifier()])
    [cosignature] = verified.cosignatures
    assert (cosignature.name, cosignature.timestamp) == (witness.name, 1_767_225_600)
    # A witness that does not know this cosigner still accepts the log's signature.
    assert open_checkpoint(cosigned, log_signer.verifier()).cosignatures == ()
    # Re-cosigning replaces the witness's earlier line instead of piling up lines.
    recosigned = cosign_checkpoint(cosigned, witness, timestamp=1_767_225_700)
    assert len(parse_note(recosigned).signatures) == 2
    [later] = open_checkpoint(recosigned, log_signer.verifier(), [witness.verifier()]).cosignatures
    assert later.timestamp == 1_767_225_700


def test_cosignature_bytes_follow_the_c2sp_spec(witness: NoteSigner, signed: bytes) -> None:
    """Rebuild the tlog-cosignature/v1 line by hand from the spec text, not from tlog."""
    note = parse_note(cosign_checkpoint(signed, witness, timestamp=1_679_315_147))
    line = note.signatures[-1]
    expected_id = sha256(witness.name.encode() + b"\n\x04" + witness.public_key).digest()[:4]
    assert (line.name, line.key_id) == (witness.name, expected_id)
    assert line.signature[:8] == (1_679_315_147).to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1679315147\n" + note.text.encode()
    Ed25519PublicKey.from_public_bytes(witness.public_key).verify(line.signature[8:], message)


def test_cosignature_binds_its_timestamp(
    log_signer: NoteSigner, witness: NoteSigner, signed: bytes
) -> None:
    note = parse_note(cosign_checkpoint(signed, witness, timestamp=1_767_225_600))
    log_line, witness_line = note.signatures
    shifted_time = (1_767_225_601).to_bytes(8, "big") + witness_line.signature[8:]
    backdated = SignedNote(
        note.text, (log_line, NoteSignature(witness.name, witness_line.key_id, shifted_time))
    ).encode()
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(backdated, log_signer.verifier(), [witness.verifier()])


def test_signature_types_do_not_mix(
    log_signer: NoteSigner, witness: NoteSigner, signed: bytes
) -> None:
    cosigned = cosign_checkpoint(signed, witness, timestamp=1_767_225_600)
    same_key_as_plain = NoteVerifier(witness.name, SignatureType.ED25519, witness.public_key)
    opened = open_checkpoint(cosigned, log_signer.verifier(), [same_key_as_plain])
    assert opened.cosignatures == ()
    with pytest.raises(ValueError):
        witness.sign(b"text\n")
    with pytest.raises(ValueError):
        log_signer.sign(b"text\n", timestamp=1)


def test_a_cosignature_alone_is_not_a_log_signature(
    log_signer: NoteSigner, witness: NoteSigner
) -> None:
    body = Checkpoint(LOG_NAME, 5, bytes(32)).body()
    only_witness = SignedNote(body, (witness.sign(body.encode(), timestamp=10),)).encode()
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(only_witness, log_signer.verifier(), [witness.verifier()])


@pytest.mark.parametrize(
    "body",
    [
        "origin\n5\n",
        "origin\n05\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n-5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n18446744073709551616\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n5\nAAAA\n",
        "origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",
        "origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nextension\n",
        "\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(MalformedNoteError):
        Checkpoint.from_body(body)
