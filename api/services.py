"""The process-wide objects one app instance runs with, built in its lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import Scope

from audit.writer import AuditWriter
from auth.oauth_server import SanadAuthorizationServer
from auth.tokens import AccessTokenVerifier
from config.settings import Settings


@dataclass(slots=True)
class Services:
    settings: Settings
    async_engine: AsyncEngine
    sync_engine: Engine
    sessions: async_sessionmaker[AsyncSession]
    audit_writer: AuditWriter
    token_verifier: AccessTokenVerifier
    authorization_server: SanadAuthorizationServer


def services_of(scope: Scope) -> Services:
    services: Services = scope["app"].state.services
    return services


def audit_writer_of(scope: Scope) -> AuditWriter:
    return services_of(scope).audit_writer
