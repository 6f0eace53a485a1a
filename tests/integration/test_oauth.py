"""The OAuth 2 authorization server over HTTP: both client authentication methods, scope
narrowing, RFC 9068 tokens, metadata, JWKS, introspection, revocation, key rotation, liaisons,
client administration and how secrets are stored."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select

from auth.clients import register_client
from auth.keys import rotate_signing_key
from auth.oauth_server import FormRequest, OAuthHttpRequest
from auth.tokens import AccessTokenVerifier
from config.settings import Settings
from database.engine import make_async_engine
from problems import ProblemError
from schemas.audit import AuditEvent
from schemas.identity import ClientCreate, OAuthClient, RevokedToken
from tests.conftest import TEST_ISSUER, World, basic_auth

TOKEN_URL = f"{TEST_ISSUER}/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PROTECTED = "/v1/clients"  # needs `admin`; every world client holds it


def _segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _assert_oauth_error(response: httpx.Response, error: str, *statuses: int) -> None:
    """An RFC 6749 error body (not a problem document), with one of the given statuses."""
    assert response.status_code in (statuses or (400, 401)), response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == error


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _token(
    client: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None
) -> httpx.Response:
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    return await client.post(
        "/oauth/token", data=form, headers={"Authorization": basic_auth(client_id, secret)}
    )


async def _jwks(client: httpx.AsyncClient) -> KeySet:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return KeySet.import_key_set(response.json())


def _assertion(key: ECKey, client_id: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


async def _post_assertion(client: httpx.AsyncClient, assertion: str) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    return await client.post("/oauth/token", data=form)


async def _register_key_client(
    client: httpx.AsyncClient, world: World, scopes: list[str]
) -> tuple[str, ECKey]:
    key = ECKey.generate_key("P-256", private=True, parameters={"kid": "partner-1"})
    body = {
        "name": "UNHCR proGres bridge",
        "auth_method": "private_key_jwt",
        "jwks": {"keys": [key.as_dict(private=False)]},
        "scopes": scopes,
    }
    created = await client.post(PROTECTED, json=body, headers=await world.headers("unhcr"))
    assert created.status_code == 201, created.text
    assert created.json()["client_secret"] is None
    return created.json()["id"], key


# --- token issuance --------------------------------------------------------------------------


async def test_client_secret_basic_issues_an_rfc9068_token(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    client_id, secret = world.client_for("unhcr")
    response = await _token(client, client_id, secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    token = body["access_token"]

    header = _segment(token, 0)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"] in {key.kid for key in (await _jwks(client)).keys}
    for forbidden in ("jwk", "jku", "x5u", "x5c"):
        assert forbidden not in header

    claims = jwt.decode(token, await _jwks(client), algorithms=["ES256"]).claims
    assert claims["iss"] == TEST_ISSUER
    assert claims["aud"] == settings.audience
    assert claims["sub"] == claims["client_id"] == client_id
    assert claims["agency"] == world.unhcr
    assert set(claims["scope"].split()) == set(body["scope"].split())
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    assert claims["exp"] - claims["iat"] == body["expires_in"] <= 900
    assert abs(claims["iat"] - time.time()) < 5

    assert (await client.get(PROTECTED, headers=_bearer(token))).status_code == 200


async def test_wrong_secret_and_unknown_client_are_refused_alike(
    client: httpx.AsyncClient, world: World
) -> None:
    client_id, _ = world.client_for("gop")
    wrong = await _token(client, client_id, "not-the-secret")
    unknown = await _token(client, "no-such-client", "whatever")
    for response in (wrong, unknown):
        _assert_oauth_error(response, "invalid_client", 401)
        assert "www-authenticate" in response.headers
    assert wrong.json() == unknown.json()


async def test_failed_token_request_is_audited_with_the_oauth_error(
    client: httpx.AsyncClient, world: World, sync_session: Any
) -> None:
    client_id, _ = world.client_for("gop")
    response = await _token(client, client_id, "not-the-secret")
    request_id = response.headers["x-request-id"]
    with sync_session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.request_id == request_id)  # type: ignore[arg-type]
        ).one()
    assert (event.route, event.status, event.outcome, event.reason) == (
        "/oauth/token",
        401,
        "denied",
        "invalid_client",
    )


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({}, "invalid_request"),  # RFC 6749 §5.2: a required parameter is missing
    ],
)
async def test_other_grants_are_refused(
    client: httpx.AsyncClient, world: World, form: dict[str, str], error: str
) -> None:
    client_id, secret = world.client_for("us_mission")
    response = await client.post(
        "/oauth/token", data=form, headers={"Authorization": basic_auth(client_id, secret)}
    )
    _assert_oauth_error(response, error, 400)


async def test_repeated_parameter_is_invalid_request(
    client: httpx.AsyncClient, world: World
) -> None:
    client_id, secret = world.client_for("us_mission")
    response = await client.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&scope=verify&scope=admin",
        headers={
            "Authorization": basic_auth(client_id, secret),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    _assert_oauth_error(response, "invalid_request", 400)


async def test_scope_may_narrow_never_widen(
    client: httpx.AsyncClient, world: World, sync_session: Any
) -> None:
    client_id, secret = world.client_for("us_mission")
    narrowed = await _token(client, client_id, secret, scope="lists:read verify")
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "lists:read verify"
    assert _segment(narrowed.json()["access_token"], 1)["scope"] == "lists:read verify"
    # the narrowed token lacks `admin`: the API says 403, not 200
    forbidden = await client.get(PROTECTED, headers=_bearer(narrowed.json()["access_token"]))
    assert forbidden.status_code == 403

    with sync_session() as session:
        small, small_secret = register_client(
            session, world.us, ClientCreate(name="reader", scopes=["lists:read"])
        )
        small_id = small.id
        session.commit()
    for wider in ("lists:read admin", "admin", "lists:read no-such-scope"):
        response = await _token(client, small_id, small_secret or "", scope=wider)
        _assert_oauth_error(response, "invalid_scope", 400)


# --- private_key_jwt (RFC 7523) ----------------------------------------------------------------


async def test_private_key_jwt_flow_and_replay(client: httpx.AsyncClient, world: World) -> None:
    client_id, key = await _register_key_client(client, world, ["lists:read", "admin"])
    assertion = _assertion(key, client_id)
    first = await _post_assertion(client, assertion)
    assert first.status_code == 200, first.text
    claims = _segment(first.json()["access_token"], 1)
    assert claims["client_id"] == claims["sub"] == client_id
    assert claims["agency"] == world.unhcr
    assert (
        await client.get(PROTECTED, headers=_bearer(first.json()["access_token"]))
    ).status_code == 200

    replay = await _post_assertion(client, assertion)
    _assert_oauth_error(replay, "invalid_client")

    # the issuer itself is an accepted audience too
    to_issuer = _assertion(key, client_id, aud=TEST_ISSUER)
    assert (await _post_assertion(client, to_issuer)).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://elsewhere.example/oauth/token"},
        {"exp": None},
        {"exp": int(time.time()) - 120},
        {"exp": int(time.time()) + 3600},  # lives longer than 5 minutes
        {"jti": None},
        {"iss": "someone-else"},
    ],
    ids=["wrong-aud", "no-exp", "expired", "too-long", "no-jti", "iss-not-sub"],
)
async def test_bad_client_assertions_are_refused(
    client: httpx.AsyncClient, world: World, overrides: dict[str, Any]
) -> None:
    client_id, key = await _register_key_client(client, world, ["lists:read"])
    response = await _post_assertion(client, _assertion(key, client_id, **overrides))
    _assert_oauth_error(response, "invalid_client")


async def test_assertion_signed_by_another_key_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    client_id, _ = await _register_key_client(client, world, ["lists:read"])
    impostor = ECKey.generate_key("P-256", private=True, parameters={"kid": "partner-1"})
    response = await _post_assertion(client, _assertion(impostor, client_id))
    _assert_oauth_error(response, "invalid_client")


async def test_a_key_client_cannot_use_a_secret_and_vice_versa(
    client: httpx.AsyncClient, world: World
) -> None:
    client_id, key = await _register_key_client(client, world, ["lists:read"])
    assert (await _token(client, client_id, "guess")).json()["error"] == "invalid_client"
    secret_client, _ = world.client_for("unhcr")
    response = await _post_assertion(client, _assertion(key, secret_client))
    _assert_oauth_error(response, "invalid_client")


async def test_registration_refuses_private_key_material(
    client: httpx.AsyncClient, world: World
) -> None:
    key = ECKey.generate_key("P-256", private=True)
    for jwks in (
        {"keys": [key.as_dict(private=True)]},
        {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
        None,
    ):
        body = {"name": "bad", "auth_method": "private_key_jwt", "jwks": jwks, "scopes": ["verify"]}
        response = await client.post(PROTECTED, json=body, headers=await world.headers("gop"))
        assert response.status_code == 422, response.text
        assert response.json()["invalid_params"][0]["name"] == "jwks"


def test_the_request_adapter_sets_everything_authlibs_constructor_sets() -> None:
    """`FormRequest` skips Authlib's constructor (its https check cannot see the TLS proxy);
    this fails if an Authlib upgrade adds state that constructor would have set."""
    theirs = OAuth2Request("POST", "https://sanad.example/oauth/token", headers={})
    ours = FormRequest(OAuthHttpRequest("POST", f"{TOKEN_URL}", {}, (("grant_type", "x"),)))
    assert set(vars(theirs)) <= set(vars(ours))
    assert ours.form == {"grant_type": "x"}
    assert ours.payload.grant_type == "x"


# --- discovery ---------------------------------------------------------------------------------


async def test_metadata_is_rfc8414(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = response.json()
    assert body["issuer"] == TEST_ISSUER
    assert body["token_endpoint"] == TOKEN_URL
    assert body["jwks_uri"] == f"{TEST_ISSUER}/.well-known/jwks.json"
    assert body["introspection_endpoint"] == f"{TEST_ISSUER}/oauth/introspect"
    assert body["revocation_endpoint"] == f"{TEST_ISSUER}/oauth/revoke"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "private_key_jwt",
    }
    assert "ES256" in body["token_endpoint_auth_signing_alg_values_supported"]
    assert not {"HS256", "none"} & set(body["token_endpoint_auth_signing_alg_values_supported"])
    assert {"lists:read", "verify", "audit:read", "admin"} <= set(body["scopes_supported"])
    # Authlib's RFC 8414 validators, except `response_types_supported`: with no authorization
    # endpoint there is no response type, and we say so with an empty list. They demand https,
    # which a deployment's issuer has (the test server's is http).
    as_deployed = json.loads(response.text.replace(TEST_ISSUER, "https://sanad.example"))
    metadata = AuthorizationServerMetadata(as_deployed)
    for name in dir(metadata):
        if name.startswith("validate_") and name != "validate_response_types_supported":
            getattr(metadata, name)()
    assert body["response_types_supported"] == []


async def test_jwks_publishes_public_keys_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "EC" and key["crv"] == "P-256"
        assert key["alg"] == "ES256" and key["use"] == "sig" and key["kid"]
        assert "d" not in key


# --- introspection -----------------------------------------------------------------------------


async def test_introspection_of_own_agency_tokens_only(
    client: httpx.AsyncClient, world: World
) -> None:
    caller_id, caller_secret = world.client_for("unhcr")
    own = await world.token("unhcr", scopes=["lists:read"])
    other = await world.token("gop")
    auth = {"Authorization": basic_auth(caller_id, caller_secret)}

    active = await client.post("/oauth/introspect", data={"token": own}, headers=auth)
    assert active.status_code == 200
    body = active.json()
    assert body["active"] is True
    assert body["client_id"] == caller_id
    assert body["scope"] == "lists:read"
    assert body["agency"] == world.unhcr
    assert body["iss"] == TEST_ISSUER
    assert body["exp"] > time.time()

    # the hint is advisory: a wrong one changes nothing
    hinted = {"token": own, "token_type_hint": "refresh_token"}
    assert (await client.post("/oauth/introspect", data=hinted, headers=auth)).json()["active"]

    for token in (other, "not-a-token", own[:-4] + "AAAA"):
        response = await client.post("/oauth/introspect", data={"token": token}, headers=auth)
        assert response.status_code == 200
        assert response.json() == {"active": False}

    unauthenticated = await client.post("/oauth/introspect", data={"token": own})
    _assert_oauth_error(unauthenticated, "invalid_client", 401)


# --- revocation ---------------------------------------------------------------------------------


async def test_revoked_token_is_refused_at_once(
    client: httpx.AsyncClient, world: World, sync_session: Any
) -> None:
    client_id, secret = world.client_for("us_mission")
    token = (await _token(client, client_id, secret)).json()["access_token"]
    assert (await client.get(PROTECTED, headers=_bearer(token))).status_code == 200

    auth = {"Authorization": basic_auth(client_id, secret)}
    revoked = await client.post("/oauth/revoke", data={"token": token}, headers=auth)
    assert revoked.status_code == 200

    refused = await client.get(PROTECTED, headers=_bearer(token))
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'

    jti = _segment(token, 1)["jti"]
    with sync_session() as session:
        row = session.get(RevokedToken, jti)
        assert row is not None and row.client_id == client_id
    introspected = await client.post("/oauth/introspect", data={"token": token}, headers=auth)
    assert introspected.json() == {"active": False}
    # revoking again, or revoking garbage, is not an error (RFC 7009 §2.2)
    assert (
        await client.post("/oauth/revoke", data={"token": token}, headers=auth)
    ).status_code == 200
    assert (
        await client.post("/oauth/revoke", data={"token": "x"}, headers=auth)
    ).status_code == 200


async def test_another_worker_learns_a_revocation_from_the_database(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    client_id, secret = world.client_for("unhcr")
    token = (await _token(client, client_id, secret)).json()["access_token"]
    engine = make_async_engine(settings.database_url)
    try:
        other_worker = AccessTokenVerifier(settings, engine)
        assert (await other_worker.verify(token)).client_id == client_id  # now cached there
        auth = {"Authorization": basic_auth(client_id, secret)}
        assert (
            await client.post("/oauth/revoke", data={"token": token}, headers=auth)
        ).status_code == 200
        await asyncio.sleep(AccessTokenVerifier.REVOCATION_POLL_SECONDS + 0.05)
        with pytest.raises(ProblemError) as refused:
            await other_worker.verify(token)
        assert refused.value.slug == "unauthenticated"
    finally:
        await engine.dispose()


async def test_a_client_cannot_revoke_another_clients_token(
    client: httpx.AsyncClient, world: World
) -> None:
    victim = await world.token("gop")
    attacker_id, attacker_secret = world.client_for("unhcr")
    response = await client.post(
        "/oauth/revoke",
        data={"token": victim},
        headers={"Authorization": basic_auth(attacker_id, attacker_secret)},
    )
    _assert_oauth_error(response, "invalid_grant", 400)
    assert (await client.get(PROTECTED, headers=_bearer(victim))).status_code == 200


# --- key rotation --------------------------------------------------------------------------------


async def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(
    client: httpx.AsyncClient, world: World, sync_session: Any
) -> None:
    client_id, secret = world.client_for("us_mission")
    old = (await _token(client, client_id, secret)).json()["access_token"]
    old_kid = _segment(old, 0)["kid"]
    assert (await client.get(PROTECTED, headers=_bearer(old))).status_code == 200

    with sync_session() as session:
        new_kid = rotate_signing_key(session).kid
    assert new_kid != old_kid

    new = (await _token(client, client_id, secret)).json()["access_token"]
    assert _segment(new, 0)["kid"] == new_kid
    published = {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, new_kid} <= published
    assert (await client.get(PROTECTED, headers=_bearer(old))).status_code == 200
    assert (await client.get(PROTECTED, headers=_bearer(new))).status_code == 200
    jws.deserialize_compact(new, await _jwks(client), algorithms=["ES256"])


# --- liaisons and client administration ---------------------------------------------------------


async def test_liaison_token_names_the_person_and_is_shorter(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    admin = await world.headers("unhcr")
    body = {
        "name": "Liaison Islamabad",
        "kind": "liaison",
        "person_name": "Amina Rahimi",
        "scopes": ["records:read", "lists:read"],
    }
    created = await client.post(PROTECTED, json=body, headers=admin)
    assert created.status_code == 201, created.text
    liaison = created.json()
    assert liaison["kind"] == "liaison" and liaison["person_name"] == "Amina Rahimi"
    assert liaison["token_lifetime_seconds"] <= settings.liaison_token_lifetime_seconds
    assert "Amina" not in liaison["id"]  # client ids appear in logs
    assert created.headers["cache-control"] == "no-store"

    response = await _token(client, liaison["id"], liaison["client_secret"])
    assert response.status_code == 200
    claims = _segment(response.json()["access_token"], 1)
    assert claims["sub"] == f"liaison:{liaison['id']}:Amina Rahimi"
    assert claims["client_id"] == liaison["id"]
    assert claims["exp"] - claims["iat"] == response.json()["expires_in"]
    assert response.json()["expires_in"] <= settings.liaison_token_lifetime_seconds
    assert response.json()["expires_in"] < settings.access_token_lifetime_seconds
    assert set(claims["scope"].split()) == {"records:read", "lists:read"}


async def test_liaison_rules(client: httpx.AsyncClient, world: World, sync_session: Any) -> None:
    admin = await world.headers("unhcr")
    nameless = {"name": "L", "kind": "liaison", "scopes": ["records:read"]}
    response = await client.post(PROTECTED, json=nameless, headers=admin)
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "person_name"

    with sync_session() as session:
        narrow_admin, narrow_secret = register_client(
            session, world.unhcr, ClientCreate(name="narrow admin", scopes=["admin", "lists:read"])
        )
        narrow_id = narrow_admin.id
        session.commit()
    token = (await _token(client, narrow_id, narrow_secret or "")).json()["access_token"]
    too_wide = {**nameless, "person_name": "Someone", "scopes": ["records:read"]}
    response = await client.post(PROTECTED, json=too_wide, headers=_bearer(token))
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "scopes"
    within = {**too_wide, "scopes": ["lists:read"]}
    assert (await client.post(PROTECTED, json=within, headers=_bearer(token))).status_code == 201


async def test_scopes_beyond_the_agency_ceiling_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"name": "oversight reader", "scopes": ["records:read"]}
    response = await client.post(PROTECTED, json=body, headers=await world.headers("oversight"))
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "scopes"


async def test_secret_is_stored_only_as_an_argon2_hash(
    client: httpx.AsyncClient, world: World, sync_session: Any
) -> None:
    created = await client.post(
        PROTECTED,
        json={"name": "NVC feed", "scopes": ["verify"]},
        headers=await world.headers("us_mission"),
    )
    assert created.status_code == 201
    client_id, secret = created.json()["id"], created.json()["client_secret"]
    assert secret and len(secret) >= 32
    with sync_session() as session:
        row = session.get(OAuthClient, client_id)
        assert row is not None and row.secret_hash is not None
        stored = row.model_dump()
    assert row.secret_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(row.secret_hash, secret)
    assert all(secret not in str(value) for value in stored.values())

    listed = await client.get(PROTECTED, headers=await world.headers("us_mission"))
    assert client_id in {c["id"] for c in listed.json()}
    assert secret not in listed.text and "argon2" not in listed.text


async def test_admins_see_and_disable_only_their_agencys_clients(
    client: httpx.AsyncClient, world: World
) -> None:
    unhcr_admin = await world.headers("unhcr")
    gop_client_id, gop_secret = world.client_for("gop")
    listed = await client.get(PROTECTED, headers=unhcr_admin)
    assert listed.status_code == 200
    assert {c["agency_id"] for c in listed.json()} == {world.unhcr}

    foreign = await client.post(f"{PROTECTED}/{gop_client_id}/disable", headers=unhcr_admin)
    assert foreign.status_code == 404

    created = await client.post(
        PROTECTED, json={"name": "to retire", "scopes": ["admin"]}, headers=unhcr_admin
    )
    victim_id, victim_secret = created.json()["id"], created.json()["client_secret"]
    victim_token = (await _token(client, victim_id, victim_secret)).json()["access_token"]
    assert (await client.get(PROTECTED, headers=_bearer(victim_token))).status_code == 200

    disabled = await client.post(f"{PROTECTED}/{victim_id}/disable", headers=unhcr_admin)
    assert disabled.status_code == 200
    assert disabled.json()["disabled_at"] is not None
    assert (await client.get(PROTECTED, headers=_bearer(victim_token))).status_code == 401
    assert (await _token(client, victim_id, victim_secret)).json()["error"] == "invalid_client"
    # and a resource server asking about its live token is told it is no longer active
    unhcr_id, unhcr_secret = world.client_for("unhcr")
    introspected = await client.post(
        "/oauth/introspect",
        data={"token": victim_token},
        headers={"Authorization": basic_auth(unhcr_id, unhcr_secret)},
    )
    assert introspected.json() == {"active": False}
    # the other agency's client is untouched
    assert (await _token(client, gop_client_id, gop_secret)).status_code == 200
