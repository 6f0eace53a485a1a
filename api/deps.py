"""Typed dependencies: database session, services, audit context and the authorised caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope as AsgiScope

from api.route_index import route_target, route_template
from api.services import Services, services_of
from audit.context import AuditContext
from auth.access import AccessContext, authorize_operation, check_purpose_code
from auth.principal import Principal
from problems import ProblemError
from schemas.vocabulary import Scope

_bearer = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/oauth/token", scopes={s.value: s.value for s in Scope}
        )
    ),
    scheme_name="sanad_oauth2",
    auto_error=False,
)


async def get_services(request: Request) -> Services:
    return services_of(request.scope)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    # cleanup only: nothing after this yield may matter to the response (it runs after sending)
    async with services.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def audit_of(scope: AsgiScope) -> AuditContext:
    """The request's audit context, put in place by the audit middleware."""
    audit: AuditContext = scope["state"]["audit"]
    return audit


async def get_audit(request: Request) -> AuditContext:
    return audit_of(request.scope)


AuditDep = Annotated[AuditContext, Depends(get_audit)]


async def _principal(
    services: Services, audit: AuditContext, authorization: str | None
) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(
            "unauthenticated",
            "send an access token as `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": 'Bearer realm="sanad"'},
        )
    principal = await services.token_verifier.verify(token.strip())
    audit.principal = principal
    return principal


async def authorize(
    request: Request,
    authorization: Annotated[str | None, Security(_bearer)] = None,
    purpose_of_use: Annotated[str | None, Header(alias="Purpose-Of-Use")] = None,
) -> AccessContext:
    """The route's name selects its policy entry; a route without one is refused. One
    dependency, not a chain: each dependency FastAPI solves costs on every request."""
    services, audit = services_of(request.scope), audit_of(request.scope)
    # now, not only in the middleware afterwards: a write commits its audit event with it
    audit.route, audit.target = route_template(request.scope), route_target(request.scope)
    principal = await _principal(services, audit, authorization)
    operation = getattr(request.scope.get("route"), "name", "")
    if purpose_of_use:
        check_purpose_code(purpose_of_use)
        # kept as sent (even when unknown) so that auditors see what the caller claimed
        audit.purpose = purpose_of_use
    access = authorize_operation(principal, operation, purpose_of_use)
    audit.purpose = access.purpose.value if access.purpose else None
    if access.policy.personal_data:
        # fail closed at system level: no personal data while the transparency log lags
        services.transparency.require_current()
    return access


Access = Annotated[AccessContext, Depends(authorize)]
