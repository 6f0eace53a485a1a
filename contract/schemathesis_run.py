"""Run schemathesis against a live Sanad, on a fresh database each: no 5xx, no response outside
`openapi.yaml`. First on SQLite with every demo client's real token; then on PostgreSQL with a
client per data-holding agency granted every scope its kind may hold, so that the routes the
demo clients' scopes refuse are fuzzed too, on the production database (it refuses values
SQLite stores, such as a NUL character). Bounded in time; exits non-zero on any failure. Used
by `scripts/test`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlmodel import Session

from auth.clients import register_client
from auth.policy import SCOPE_CEILING
from bench.servers import fresh_database, uvicorn_server
from cli.demo import seed_demo
from config.settings import Settings
from database.engine import make_sync_engine
from database.migrations import upgrade_to_head
from schemas.identity import ClientCreate
from schemas.vocabulary import AgencyKind

ROOT = Path(__file__).resolve().parent.parent
MAX_TIME_PER_CLIENT = int(os.environ.get("SANAD_SCHEMATHESIS_SECONDS", "25"))
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)
# (demo agency, its kind, the purpose its requests give): the purposes their agreements allow
FULL_SCOPE_CLIENTS = (
    ("us-mission", AgencyKind.US_MISSION, "resettlement-processing"),
    ("unhcr", AgencyKind.UNHCR, "reconciliation"),
    ("gop", AgencyKind.GOP, "protection-verification"),
)


@dataclass(frozen=True, slots=True)
class Fuzzed:
    role: str
    client_id: str
    client_secret: str
    purpose: str


def _purpose(scopes: str) -> str:
    return "audit" if "audit:read" in scopes.split() else "protection-verification"


def _token(base: str, client: Fuzzed) -> str:
    response = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _demo_clients(url: str) -> list[Fuzzed]:
    demo = seed_demo(Settings(database_url=url, log_level="WARNING"))
    return [
        Fuzzed(c["role"], c["client_id"], c["client_secret"], _purpose(c["scopes"]))
        for c in demo["clients"]
    ]


def _full_scope_clients(url: str) -> list[Fuzzed]:
    """The demo, and a client per data-holding agency with every scope its kind may hold."""
    seed_demo(Settings(database_url=url, log_level="WARNING"))
    clients = []
    with Session(make_sync_engine(url)) as session:
        for agency_id, kind, purpose in FULL_SCOPE_CLIENTS:
            scopes = sorted(scope.value for scope in SCOPE_CEILING[kind])
            data = ClientCreate(name="schemathesis (every scope)", scopes=scopes)
            client, secret = register_client(session, agency_id, data)
            assert secret is not None
            clients.append(Fuzzed(f"{agency_id}, every scope", client.id, secret, purpose))
        session.commit()
    return clients


def _fuzz(url: str, clients_of: Callable[[str], list[Fuzzed]]) -> tuple[int, int]:
    """(runs, failed runs) of schemathesis as each client on a server over `url`."""
    upgrade_to_head(url)
    clients = clients_of(url)
    env = {"DATABASE_URL": url, "SANAD_LOG_LEVEL": "WARNING"}
    failures = 0
    database = url.split(":", 1)[0].split("+", 1)[0]
    with uvicorn_server("api.main:app", env, "/healthz") as base:
        for client in clients:
            command = [
                sys.executable, "-m", "schemathesis.cli", "run", str(ROOT / "openapi.yaml"),
                "--url", base, "--checks", CHECKS, "--max-time", str(MAX_TIME_PER_CLIENT),
                "--phases", "examples,coverage,fuzzing", "--workers", "1",
                "--suppress-health-check", "all", "--max-failures", "5",
                "-H", f"Authorization: Bearer {_token(base, client)}",
                "-H", f"Purpose-Of-Use: {client.purpose}",
            ]  # fmt: skip
            print(f"== schemathesis as {client.role} on {database}", flush=True)
            failures += subprocess.run(command, cwd=ROOT, check=False).returncode != 0
    return len(clients), failures


def main() -> int:
    runs = failures = 0
    passes: tuple[tuple[str, Callable[[str], list[Fuzzed]]], ...] = (
        ("sqlite", _demo_clients),
        ("postgresql", _full_scope_clients),
    )
    for backend, clients_of in passes:
        with fresh_database(backend) as url:
            ran, failed = _fuzz(url, clients_of)
        runs, failures = runs + ran, failures + failed
    print(f"schemathesis: {runs - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
