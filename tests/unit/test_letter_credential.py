"""The letter credential: RFC vectors for base45 and COSE_Sign1, round trips and tampering
(fixed cases and hypothesis), size within one QR code."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from letters import base45
from letters.claims import fitted_credential
from letters.credential import (
    MAX_CREDENTIAL_CHARS,
    PREFIX,
    CoveredMember,
    LetterClaims,
    LetterKey,
    ParsedCredential,
    decode_claims,
    sign,
    signature_valid,
    verify,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "letters"
NOW = 1_800_000_000
KEY = ec.generate_private_key(ec.SECP256R1())
KEYS = {"k1": LetterKey(KEY.public_key(), "us-mission")}
CLAIMS = LetterClaims(
    letter_id="SL-2026-7K3M9QX2PD",
    issuer="us-mission",
    name="Mohammad Nabi Ahmadzai",
    name_native="محمد نبی احمدزی",
    father_name="Abdul Ghafoor",
    birth_year=1984,
    birth_calendar=None,
    members=(CoveredMember("Freshta Ahmadzai", "فرشته"), CoveredMember("Mariam Ahmadzai")),
    issued_at=NOW - 10,
    expires_at=NOW + 365 * 86400,
)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
    ],
)
def test_base45_rfc9285_vectors(raw: bytes, encoded: str) -> None:
    assert base45.encode(raw) == encoded
    assert base45.decode(encoded) == raw


@pytest.mark.parametrize("bad", ["GGW", "A", ":::", "ab"])
def test_base45_refuses_malformed_text(bad: str) -> None:
    with pytest.raises(ValueError):
        base45.decode(bad)


@given(st.binary(max_size=600))
def test_base45_round_trip(data: bytes) -> None:
    assert base45.decode(base45.encode(data)) == data


def test_rfc8392_signed_cwt_verifies_with_our_cose_core() -> None:
    vector = json.loads((VECTORS / "rfc8392_a3_signed_cwt.json").read_text())
    public = ec.EllipticCurvePublicNumbers(
        int(vector["public_key"]["x_hex"], 16),
        int(vector["public_key"]["y_hex"], 16),
        ec.SECP256R1(),
    ).public_key()
    tagged = cbor2.loads(bytes.fromhex(vector["signed_cwt_hex"]))
    protected, _unprotected, payload, signature = tagged.value
    parsed = ParsedCredential(vector["kid"], protected, payload, signature, CLAIMS)
    assert signature_valid(parsed, public)
    tampered = replace(parsed, payload=payload[:-1] + bytes([payload[-1] ^ 1]))
    assert not signature_valid(tampered, public)


def test_round_trip_and_size() -> None:
    text = sign(CLAIMS, "k1", KEY)
    assert text.startswith(PREFIX) and len(text) <= MAX_CREDENTIAL_CHARS
    check = verify(text, KEYS, NOW)
    assert check.outcome == "valid" and check.claims == CLAIMS


def test_a_key_vouches_only_for_letters_in_its_mission_s_name() -> None:
    """Two missions' keys are published side by side; mission A's key signing a letter whose
    `iss` names mission B is no letter of B's (nor of A's)."""
    in_another_name = sign(replace(CLAIMS, issuer="uk-mission"), "k1", KEY)
    assert verify(in_another_name, KEYS, NOW).outcome == "invalid"
    assert verify(in_another_name, KEYS, NOW).claims is None
    unnamed_key = {"k1": LetterKey(KEY.public_key(), "")}
    assert verify(sign(replace(CLAIMS, issuer=""), "k1", KEY), unnamed_key, NOW).outcome == (
        "invalid"
    )


def test_dates_judged_only_after_the_signature() -> None:
    text = sign(CLAIMS, "k1", KEY)
    assert verify(text, KEYS, CLAIMS.expires_at).outcome == "expired"
    assert verify(text, KEYS, CLAIMS.issued_at - 3600).outcome == "not-yet-valid"
    assert verify(text, {}, NOW).outcome == "unknown-key"
    other = ec.generate_private_key(ec.SECP256R1())
    assert verify(sign(CLAIMS, "k1", other), KEYS, NOW).outcome == "invalid"


def test_every_single_character_change_is_rejected() -> None:
    text = sign(CLAIMS, "k1", KEY)
    for position in range(len(PREFIX), len(text)):
        for replacement in ("0", "Z", " "):
            if text[position] != replacement:
                forged = text[:position] + replacement + text[position + 1 :]
                assert verify(forged, KEYS, NOW).outcome != "valid", position


@settings(max_examples=150, deadline=None)
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_any_flipped_byte_of_the_cose_structure_is_rejected(position: int, flip: int) -> None:
    raw = bytearray(base45.decode(sign(CLAIMS, "k1", KEY)[len(PREFIX) :]))
    raw[position % len(raw)] ^= flip
    assert verify(PREFIX + base45.encode(bytes(raw)), KEYS, NOW).outcome != "valid"


names = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Lo"), max_codepoint=0x6FF),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    name=names,
    native=st.one_of(st.none(), names),
    year=st.one_of(st.none(), st.integers(1300, 2030)),
)
def test_claims_round_trip(name: str, native: str | None, year: int | None) -> None:
    claims = replace(CLAIMS, name=name, name_native=native, birth_year=year, members=())
    check = verify(sign(claims, "k1", KEY), KEYS, NOW)
    assert check.outcome == "valid" and check.claims == claims


def test_unprotected_header_content_is_refused() -> None:
    tagged = cbor2.loads(base45.decode(sign(CLAIMS, "k1", KEY)[len(PREFIX) :]))
    protected, _, payload, signature = tagged.value
    smuggled = cbor2.dumps(cbor2.CBORTag(18, [protected, {4: b"k1"}, payload, signature]))
    assert verify(PREFIX + base45.encode(smuggled), KEYS, NOW).outcome == "invalid"


def test_garbage_claims_are_malformed() -> None:
    with pytest.raises(ValueError):
        decode_claims(cbor2.dumps({1: "x"}))


def test_a_large_family_drops_members_native_names_to_fit_one_qr_code() -> None:
    family = tuple(
        CoveredMember(f"Member Number{i} Ahmadzai", "عضو خانواده احمدزی") for i in range(5)
    )
    text = fitted_credential(replace(CLAIMS, members=family), "k1", KEY)
    assert len(text) <= MAX_CREDENTIAL_CHARS
    claims = verify(text, KEYS, NOW).claims
    assert claims is not None and len(claims.members) == 5
