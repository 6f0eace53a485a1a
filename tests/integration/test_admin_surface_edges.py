"""Edges of the administration surface found by review: which agency may hold a pipeline list,
422s that name the agreement field at fault, list names of blanks, and client keys too weak
(or unable) to sign an assertion."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
import warnings
from collections.abc import Callable

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey
from sqlmodel import Session

from schemas.identity import OAuthClient
from schemas.lists import ExchangeList
from schemas.records import Record
from schemas.vocabulary import ListKind
from tests.conftest import TEST_ISSUER, World
from tests.helpers import agreement_body

_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _invalid_names(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return [p["name"] for p in response.json().get("invalid_params", [])]


async def test_only_the_mission_holds_pipeline_lists(
    client: httpx.AsyncClient, world: World
) -> None:
    """A checkpoint's verification answers `in_pipeline` (and "letter valid") from every
    pipeline list it owns or receives. UNHCR or Pakistan could create one (UNHCR's shared with
    Pakistan, or Pakistan's own) and have checkpoints told a person is in the US pipeline."""
    for kind, purpose in (("unhcr", "reconciliation"), ("gop", "protection-verification")):
        headers = await world.headers(kind, purpose=purpose)
        refused = await client.post(
            "/v1/lists", json={"name": "not ours", "kind": "pipeline"}, headers=headers
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["type"].endswith("/agency-not-entitled")
        assert _invalid_names(refused) == ["kind"]
        own_kind = "registration" if kind == "unhcr" else "status"
        made = await client.post(
            "/v1/lists", json={"name": "ours", "kind": own_kind}, headers=headers
        )
        assert made.status_code == 201, made.text
    gop = await world.headers("gop", purpose="protection-verification")
    lists = (await client.get("/v1/lists", headers=gop)).json()["items"]
    assert [item["kind"] for item in lists] == ["status"]
    mission = await client.post(
        "/v1/lists",
        json={"name": "pipeline", "kind": "pipeline"},
        headers=await world.headers("us_mission"),
    )
    assert mission.status_code == 201, mission.text


def _store_pipeline_list_of(sync_session: Callable[[], Session], agency_id: str) -> None:
    """A pipeline list of another agency's with a person holding a made-up letter, written
    straight into the database as the code before the rule let it be made."""
    with sync_session() as session:
        made = ExchangeList(
            name="theirs",
            kind=ListKind.PIPELINE,
            owner_agency_id=agency_id,
            created_by_client_id="x",
        )
        session.add(made)
        session.flush()
        session.add(Record(list_id=made.id, record_key="F1", letter_id="LTR-FAKE"))
        session.commit()


async def test_a_pipeline_list_another_agency_made_before_vouches_for_no_one(
    client: httpx.AsyncClient, world: World, sync_session: Callable[[], Session]
) -> None:
    """Refusing new ones is not enough: one made before would still answer checkpoints."""
    await asyncio.to_thread(_store_pipeline_list_of, sync_session, world.gop)
    gop = await world.headers("gop", purpose="protection-verification")
    response = await client.post("/v1/verifications", json={"letter_id": "LTR-FAKE"}, headers=gop)
    assert response.status_code == 200, response.text
    assert response.json()["in_pipeline"] is False


async def test_an_agreement_period_error_names_its_field(
    client: httpx.AsyncClient, world: World
) -> None:
    """They were located at `body` (a model validator's errors), naming no field."""
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    list_id = made.json()["id"]
    now = dt.datetime.now(dt.UTC)
    cases = [
        (
            {
                "valid_from": (now + dt.timedelta(days=2)).isoformat(),
                "valid_until": (now + dt.timedelta(days=1)).isoformat(),
            },
            ["body.valid_until"],
        ),
        (
            {"valid_from": now.isoformat(), "valid_until": now.isoformat()},
            ["body.valid_until"],
        ),
        (
            {"valid_from": "2026-01-01T00:00:00", "valid_until": "2099-01-01T00:00:00Z"},
            ["body.valid_from"],
        ),
        ({"valid_until": "2099-01-01"}, ["body.valid_until"]),
    ]
    for change, names in cases:
        body = {**agreement_body(list_id, world.unhcr, ["given_name"], ["reconciliation"])}
        body.update(change)
        response = await client.post("/v1/agreements", json=body, headers=us)
        assert response.status_code == 422, response.text
        assert _invalid_names(response) == names, change
    listed = await client.get("/v1/agreements", params={"list_id": list_id}, headers=us)
    assert listed.json()["items"] == []


async def test_a_list_name_of_blanks_is_refused(client: httpx.AsyncClient, world: World) -> None:
    us = await world.headers("us_mission")
    for name in (" ", "\u3000 \u00a0"):
        response = await client.post(
            "/v1/lists", json={"name": name, "kind": "pipeline"}, headers=us
        )
        assert response.status_code == 422, response.text
        assert _invalid_names(response) == ["body.name"]
    named = await client.post("/v1/lists", json={"name": " p ", "kind": "pipeline"}, headers=us)
    assert named.status_code == 201


async def test_client_keys_must_be_able_to_sign_and_rsa_at_least_2048_bits(
    client: httpx.AsyncClient, world: World
) -> None:
    """A 1024-bit RSA key was registered, and assertions it signed got tokens (RFC 7518 asks
    for 2048 bits at least); keys that sign nothing the token endpoint accepts were taken too."""
    us = await world.headers("us_mission")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc warns of the small key, as it should
        weak = RSAKey.import_key(rsa.generate_private_key(65537, 1024), {"kid": "weak"})
    unusable = [
        OKPKey.generate_key("X25519", private=True).as_dict(private=False),
        ECKey.generate_key("P-384", private=True).as_dict(private=False),
    ]
    for jwk in [weak.as_dict(private=False), *unusable]:
        body = {
            "name": "partner",
            "scopes": ["lists:read"],
            "auth_method": "private_key_jwt",
            "jwks": {"keys": [jwk]},
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            response = await client.post("/v1/clients", json=body, headers=us)
        assert response.status_code == 422, response.text
        assert _invalid_names(response) == ["jwks"]
    listed = await client.get("/v1/clients", headers=us)
    assert "partner" not in {c["name"] for c in listed.json()}

    client_id, strong = await _rsa_client(client, us, "rsa partner")
    assert (
        await client.post("/oauth/token", data=_assertion_form(client_id, strong))
    ).status_code == 200


async def _rsa_client(
    client: httpx.AsyncClient, admin: dict[str, str], name: str
) -> tuple[str, RSAKey]:
    """A private_key_jwt client registered with a new 2048-bit RSA key (kid "k"), and the key."""
    key = RSAKey.generate_key(2048, private=True, parameters={"kid": "k"})
    body = {
        "name": name,
        "scopes": ["lists:read"],
        "auth_method": "private_key_jwt",
        "jwks": {"keys": [key.as_dict(private=False)]},
    }
    created = await client.post("/v1/clients", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return created.json()["id"], key


def _assertion_form(client_id: str, key: RSAKey) -> dict[str, str]:
    """A token request authenticated by an RS256 assertion signed with `key`."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{TEST_ISSUER}/oauth/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": _ASSERTION_TYPE,
        "client_assertion": jwt.encode({"alg": "RS256", "kid": key.kid or ""}, claims, key),
    }


def _store_jwks(
    sync_session: Callable[[], Session], client_id: str, jwks: dict[str, object]
) -> None:
    with sync_session() as session:
        row = session.get(OAuthClient, client_id)
        assert row is not None
        row.jwks = jwks
        session.add(row)
        session.commit()


async def test_a_weak_key_registered_before_the_check_gets_no_token(
    client: httpx.AsyncClient, world: World, sync_session: Callable[[], Session]
) -> None:
    """Refusing weak keys at registration leaves those stored before: the token endpoint
    trusts only keys that pass the same check."""
    client_id, _ = await _rsa_client(client, await world.headers("us_mission"), "old partner")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weak = RSAKey.import_key(rsa.generate_private_key(65537, 1024), {"kid": "k"})
        await asyncio.to_thread(
            _store_jwks, sync_session, client_id, {"keys": [weak.as_dict(private=False)]}
        )
        refused = await client.post("/oauth/token", data=_assertion_form(client_id, weak))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_client"
