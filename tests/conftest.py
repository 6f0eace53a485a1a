"""Test fixtures: a real database per run built by Alembic, the app over HTTP, and a fresh
"world" of agencies and OAuth clients per test. `SANAD_TEST_DATABASE=sqlite|postgresql`."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from api.app_factory import create_app
from auth.clients import create_agency, register_client
from auth.keys import ensure_signing_key
from auth.policy import SCOPE_CEILING
from changes.dispatcher import WebhookDispatcher
from config.settings import Settings
from database.engine import make_sync_engine
from database.migrations import upgrade_to_head
from schemas.identity import ClientCreate
from schemas.vocabulary import AgencyKind
from tests.webhook_receiver import FAST

pytest_plugins = ["tests.softhsm"]
TEST_ISSUER = "http://testserver"
PG_ADMIN_URL = os.environ.get(
    "SANAD_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _create_pg_database() -> tuple[str, str]:
    import psycopg

    name = f"sanad_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def _drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    backend = os.environ.get("SANAD_TEST_DATABASE", "sqlite")
    if backend == "postgresql":
        name, url = _create_pg_database()
        try:
            upgrade_to_head(url)
            yield url
        finally:
            _drop_pg_database(name)
        return
    if backend != "sqlite":
        raise RuntimeError(f"SANAD_TEST_DATABASE must be sqlite or postgresql, not {backend!r}")
    with tempfile.TemporaryDirectory(prefix="sanad-test-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'sanad.db'}"
        upgrade_to_head(url)
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, issuer=TEST_ISSUER, log_level="WARNING")


@pytest.fixture(scope="session")
def sync_engine(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_sync_engine(settings.database_url)
    with Session(engine) as session:
        ensure_signing_key(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sync_session(sync_engine):  # type: ignore[no-untyped-def]
    def factory() -> Session:
        return Session(sync_engine)

    return factory


@pytest.fixture(scope="session")
async def app(settings: Settings, sync_engine) -> AsyncIterator[FastAPI]:  # type: ignore[no-untyped-def]
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as http:
        yield http


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@dataclass
class World:
    """Uniquely named agencies of every kind, each with an all-scopes system client."""

    http: httpx.AsyncClient
    agencies: dict[AgencyKind, str]
    credentials: dict[AgencyKind, tuple[str, str]]
    _tokens: dict[tuple[AgencyKind, str], str] = field(default_factory=dict)

    @property
    def us(self) -> str:
        return self.agencies[AgencyKind.US_MISSION]

    @property
    def unhcr(self) -> str:
        return self.agencies[AgencyKind.UNHCR]

    @property
    def gop(self) -> str:
        return self.agencies[AgencyKind.GOP]

    @property
    def oversight(self) -> str:
        return self.agencies[AgencyKind.OVERSIGHT]

    def client_for(self, kind: AgencyKind | str) -> tuple[str, str]:
        return self.credentials[AgencyKind(kind)]

    async def token(self, kind: AgencyKind | str, scopes: list[str] | None = None) -> str:
        kind = AgencyKind(kind)
        key = (kind, " ".join(scopes or []))
        if key not in self._tokens:
            client_id, secret = self.credentials[kind]
            form = {"grant_type": "client_credentials"}
            if scopes:
                form["scope"] = " ".join(scopes)
            response = await self.http.post(
                "/oauth/token", data=form, headers={"Authorization": basic_auth(client_id, secret)}
            )
            assert response.status_code == 200, response.text
            self._tokens[key] = response.json()["access_token"]
        return self._tokens[key]

    async def headers(
        self,
        kind: AgencyKind | str,
        purpose: str | None = "resettlement-processing",
        scopes: list[str] | None = None,
    ) -> dict[str, str]:
        result = {"Authorization": f"Bearer {await self.token(kind, scopes)}"}
        if purpose:
            result["Purpose-Of-Use"] = purpose
        return result


def build_world(session_factory, http: httpx.AsyncClient) -> World:  # type: ignore[no-untyped-def]
    suffix = secrets.token_hex(3)
    agencies: dict[AgencyKind, str] = {}
    credentials: dict[AgencyKind, tuple[str, str]] = {}
    with session_factory() as session:
        for kind in AgencyKind:
            agency_id = f"{kind.value.replace('_', '-')}-{suffix}"
            create_agency(session, agency_id, f"Test {kind.value} {suffix}", kind)
            agencies[kind] = agency_id
        session.flush()
        for kind, agency_id in agencies.items():
            scopes = sorted(s.value for s in SCOPE_CEILING[kind])
            data = ClientCreate(name=f"{kind.value} system", scopes=scopes)
            registered, secret = register_client(session, agency_id, data)
            assert secret is not None
            credentials[kind] = (registered.id, secret)
        session.commit()
    return World(http=http, agencies=agencies, credentials=credentials)


@pytest.fixture
async def dispatcher(app: FastAPI) -> AsyncIterator[WebhookDispatcher]:
    """The app's own delivery worker, sending to this machine's loopback with `FAST` retries."""
    webhooks: WebhookDispatcher = app.state.services.webhooks
    before = webhooks.settings
    webhooks.reconfigure(FAST)
    yield webhooks
    webhooks.reconfigure(before)
    # the next test builds its world with blocking writes on this loop: let the worker finish
    await asyncio.sleep(0.05)
    await webhooks.settle()


@pytest.fixture
async def world(sync_session, client: httpx.AsyncClient) -> World:  # type: ignore[no-untyped-def]
    # In a thread: a blocking write on the event loop would wait on a SQLite lock held by an
    # async transaction (audit, change feed) that needs this very loop to finish.
    return await asyncio.to_thread(build_world, sync_session, client)
