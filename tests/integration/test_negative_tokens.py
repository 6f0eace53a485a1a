"""Tokens the API must refuse with 401, each differing from an accepted token by one defect;
and tokens of configured external issuers (static JWKS, and a JWKS URL served by a local HTTP
server to show its refetch rate limit)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry
from sqlalchemy import select

from api.app_factory import create_app
from auth.keys import ensure_signing_key
from config.settings import ExternalIssuer, Settings
from schemas.audit import AuditEvent
from tests.conftest import TEST_ISSUER, World, basic_auth

PROTECTED = "/v1/clients"  # requires `admin`, which every world client holds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_b64(obj: object) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def _sign(key: Any, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return jwt.encode(header, claims, key, algorithms=[header["alg"]])


def _raw_es256(key: ECKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """Signed without joserfc's header checks, for headers it (rightly) will not produce."""
    signing_input = f"{_json_b64(header)}.{_json_b64(claims)}"
    signature = JWSRegistry.algorithms["ES256"].sign(signing_input.encode(), key)
    return f"{signing_input}.{_b64(signature)}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/unauthenticated")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@dataclass
class Forge:
    """Our real signing key and the claims of a valid token of the world's US client."""

    key: ECKey
    kid: str
    claims: dict[str, Any]

    def header(self, **changes: Any) -> dict[str, Any]:
        header = {"alg": "ES256", "typ": "at+jwt", "kid": self.kid}
        header.update(changes)
        return {k: v for k, v in header.items() if v is not None}

    def token(self, header: dict[str, Any] | None = None, **claim_changes: Any) -> str:
        claims = {**self.claims, "jti": uuid.uuid4().hex, **claim_changes}
        claims = {k: v for k, v in claims.items() if v is not None}
        return _sign(self.key, header or self.header(), claims)


@pytest.fixture
def forge(world: World, settings: Settings, sync_session: Any) -> Forge:
    with sync_session() as session:
        current = ensure_signing_key(session)
        key = ECKey.import_key(current.private_pem, {"kid": current.kid})
        kid = current.kid
    client_id, _ = world.client_for("us_mission")
    now = int(time.time())
    claims = {
        "iss": TEST_ISSUER,
        "aud": settings.audience,
        "sub": client_id,
        "client_id": client_id,
        "agency": world.us,
        "scope": "admin lists:read",
        "iat": now,
        "exp": now + 300,
    }
    return Forge(key, kid, claims)


async def test_the_unmodified_forgery_is_accepted(client: httpx.AsyncClient, forge: Forge) -> None:
    """The control: every refused token below differs from this one by a single defect."""
    response = await client.get(PROTECTED, headers=_bearer(forge.token()))
    assert response.status_code == 200, response.text


def _alg_none(forge: Forge) -> list[str]:
    header = _json_b64(forge.header(alg="none"))
    payload = _json_b64({**forge.claims, "jti": uuid.uuid4().hex})
    return [f"{header}.{payload}.", f"{header}.{payload}.{_b64(b'x')}"]


def _hs256_with_public_key(forge: Forge) -> list[str]:
    public = ECKey.import_key(forge.key.as_dict(private=False))
    tokens = []
    for secret in (public.as_pem(private=False), json.dumps(public.as_dict()).encode()):
        signing_input = (
            f"{_json_b64(forge.header(alg='HS256'))}.{_json_b64({**forge.claims, 'jti': 'hs'})}"
        )
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        tokens.append(f"{signing_input}.{_b64(mac)}")
    return tokens


def _unknown_kid(forge: Forge) -> list[str]:
    stranger = ECKey.generate_key("P-256", private=True)
    return [
        _sign(stranger, forge.header(kid="no-such-kid"), forge.claims),
        _sign(stranger, forge.header(), forge.claims),  # our kid, someone else's key
        forge.token(forge.header(kid="no-such-kid")),  # our key, unknown kid
    ]


def _embedded_jwk(forge: Forge) -> list[str]:
    attacker = ECKey.generate_key("P-256", private=True, parameters={"kid": "attacker"})
    ours = forge.key.as_dict(private=False)
    return [
        _sign(
            attacker,
            forge.header(kid="attacker", jwk=attacker.as_dict(private=False)),
            forge.claims,
        ),
        # even with our key and kid, a key-carrying header is refused
        forge.token(forge.header(jwk=ours)),
        forge.token(forge.header(jku="http://127.0.0.1:9/jwks.json")),
        forge.token(forge.header(x5u="http://127.0.0.1:9/cert.pem")),
        forge.token(forge.header(x5c=["MIIB"])),
    ]


def _time_defects(forge: Forge) -> list[str]:
    now = int(time.time())
    return [
        forge.token(iat=now - 311, exp=now - 11),  # expired by 11 s (leeway is 10)
        forge.token(iat=now + 61, exp=now + 361),  # issued 61 s in the future
        forge.token(exp=None),
        forge.token(iat=None),
        forge.token(iat=now, exp=now + 3600),  # longer than any lifetime we issue
    ]


def _claim_defects(forge: Forge) -> list[str]:
    return [
        forge.token(aud="someone-else"),
        forge.token(aud=None),
        forge.token(iss="https://evil.example"),
        forge.token(iss=TEST_ISSUER + "/"),
        forge.token(iss=None),
        forge.token(agency="no-such-agency"),
        forge.token(client_id=None),
    ]


def _header_defects(forge: Forge) -> list[str]:
    return [
        forge.token(forge.header(typ="JWT")),
        forge.token(forge.header(typ=None)),
        _raw_es256(forge.key, forge.header(crit=["exp"], exp=1), {**forge.claims, "jti": "c"}),
        _raw_es256(forge.key, forge.header(pad="x" * 10 * 1024), forge.claims),  # a 10 KB header
    ]


@pytest.mark.parametrize(
    "make",
    [
        _alg_none,
        _hs256_with_public_key,
        _unknown_kid,
        _time_defects,
        _claim_defects,
        _embedded_jwk,
        _header_defects,
    ],
    ids=lambda make: make.__name__.strip("_"),
)
async def test_defective_tokens_are_refused(
    client: httpx.AsyncClient, forge: Forge, make: Any
) -> None:
    for token in make(forge):
        _assert_refused(await client.get(PROTECTED, headers=_bearer(token)))


async def test_other_shapes_are_refused(client: httpx.AsyncClient, forge: Forge) -> None:
    good = forge.token()
    for token in ("", "x", good + ".x.y", good[:-6], good.replace(".", "..", 1), "%" + good):
        response = await client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token[:20]


async def test_a_revoked_token_is_refused(client: httpx.AsyncClient, world: World) -> None:
    client_id, secret = world.client_for("us_mission")
    issued = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(client_id, secret)},
    )
    token = issued.json()["access_token"]
    assert (await client.get(PROTECTED, headers=_bearer(token))).status_code == 200
    revoked = await client.post(
        "/oauth/revoke",
        data={"token": token},
        headers={"Authorization": basic_auth(client_id, secret)},
    )
    assert revoked.status_code == 200
    _assert_refused(await client.get(PROTECTED, headers=_bearer(token)))


# --- external issuers --------------------------------------------------------------------------

STATIC_ISSUER = "https://idp.unhcr.example/realms/sanad"
NARROW_ISSUER = "https://idp.gop.example/realms/checkpoints"
EXTERNAL_AUDIENCE = "sanad-external"
STATIC_KEY = ECKey.generate_key("P-256", private=True, parameters={"kid": "static-1"})


@dataclass
class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts what it is asked for."""

    port: int = 0
    document: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    hits: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/realms/partner"

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks"

    def serve(self, *keys: ECKey) -> None:
        with self.lock:
            self.document = {"keys": [k.as_dict(private=False) for k in keys]}

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.get(path, 0)


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JwksServer]:
    state = JwksServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.hits[self.path] = state.hits.get(self.path, 0) + 1
                body = json.dumps(state.document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def external_client(
    settings: Settings, sync_engine: Any, jwks_server: JwksServer, world: World
) -> AsyncIterator[httpx.AsyncClient]:
    """The app of a deployment that also trusts three external issuers, each for UNHCR alone
    (the test's world's), two of them with UNHCR's administration among their scopes."""
    unhcr_scopes = ["admin", "lists:read", "records:read"]
    issuers = [
        ExternalIssuer(
            issuer=STATIC_ISSUER,
            audience=EXTERNAL_AUDIENCE,
            jwks={"keys": [STATIC_KEY.as_dict(private=False)]},
            algorithms=["ES256"],
            agencies=[world.unhcr],
            allowed_scopes=unhcr_scopes,
        ),
        ExternalIssuer(
            issuer=NARROW_ISSUER,
            audience=EXTERNAL_AUDIENCE,
            jwks={"keys": [STATIC_KEY.as_dict(private=False)]},
            algorithms=["ES256"],
            agency=world.unhcr,
            allowed_scopes=["lists:read"],
        ),
        ExternalIssuer(
            issuer=jwks_server.issuer,
            audience=EXTERNAL_AUDIENCE,
            jwks_url=jwks_server.jwks_url,
            algorithms=["ES256"],
            agencies=[world.unhcr],
            allowed_scopes=unhcr_scopes,
        ),
    ]
    external_settings = settings.model_copy(
        update={"external_issuers": issuers, "jwks_min_refetch_seconds": 1.0}
    )
    application = create_app(external_settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as http:
            yield http


def _external_claims(world: World, issuer: str = STATIC_ISSUER, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": EXTERNAL_AUDIENCE,
        "sub": "f3b1c2d4-user",
        "azp": "unhcr-portal",
        "agency": world.unhcr,
        "scope": "admin lists:read",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _external_header(kid: str = "static-1", **changes: Any) -> dict[str, Any]:
    header = {"alg": "ES256", "typ": "JWT", "kid": kid}
    header.update(changes)
    return header


async def test_a_good_external_token_is_accepted(
    external_client: httpx.AsyncClient, world: World, sync_session: Any
) -> None:
    token = _sign(STATIC_KEY, _external_header(), _external_claims(world))
    response = await external_client.get(PROTECTED, headers=_bearer(token))
    assert response.status_code == 200, response.text
    assert {c["agency_id"] for c in response.json()} == {world.unhcr}
    with sync_session() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.request_id == response.headers["x-request-id"]  # type: ignore[arg-type]
            )
        ).one()
    assert (event.client_id, event.agency_id) == ("ext:unhcr-portal", world.unhcr)
    # RFC 9068's typ is accepted too
    typed = _sign(STATIC_KEY, _external_header(typ="at+jwt"), _external_claims(world))
    assert (await external_client.get(PROTECTED, headers=_bearer(typed))).status_code == 200


async def test_external_scopes_are_cut_to_the_issuers_allowed_scopes(
    external_client: httpx.AsyncClient, world: World
) -> None:
    token = _sign(STATIC_KEY, _external_header(), _external_claims(world, issuer=NARROW_ISSUER))
    response = await external_client.get(PROTECTED, headers=_bearer(token))
    assert response.status_code == 403  # `admin` was dropped, the token itself is valid
    assert response.json()["type"].endswith("/insufficient-scope")


def _bad_external_tokens(world: World, jwks_server: JwksServer) -> list[str]:
    rsa = RSAKey.generate_key(2048, private=True, parameters={"kid": "static-1"})
    okp = OKPKey.generate_key("Ed25519", private=True, parameters={"kid": "static-1"})
    claims = _external_claims(world)
    hs_input = f"{_json_b64(_external_header(alg='HS256'))}.{_json_b64(claims)}"
    hs_secret = json.dumps(STATIC_KEY.as_dict(private=False)).encode()
    hs_token = f"{hs_input}.{_b64(hmac.new(hs_secret, hs_input.encode(), hashlib.sha256).digest())}"
    return [
        _sign(rsa, _external_header(alg="RS256"), claims),  # alg not in the issuer's list
        _sign(okp, _external_header(alg="Ed25519"), claims),
        hs_token,
        _sign(STATIC_KEY, _external_header(), _external_claims(world, aud="sanad-api")),
        _sign(STATIC_KEY, _external_header(), _external_claims(world, aud=None)),
        _sign(
            STATIC_KEY, _external_header(), _external_claims(world, iss="https://idp.evil.example")
        ),
        _sign(
            STATIC_KEY, _external_header(jku=f"http://127.0.0.1:{jwks_server.port}/evil"), claims
        ),
        _sign(STATIC_KEY, _external_header(typ="id+jwt"), claims),
        _sign(STATIC_KEY, _external_header(), _external_claims(world, agency="no-such-agency")),
        _sign(STATIC_KEY, _external_header(), _external_claims(world, agency=None)),
        # another agency, which exists, but which this issuer does not speak for
        _sign(STATIC_KEY, _external_header(), _external_claims(world, agency=world.us)),
        _sign(STATIC_KEY, _external_header(), _external_claims(world, agency=world.oversight)),
        _sign(STATIC_KEY, _external_header(), _external_claims(world, exp=int(time.time()) - 11)),
        _sign(STATIC_KEY, _external_header(), _external_claims(world, sub=None)),
        # trusted until it expires, as nothing here can revoke it: two hours at the most
        _sign(STATIC_KEY, _external_header(), _external_claims(world, exp=int(time.time()) + 7300)),
    ]


async def test_bad_external_tokens_are_refused(
    external_client: httpx.AsyncClient, world: World, jwks_server: JwksServer
) -> None:
    for token in _bad_external_tokens(world, jwks_server):
        _assert_refused(await external_client.get(PROTECTED, headers=_bearer(token)))
    assert jwks_server.count("/evil") == 0  # a jku is refused, never fetched


async def test_jwks_url_refetch_is_rate_limited(
    external_client: httpx.AsyncClient, world: World, jwks_server: JwksServer
) -> None:
    assert Settings().jwks_min_refetch_seconds == 60  # the default: at most once a minute
    first = ECKey.generate_key("P-256", private=True, parameters={"kid": "k1"})
    second = ECKey.generate_key("P-256", private=True, parameters={"kid": "k2"})

    def token(key: ECKey, kid: str | None = None) -> dict[str, str]:
        claims = _external_claims(world, issuer=jwks_server.issuer)
        return _bearer(_sign(key, _external_header(kid=kid or str(key.kid)), claims))

    jwks_server.serve(first)
    before = jwks_server.count("/jwks")
    assert (await external_client.get(PROTECTED, headers=token(first))).status_code == 200
    assert jwks_server.count("/jwks") == before + 1

    # the issuer rotates; within the minimum interval the new kid is refused, not fetched
    jwks_server.serve(first, second)
    _assert_refused(await external_client.get(PROTECTED, headers=token(second)))
    for _ in range(5):
        _assert_refused(await external_client.get(PROTECTED, headers=token(second, "k-unknown")))
    assert jwks_server.count("/jwks") == before + 1

    await asyncio.sleep(1.1)  # the test deployment's interval is 1 s
    assert (await external_client.get(PROTECTED, headers=token(second))).status_code == 200
    assert jwks_server.count("/jwks") == before + 2
    for _ in range(5):
        _assert_refused(await external_client.get(PROTECTED, headers=token(second, "k-unknown")))
    assert jwks_server.count("/jwks") == before + 2


@pytest.mark.parametrize(
    "mapping",
    [
        {"allowed_scopes": ["lists:read"]},  # speaks for whichever agency its tokens name
        {"agency": "unhcr", "agencies": ["unhcr"], "allowed_scopes": ["lists:read"]},
        {"agency": "unhcr"},  # grants whatever scope its tokens name
        {"agency": "unhcr", "allowed_scopes": []},
    ],
)
def test_an_external_issuer_must_name_its_agencies_and_scopes(mapping: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ExternalIssuer(issuer=STATIC_ISSUER, audience=EXTERNAL_AUDIENCE, **mapping)
