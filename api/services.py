"""The process-wide objects one app instance runs with, built in its lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import Scope

from audit.bulk_reads import BulkReadDetector
from audit.writer import AuditWriter
from auth.oauth_server import SanadAuthorizationServer
from auth.tokens import AccessTokenVerifier
from changes.dispatcher import WebhookDispatcher
from config.settings import Settings
from database.prepared import DriverChannel
from reconcile.jobs import ReconciliationRunner
from reconcile.worker import IncrementalLinker
from transparency.runtime import TransparencyLog


@dataclass(slots=True)
class Services:
    settings: Settings
    async_engine: AsyncEngine
    sync_engine: Engine
    sessions: async_sessionmaker[AsyncSession]
    driver: DriverChannel  # prepared reads of the checkpoint path, closed in the lifespan
    audit_writer: AuditWriter
    token_verifier: AccessTokenVerifier
    authorization_server: SanadAuthorizationServer
    transparency: TransparencyLog  # sequencer + backlog watch; personal data only while current
    bulk_reads: BulkReadDetector
    webhooks: WebhookDispatcher  # delivery worker, started in the lifespan
    # background reconciliation runs and incremental linking, started in the lifespan
    reconciliation_runner: ReconciliationRunner | None = None
    incremental_linker: IncrementalLinker | None = None


def services_of(scope: Scope) -> Services:
    services: Services = scope["app"].state.services
    return services


def audit_writer_of(scope: Scope) -> AuditWriter:
    return services_of(scope).audit_writer


def bulk_reads_of(scope: Scope) -> BulkReadDetector:
    return services_of(scope).bulk_reads
