"""The OAuth 2 authorization server: Authlib's framework-agnostic classes wired to our tables.

`client_credentials` only; clients authenticate with `client_secret_basic` or `private_key_jwt`
(RFC 7523); access tokens are RFC 9068 JWTs signed with the current key of `auth.keys`;
introspection (RFC 7662) and revocation (RFC 7009). Framework-neutral: routes hand in an
`OAuthHttpRequest` and get an `OAuthResult` back. Authlib is untyped, hence the `misc` ignores
on the classes derived from it."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidClientError,
    InvalidRequestError,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from auth import keys, repository
from auth.clients import can_sign_assertions, verify_secret
from auth.policy import SCOPE_CEILING
from auth.tokens import InvalidTokenError, own_token_claims, read_unverified
from config.settings import Settings
from schemas.identity import OAuthClient, RevokedToken, UsedClientAssertion
from schemas.types import utcnow
from schemas.vocabulary import AgencyKind, ClientKind, Scope

log = structlog.get_logger(__name__)

GRANT_TYPE = "client_credentials"
AUTH_METHODS = ["client_secret_basic", "private_key_jwt"]
# What a client may sign its RFC 7523 assertion with (never HS*: its key would be a secret).
ASSERTION_ALGORITHMS = ["ES256", "Ed25519", "EdDSA", "RS256", "PS256"]
# An assertion valid for longer is refused, which also bounds the replay table.
MAX_ASSERTION_LIFETIME_SECONDS = 300
_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,64}$")
_JTI = re.compile(r"^[\x21-\x7e]{1,200}$")
_PURGE_EVERY_SECONDS = 60.0
_UNKNOWN_CLIENT = "The client does not exist on this server."  # Authlib's wording
_Response = tuple[int, Any, list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class OAuthHttpRequest:
    """What the token, introspection and revocation endpoints need of an HTTP request.
    `headers` must look names up case-insensitively (Starlette's `Headers` does). `form` is
    None when the body is not `application/x-www-form-urlencoded`, the only encoding RFC 6749
    (§4.4.2, appendix B), RFC 7662 and RFC 7009 allow: such a request is `invalid_request`."""

    method: str
    url: str
    headers: Mapping[str, str]
    form: tuple[tuple[str, str], ...] | None


@dataclass(slots=True)
class OAuthResult:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]
    client_id: str | None = None
    revoked: list[tuple[str, float]] = field(default_factory=list)  # (jti, exp)

    @property
    def error(self) -> str | None:
        error = self.body.get("error") if self.status >= 400 else None
        return str(error) if error else None


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An `OAuth2Request` over an `OAuthHttpRequest`.

    Authlib's constructor refuses a non-https URL. TLS ends at the proxy in front of the
    service, so the URL seen here is http even in production and that check cannot judge the
    transport (docs/auth.md, "Transport"); the attributes are therefore set here directly."""

    def __init__(self, http: OAuthHttpRequest) -> None:
        self.method = http.method
        self.uri = http.url
        self.headers = http.headers
        self._body = None
        self._form = dict(http.form or ())
        self.payload = BasicOAuth2Payload(self._form)
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None
        self.revoked: list[tuple[str, float]] = []

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True, slots=True)
class SanadClient:
    """An enabled OAuth client as Authlib's `ClientMixin` sees it."""

    row: OAuthClient
    agency_kind: AgencyKind

    @property
    def client_id(self) -> str:
        return self.row.id

    @property
    def granted_scopes(self) -> frozenset[str]:
        # re-cut to the ceiling at issuance, in case the policy table narrowed since registration
        return frozenset(self.row.scopes.split()) & {
            s.value for s in SCOPE_CEILING[self.agency_kind]
        }

    @property
    def subject(self) -> str:
        """`sub` of its tokens: the client id, or for a liaison `liaison:<client id>:<person>`."""
        if self.row.kind == ClientKind.LIAISON and self.row.person_name:
            return f"liaison:{self.row.id}:{self.row.person_name}"
        return self.row.id

    def get_client_id(self) -> str:
        return self.row.id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The scope to grant: all the client's scopes, or the requested narrower set; None
        (Authlib answers `invalid_scope`) when the request reaches beyond them."""
        requested = frozenset((scope or "").split())
        if not requested:
            return " ".join(sorted(self.granted_scopes))
        if not requested <= self.granted_scopes:
            return None
        return " ".join(sorted(requested))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_secret(self.row.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """One of our access tokens, verified, as the introspection and revocation endpoints see it."""

    claims: dict[str, Any]
    revoked: bool

    def check_client(self, client: SanadClient) -> bool:
        return bool(self.claims["client_id"] == client.client_id)

    def is_expired(self) -> bool:
        return bool(self.claims["exp"] <= time.time())

    def is_revoked(self) -> bool:
        return self.revoked


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class _PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    """RFC 7523 client authentication against the client's registered JWK Set."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: SanadAuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=server.settings.clock_leeway_seconds)
        self._server = server

    def get_audiences(self) -> list[str]:
        return [self._server.token_endpoint, self._server.settings.issuer]

    def resolve_client_public_key(self, client: SanadClient) -> KeySet:
        try:
            registered = KeySet.import_key_set(client.row.jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise InvalidClientError(description="The client has no usable keys.") from None
        # keys registered before registration checked their strength are not trusted either
        usable = [key for key in registered.keys if can_sign_assertions(key)]
        if not usable:
            raise InvalidClientError(description="The client has no usable keys.")
        return KeySet(usable)

    def process_assertion_claims(self, assertion: str, resolve_key: KeySet) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except (JoseError, ValueError, TypeError, KeyError):
            raise InvalidClientError(description="Invalid client assertion.") from None
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: dict[str, Any]) -> None:
        # checked before Authlib's own checks store the jti, so a refused assertion costs nothing
        exp = claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise InvalidClientError(description="Missing claim: 'exp'.")
        if exp - time.time() > MAX_ASSERTION_LIFETIME_SECONDS:
            raise InvalidClientError(description="Client assertion lives too long.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not _JTI.match(jti):
            raise InvalidClientError(description="Missing or invalid JWT ID.")
        super().verify_claims(claims)

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        expires_at = dt.datetime.fromtimestamp(
            float(claims["exp"]) + self._server.settings.clock_leeway_seconds, dt.UTC
        )
        used = UsedClientAssertion(client_id=claims["sub"], jti=jti, expires_at=expires_at)
        return self._server.record_assertion(used)


class _OwnTokens:
    """What introspection and revocation share: client authentication and token lookup."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def __init__(self, server: SanadAuthorizationServer) -> None:
        super().__init__(server)  # type: ignore[call-arg]  # Authlib's Endpoint
        self._sanad = server

    def check_params(self, request: FormRequest, client: SanadClient) -> None:
        # `token_type_hint` is advisory (RFC 7009 §2.1, RFC 7662 §2.1) and we issue access
        # tokens only, so any hint is ignored rather than refused
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token' parameter.")

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return self._sanad.read_token(token_string)


class _Introspection(_OwnTokens, IntrospectionEndpoint):  # type: ignore[misc]
    def check_permission(
        self, token: IssuedToken, client: SanadClient, request: FormRequest
    ) -> bool:
        # an agency learns nothing about other agencies' tokens: they are simply not active
        return bool(token.claims["agency"] == client.row.agency_id)

    def introspect_token(self, token: IssuedToken) -> dict[str, Any]:
        claims = token.claims
        return {
            "active": True,
            "token_type": "Bearer",
            **{
                name: claims[name]
                for name in ("client_id", "scope", "sub", "aud", "iss", "exp", "iat", "jti")
            },
            "agency": claims["agency"],
        }


class _Revocation(_OwnTokens, RevocationEndpoint):  # type: ignore[misc]
    def revoke_token(self, token: IssuedToken, request: FormRequest) -> None:
        self._sanad.store_revocation(token)
        request.revoked.append((token.claims["jti"], float(token.claims["exp"])))


class _AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens (`typ: at+jwt`, ES256, `kid`) with our `aud`, `agency`, `sub`."""

    def __init__(self, server: SanadAuthorizationServer) -> None:
        super().__init__(
            issuer=server.settings.issuer,
            alg=keys.SIGNING_ALG,
            expires_generator=server.token_lifetime,
        )
        self._server = server

    def get_jwks(self) -> KeySet:
        return self._server.signing_keys()

    def get_audiences(self, client: SanadClient, user: object, scope: str) -> str:
        return self._server.settings.audience

    def get_jti(self, client: SanadClient, grant_type: str, user: object, scope: str) -> str:
        return secrets.token_urlsafe(24)

    def get_extra_claims(
        self, client: SanadClient, grant_type: str, user: object, scope: str
    ) -> dict[str, Any]:
        return {"agency": client.row.agency_id, "sub": client.subject}


class SanadAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, settings: Settings, engine: Engine) -> None:
        super().__init__(scopes_supported=sorted(s.value for s in Scope))
        self.settings = settings
        self._engine = engine
        self.token_endpoint = f"{settings.issuer}/oauth/token"
        self._purged_at = float("-inf")
        self.register_grant(_ClientCredentials)
        self.register_client_auth_method(_PrivateKeyJWT.CLIENT_AUTH_METHOD, _PrivateKeyJWT(self))
        self.register_token_generator(GRANT_TYPE, _AccessTokens(self))
        self.register_endpoint(_Introspection(self))
        self.register_endpoint(_Revocation(self))

    # --- the three endpoints ------------------------------------------------------------------

    def issue_token(self, http: OAuthHttpRequest) -> OAuthResult:
        return self._run(http, self._token_response)

    def introspect(self, http: OAuthHttpRequest) -> OAuthResult:
        return self._run(
            http, lambda request: self.create_endpoint_response("introspection", request)
        )

    def revoke(self, http: OAuthHttpRequest) -> OAuthResult:
        return self._run(http, lambda request: self.create_endpoint_response("revocation", request))

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 authorization server metadata."""
        issuer = self.settings.issuer
        return {
            "issuer": issuer,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "introspection_endpoint": f"{issuer}/oauth/introspect",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "grant_types_supported": [GRANT_TYPE],
            "response_types_supported": [],
            "scopes_supported": list(self.scopes_supported),
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
            "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
            "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
            "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
            "service_documentation": f"{issuer}/docs",
        }

    def jwks(self) -> dict[str, object]:
        with Session(self._engine) as session:
            return keys.public_jwks(session)

    def _token_response(self, request: FormRequest) -> _Response:
        response: _Response
        if not request.form.get("grant_type"):
            # RFC 6749 §5.2: a missing required parameter is `invalid_request`; Authlib would
            # answer `unsupported_grant_type`, as if one had been named
            response = InvalidRequestError("Missing 'grant_type' parameter.")()
        else:
            response = self.create_token_response(request)
        return response

    def _run(self, http: OAuthHttpRequest, call: Callable[[FormRequest], _Response]) -> OAuthResult:
        request = FormRequest(http)
        if http.form is None:
            error = "The request body must be application/x-www-form-urlencoded."
            status, body, headers = InvalidRequestError(error)()
        elif len({name for name, _ in http.form}) != len(http.form):
            # RFC 6749 §3.2: request parameters MUST NOT be included more than once
            status, body, headers = InvalidRequestError("Repeated request parameter.")()
        else:
            status, body, headers = call(request)
        client = request.client
        return OAuthResult(
            status=status,
            body=dict(body),
            headers=list(headers),
            client_id=client.client_id if isinstance(client, SanadClient) else None,
            revoked=request.revoked,
        )

    # --- Authlib's hooks ----------------------------------------------------------------------

    def query_client(self, client_id: object) -> SanadClient | None:
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            return None
        with Session(self._engine) as session:
            row = repository.get_client(session, client_id)
            if row is None or row.disabled_at is not None:
                return None
            agency = repository.get_agency(session, row.agency_id)
            if agency is None:
                return None
            return SanadClient(row, AgencyKind(agency.kind))

    def authenticate_client(
        self, request: FormRequest, methods: list[str], endpoint: str = "token"
    ) -> SanadClient:
        try:
            basic_id, _ = extract_basic_authorization(request.headers)
        except ValueError:  # e.g. credentials that are not UTF-8
            raise InvalidClientError(
                status_code=401, description="Malformed credentials."
            ) from None
        if basic_id and request.form.get("client_assertion"):
            raise InvalidRequestError("Use one client authentication method.")
        try:
            client: SanadClient = super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            # an unknown client and a wrong secret read alike; assertion errors keep their
            # description (it names the assertion's defect, not whether the client exists)
            if basic_id or error.description == _UNKNOWN_CLIENT:
                raise InvalidClientError(
                    status_code=error.status_code, description="Client authentication failed."
                ) from None
            raise
        return client

    def create_oauth2_request(self, request: FormRequest | OAuthHttpRequest) -> FormRequest:
        return request if isinstance(request, FormRequest) else FormRequest(request)

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> _Response:
        return status, body, headers

    def save_token(self, token: dict[str, Any], request: FormRequest) -> None:
        """Nothing to store: tokens are self-contained JWTs; revocation lists their `jti`."""

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        """No signal subscribers; the audit middleware records every request."""

    # --- storage used by the grant and endpoint classes -------------------------------------

    def token_lifetime(self, client: SanadClient, grant_type: str) -> int:
        """The client's registered lifetime, capped by today's settings for its kind."""
        if client.row.kind == ClientKind.LIAISON:
            cap = self.settings.liaison_token_lifetime_seconds
        else:
            cap = self.settings.access_token_lifetime_seconds
        return min(client.row.token_lifetime_seconds, cap)

    def signing_keys(self) -> KeySet:
        # read per issuance (one indexed row) so a rotation by any process applies at once
        with Session(self._engine) as session:
            return keys.signing_key_set(keys.ensure_signing_key(session))

    def record_assertion(self, used: UsedClientAssertion) -> bool:
        with Session(self._engine) as session:
            self._purge_expired(session)
            fresh = repository.record_client_assertion(session, used)
            session.commit()
            return fresh

    def read_token(self, token_string: object) -> IssuedToken | None:
        """One of our tokens, fully verified and unexpired, or None (RFC 7009/7662 treat
        anything else alike)."""
        if not isinstance(token_string, str):
            return None
        try:
            unverified = read_unverified(token_string, self.settings.max_token_bytes)
            with Session(self._engine) as session:
                published = keys.published_keys(session)
                verification = keys.verification_key_set([k.public_jwk for k in published])
                claims = own_token_claims(
                    token_string, unverified, verification.get, self.settings, time.time()
                )
                client = repository.get_client(session, claims["client_id"])
                # a disabled client's tokens are refused by the API: introspection says so too
                revoked = (
                    client is None
                    or client.disabled_at is not None
                    or repository.is_revoked(session, claims["jti"])
                )
        except InvalidTokenError:
            return None
        return IssuedToken(claims, revoked)

    def store_revocation(self, token: IssuedToken) -> None:
        claims = token.claims
        revoked = RevokedToken(
            jti=claims["jti"],
            client_id=claims["client_id"],
            expires_at=dt.datetime.fromtimestamp(float(claims["exp"]), dt.UTC),
        )
        with Session(self._engine) as session:
            self._purge_expired(session)
            repository.add_revoked_token(session, revoked)
            session.commit()
        log.info("token_revoked", client_id=claims["client_id"], jti=claims["jti"])

    def _purge_expired(self, session: Session) -> None:
        """Expired revocations and assertion ids can never matter again; drop them now and
        then (at most once a minute per process) so both tables stay small."""
        if time.monotonic() - self._purged_at < _PURGE_EVERY_SECONDS:
            return
        self._purged_at = time.monotonic()
        now = utcnow()
        # a revocation must outlive the token plus the verifiers' leeway
        repository.purge_expired_revocations(
            session, now - dt.timedelta(seconds=keys.MAX_CLOCK_LEEWAY_SECONDS)
        )
        repository.purge_expired_assertions(session, now)


def build_authorization_server(settings: Settings, sync_engine: Engine) -> SanadAuthorizationServer:
    return SanadAuthorizationServer(settings, sync_engine)
