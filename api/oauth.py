"""HTTP face of the OAuth 2 authorization server: token, introspection, revocation, RFC 8414
metadata and the JWKS. Errors here are RFC 6749 JSON (`{"error": ...}`), as OAuth clients
expect: the one exception to RFC 9457 problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AuditDep, ServicesDep
from api.media_types import FORM, media_type
from api.responses import problem_responses
from auth.oauth_server import OAuthHttpRequest, OAuthResult
from letters import keys as letter_signing_keys

router = APIRouter(tags=["oauth"])

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


class _ClientAuthFields(BaseModel):
    client_assertion_type: str | None = Field(
        default=None,
        description="`urn:ietf:params:oauth:client-assertion-type:jwt-bearer` for private_key_jwt",
    )
    client_assertion: str | None = Field(
        default=None, description="RFC 7523 client assertion (private_key_jwt)"
    )


class TokenRequestForm(_ClientAuthFields):
    grant_type: str = Field(description="`client_credentials`")
    scope: str | None = Field(
        default=None, description="Space-separated; may narrow the client's scopes, never widen"
    )


class TokenForm(_ClientAuthFields):
    token: str = Field(description="The access token")
    token_type_hint: str | None = Field(default=None, description="`access_token`")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str | None = None
    error_uri: str | None = None


class IntrospectionResponse(BaseModel):
    active: bool
    token_type: str | None = None
    client_id: str | None = None
    scope: str | None = None
    sub: str | None = None
    aud: str | list[str] | None = None
    iss: str | None = None
    exp: int | None = None
    iat: int | None = None
    jti: str | None = None
    agency: str | None = None


class AuthorizationServerMetadata(BaseModel):
    model_config = {"extra": "allow"}

    issuer: str
    token_endpoint: str
    jwks_uri: str
    introspection_endpoint: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    scopes_supported: list[str]


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, Any]]


def _form_body(model: type[BaseModel]) -> dict[str, Any]:
    """The request body as OpenAPI sees it; the handlers read the raw form themselves so that
    Authlib, not FastAPI, answers malformed requests (in RFC 6749 JSON)."""
    return {
        "requestBody": {
            "required": True,
            "content": {FORM: {"schema": model.model_json_schema()}},
        }
    }


_CLIENT_AUTH_NOTE = (
    " The client authenticates with HTTP Basic (`client_secret_basic`) or an RFC 7523 "
    "assertion (`private_key_jwt`)."
)
# the audit middleware answers 503 (a problem document) when it cannot record the request
_AUDIT_UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: problem_responses()[503]}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorBody, "description": "RFC 6749 error"},
    401: {"model": OAuthErrorBody, "description": "Client authentication failed"},
    **_AUDIT_UNAVAILABLE,
}


def _oauth_post(
    path: str, name: str, summary: str, description: str, form: type[BaseModel], ok: dict[str, Any]
) -> Callable[[_Handler], _Handler]:
    """Declare one of the three form-posting OAuth endpoints."""
    return router.post(
        path,
        name=name,
        summary=summary,
        description=description + _CLIENT_AUTH_NOTE,
        openapi_extra=_form_body(form),
        responses={200: ok, **_ERRORS},
        response_class=JSONResponse,
    )


async def _call(
    request: Request, endpoint: Callable[[OAuthHttpRequest], OAuthResult]
) -> OAuthResult:
    """Read the raw form and run the (synchronous, database-touching) Authlib endpoint in a
    worker thread. Only a urlencoded body is read as a form: Starlette would parse multipart
    too, which RFC 6749 does not allow and the input guard does not inspect."""
    fields = None
    if media_type(request.headers.get("content-type")) == FORM:
        form = await request.form()
        fields = tuple(
            (name, value) for name, value in form.multi_items() if isinstance(value, str)
        )
    http = OAuthHttpRequest(request.method, str(request.url), request.headers, fields)
    return await run_in_threadpool(endpoint, http)


def _response(result: OAuthResult, audit: AuditDep) -> JSONResponse:
    if result.error:
        audit.reason = result.error
    headers = {name: value for name, value in result.headers if name.lower() != "content-type"}
    return JSONResponse(result.body, status_code=result.status, headers=headers)


@_oauth_post(
    "/oauth/token",
    "issue_token",
    "Issue an access token (client_credentials)",
    "RFC 6749 §4.4 token request; returns an RFC 9068 JWT access token.",
    TokenRequestForm,
    {"model": TokenResponse, "description": "Access token"},
)
async def issue_token(request: Request, services: ServicesDep, audit: AuditDep) -> JSONResponse:
    return _response(await _call(request, services.authorization_server.issue_token), audit)


@_oauth_post(
    "/oauth/introspect",
    "introspect_token",
    "Introspect an access token (RFC 7662)",
    "A client learns about tokens of its own agency only; any other token is reported as "
    "`active: false`.",
    TokenForm,
    {"model": IntrospectionResponse, "description": "Token state"},
)
async def introspect_token(
    request: Request, services: ServicesDep, audit: AuditDep
) -> JSONResponse:
    return _response(await _call(request, services.authorization_server.introspect), audit)


@_oauth_post(
    "/oauth/revoke",
    "revoke_token",
    "Revoke an access token (RFC 7009)",
    "A client revokes its own tokens; the API refuses a revoked token at once.",
    TokenForm,
    {"description": "Revoked (or nothing to revoke)"},
)
async def revoke_token(request: Request, services: ServicesDep, audit: AuditDep) -> JSONResponse:
    result = await _call(request, services.authorization_server.revoke)
    # this process refuses the token from now on; other workers learn it from their poll
    for jti, expires_at in result.revoked:
        services.token_verifier.note_revoked(jti, expires_at)
    return _response(result, audit)


@router.get(
    "/.well-known/oauth-authorization-server",
    name="oauth_metadata",
    summary="Authorization server metadata (RFC 8414)",
    response_model=AuthorizationServerMetadata,
    responses=_AUDIT_UNAVAILABLE,
)
async def oauth_metadata(services: ServicesDep) -> dict[str, Any]:
    return services.authorization_server.metadata()


@router.get(
    "/.well-known/jwks.json",
    name="jwks",
    summary="Public keys that sign access tokens and protection letters",
    response_model=JsonWebKeySet,
    responses=_AUDIT_UNAVAILABLE,
)
async def jwks(services: ServicesDep) -> JSONResponse:
    document = await run_in_threadpool(services.authorization_server.jwks)
    # the missions' letter-signing keys (COSE credentials only) are published here too
    async with services.sessions() as session:
        letter_keys = await letter_signing_keys.public_jwks(session)
    token_keys: list[dict[str, object]] = list(document["keys"])  # type: ignore[call-overload]
    document = {**document, "keys": [*token_keys, *letter_keys]}
    # short: a rotated-in key is used at once, and verifiers refetch on an unknown kid anyway
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=60"})
