"""The pure token checks of `auth.tokens`: boundaries of time claims, header allow-lists and
the parser's refusal of anything that is not a small compact JWS."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth.tokens import (
    InvalidTokenError,
    check_claims,
    check_header,
    normalised_type,
    read_unverified,
)

NOW = 1_800_000_000.0
ISS = "https://sanad.example"
AUD = "sanad-api"
ES256 = frozenset({"ES256", "EdDSA"})
AT_JWT = frozenset({"at+jwt"})


def _segment(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {"iss": ISS, "aud": AUD, "iat": NOW - 5, "exp": NOW + 300}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _check(claims: dict[str, object], max_lifetime: float | None = None) -> None:
    check_claims(claims, issuer=ISS, audience=AUD, now=NOW, leeway=10, max_lifetime=max_lifetime)


def test_valid_claims_pass() -> None:
    _check(_claims())
    _check(_claims(aud=["other", AUD]))


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (_claims(exp=NOW - 11), "expired"),
        (_claims(iat=NOW + 11), "issued in the future"),
        (_claims(iat=NOW + 61), "issued in the future"),
        (_claims(nbf=NOW + 11), "not yet valid"),
        (_claims(aud="other"), "wrong audience"),
        (_claims(aud=None), "wrong audience"),
        (_claims(aud=["other"]), "wrong audience"),
        (_claims(iss="https://sanad.example/"), "wrong issuer"),
        (_claims(iss=None), "wrong issuer"),
        (_claims(exp=None), "exp claim required"),
        (_claims(iat=None), "iat claim required"),
        (_claims(exp=True), "exp claim required"),
        (_claims(exp="1800000300"), "exp claim required"),
    ],
)
def test_each_bad_claim_is_refused(claims: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidTokenError) as refused:
        _check(claims)
    assert refused.value.reason == reason


def test_leeway_boundaries_are_inclusive() -> None:
    _check(_claims(exp=NOW - 10))
    _check(_claims(iat=NOW + 10))


def test_lifetime_cap() -> None:
    _check(_claims(iat=NOW, exp=NOW + 900), max_lifetime=900)
    with pytest.raises(InvalidTokenError):
        _check(_claims(iat=NOW, exp=NOW + 901), max_lifetime=900)


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c", "crit"])
def test_headers_that_choose_a_key_or_demand_extensions_are_refused(member: str) -> None:
    header = {"alg": "ES256", "typ": "at+jwt", "kid": "k", member: "x"}
    with pytest.raises(InvalidTokenError):
        check_header(header, ES256, AT_JWT)


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "HS512", "RS256", None, 7])
def test_algorithms_outside_the_allow_list_are_refused(alg: object) -> None:
    with pytest.raises(InvalidTokenError) as refused:
        check_header({"alg": alg, "typ": "at+jwt", "kid": "k"}, ES256, AT_JWT)
    assert refused.value.reason == "algorithm not allowed"


def test_hs_and_none_are_refused_even_when_configured() -> None:
    for alg in ("HS256", "none"):
        with pytest.raises(InvalidTokenError):
            check_header({"alg": alg, "typ": "JWT", "kid": "k"}, frozenset({alg}), {"jwt"})  # type: ignore[arg-type]


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt"])
def test_rfc9068_type_spellings_are_one_type(typ: str) -> None:
    assert normalised_type(typ) == "at+jwt"
    assert check_header({"alg": "ES256", "typ": typ, "kid": "k"}, ES256, AT_JWT) == ("ES256", "k")


@pytest.mark.parametrize(
    "header", [{"alg": "ES256", "kid": "k"}, {"alg": "ES256", "typ": "JWT", "kid": "k"}]
)
def test_missing_or_other_type_is_refused(header: dict[str, str]) -> None:
    with pytest.raises(InvalidTokenError):
        check_header(header, ES256, AT_JWT)


def test_kid_is_required() -> None:
    with pytest.raises(InvalidTokenError):
        check_header({"alg": "ES256", "typ": "at+jwt"}, ES256, AT_JWT)


def test_reader_refuses_oversized_before_decoding() -> None:
    token = _segment({"alg": "ES256", "pad": "x" * 10_000}) + "." + _segment({}) + ".sig"
    with pytest.raises(InvalidTokenError) as refused:
        read_unverified(token, 8192)
    assert "too large" in refused.value.reason


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d.e",
        _segment({"alg": "none"}) + "." + _segment({}) + ".",
        _segment([1]) + "." + _segment({}) + ".sig",
        "eyJhbGciOiJFUzI1NiIsImFsZyI6Im5vbmUifQ." + _segment({}) + ".sig",  # duplicate "alg"
        "é.é.é",
    ],
)
def test_reader_refuses_non_jws(token: str) -> None:
    with pytest.raises(InvalidTokenError):
        read_unverified(token, 8192)


@given(st.text(max_size=300))
def test_reader_fails_only_with_invalid_token(text: str) -> None:
    with contextlib.suppress(InvalidTokenError):
        read_unverified(text, 8192)
