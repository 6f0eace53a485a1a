"""Build the Sanad ASGI app from settings: middleware, problem handlers, routers, lifespan."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.ext.asyncio import async_sessionmaker

from api import health, oauth, verifier_page
from api.audit_middleware import AuditMiddleware
from api.body_limit import MAX_BODY_BYTES, BodyLimit, BodyTooLarge, on_body_too_large
from api.input_guard import NulGuard
from api.problems import install_problem_handlers
from api.route_index import route_index
from api.services import Services, audit_writer_of, bulk_reads_of
from api.v1 import include_v1
from audit.bulk_reads import BulkReadDetector, BulkReadLimits, database_seeder
from audit.writer import AuditWriter
from auth.oauth_server import build_authorization_server
from auth.tokens import AccessTokenVerifier
from changes.dispatcher import WebhookDispatcher
from changes.webhook_settings import WebhookSettings
from config.logging import configure_logging
from config.settings import Settings, get_settings
from database.channels import open_driver_channel
from database.engine import make_async_engine, make_sync_engine
from exchange.import_service import MAX_IMPORT_BYTES
from reconcile.jobs import ReconciliationRunner
from reconcile.worker import IncrementalLinker
from sealing import sealing_box
from transparency.runtime import LogPolicy, TransparencyLog

API_TITLE = "Sanad inter-agency exchange API"
API_VERSION = "1.0.0"
NO_FRAMEWORK_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}


def build_services(settings: Settings) -> Services:
    async_engine = make_async_engine(
        settings.database_url, settings.sql_echo, settings.db_pool_size
    )
    sync_engine = make_sync_engine(settings.database_url, settings.sql_echo)
    sessions = async_sessionmaker(async_engine, expire_on_commit=False)
    driver = open_driver_channel(async_engine, settings.db_pool_size)
    transparency = TransparencyLog(settings.database_url, LogPolicy.from_settings(settings))
    bulk_reads = BulkReadDetector(BulkReadLimits.from_settings(settings), database_seeder(sessions))
    return Services(
        settings=settings,
        async_engine=async_engine,
        sync_engine=sync_engine,
        sessions=sessions,
        driver=driver,
        audit_writer=AuditWriter(driver, settings.audit_batch_max),
        token_verifier=AccessTokenVerifier(settings, async_engine),
        authorization_server=build_authorization_server(settings, sync_engine),
        transparency=transparency,
        bulk_reads=bulk_reads,
        # deliveries disclose as responses do: the same log check and bulk-read counts
        webhooks=WebhookDispatcher(
            sessions,
            WebhookSettings(),
            behind_reason=transparency.behind_reason,
            bulk_reads=bulk_reads,
        ),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        sys.setswitchinterval(settings.gil_switch_interval_ms / 1000)
        await services.transparency.start()
        if services.webhooks.settings.enabled:
            services.webhooks.start()
        services.reconciliation_runner = ReconciliationRunner(
            services.sessions, settings.reconcile_memory_mb
        )
        services.incremental_linker = IncrementalLinker(services.sessions)
        services.incremental_linker.start()
        try:
            yield
        finally:
            await services.incremental_linker.stop()
            await services.reconciliation_runner.stop()
            await services.webhooks.stop()
            await services.transparency.stop()
            await services.driver.close()
            await services.async_engine.dispose()
            services.sync_engine.dispose()

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry spans and logs carry URLs with their query strings
        # (record searches by name) and exception messages (database errors quote their
        # parameters): personal data must not reach an exporter. Off, it also stops a check of
        # the global providers on every request.
        telemetry=NO_FRAMEWORK_TELEMETRY,
        description="Share and reconcile US resettlement-pipeline membership between the US "
        "mission, UNHCR and Pakistan's officials, under least privilege, with every access "
        "audited. Errors are RFC 9457 problems.",
    )
    sealing_box()  # a sealing key file or PKCS#11 token that is refused stops the service here
    install_problem_handlers(app)
    app.add_exception_handler(BodyTooLarge, on_body_too_large)
    include_v1(app)  # first: FastAPI matches routes in order, and /v1 carries the load
    app.include_router(health.router)
    app.include_router(oauth.router)
    app.include_router(verifier_page.router)
    # each added middleware wraps those added before it: audit → body limit → NUL guard → app
    app.add_middleware(NulGuard)
    imports = route_index(app.routes)["import_records"].path
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, route_limits={imports: MAX_IMPORT_BYTES})
    app.add_middleware(AuditMiddleware, writer_of=audit_writer_of, bulk_reads_of=bulk_reads_of)
    return app
