"""Run schemathesis against a live Sanad, on a fresh database each: no 5xx, no response outside
`openapi.yaml`. First on SQLite with every demo client's real token; then on PostgreSQL with a
client per data-holding agency granted every scope its kind may hold, so that the routes the
demo clients' scopes refuse are fuzzed too, on the production database (it refuses values
SQLite stores, such as a NUL character). Bounded in time; exits non-zero on any failure. Used
by `scripts/test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.servers import fresh_database, uvicorn_server
from cli.demo import seed_demo
from config.settings import Settings
from contract import fuzz_world
from contract.fuzz_hooks import SCOPES_ENV, WORLD_ENV
from database.migrations import upgrade_to_head

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


@dataclass(frozen=True, slots=True)
class Fuzzed:
    role: str
    client_id: str
    client_secret: str
    purpose: str


ClientsOf = Callable[[str, dict[str, Any]], list[Fuzzed]]


def _purpose(scopes: str) -> str:
    return "audit" if "audit:read" in scopes.split() else "protection-verification"


def _token(base: str, client: Fuzzed) -> tuple[str, str]:
    """(access token, its scopes)."""
    response = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    response.raise_for_status()
    granted = response.json()
    return granted["access_token"], granted["scope"]


def _demo_clients(url: str, demo: dict[str, Any]) -> list[Fuzzed]:
    return [
        Fuzzed(c["role"], c["client_id"], c["client_secret"], _purpose(c["scopes"]))
        for c in demo["clients"]
    ]


def _every_scope_clients(url: str, demo: dict[str, Any]) -> list[Fuzzed]:
    """A client per data-holding agency with every scope its kind may hold."""
    callers = fuzz_world.register_every_scope_clients(url, "schemathesis (every scope)")
    return [
        Fuzzed(f"{c.agency_id}, every scope", c.client_id, c.client_secret, c.purpose)
        for c in callers.values()
    ]


def server_errors(log_text: str) -> list[str]:
    """The lines of a server's output that report a failure: an error-level structlog event
    (a background worker's, which no response shows) or a traceback, uvicorn's included."""
    return [
        line
        for line in log_text.splitlines()
        if '"level": "error"' in line or line.startswith(("Traceback", "ERROR:"))
    ]


def _fuzz(url: str, clients_of: ClientsOf, workdir: Path) -> tuple[int, int]:
    """(runs, failed runs) of schemathesis as each client on a server over `url`, in a world
    of objects whose ids the requests' paths name half the time (`contract.fuzz_world`). An
    error the server logs meanwhile fails the pass as one more failed run."""
    upgrade_to_head(url)
    demo = seed_demo(Settings(database_url=url, log_level="WARNING"))
    clients = clients_of(url, demo)
    env = {
        "DATABASE_URL": url,
        "SANAD_LOG_LEVEL": "WARNING",
        "SANAD_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.1/32"]',
    }
    failures = 0
    database = url.split(":", 1)[0].split("+", 1)[0]
    world_file = workdir / f"world-{database}.json"
    server_log = workdir / f"server-{database}.log"
    with uvicorn_server("api.main:app", env, "/healthz", output=server_log) as base:
        world_file.write_text(json.dumps(fuzz_world.build(base, url, demo["list_id"])))
        hooks = {"SCHEMATHESIS_HOOKS": "contract.fuzz_hooks", WORLD_ENV: str(world_file)}
        for client in clients:
            token, scopes = _token(base, client)
            command = [
                sys.executable, "-m", "schemathesis.cli", "run", str(ROOT / "openapi.yaml"),
                "--url", base, "--checks", CHECKS, "--max-time", str(MAX_TIME_PER_CLIENT),
                "--phases", "examples,coverage,fuzzing", "--workers", "1",
                "--suppress-health-check", "all", "--max-failures", "5",
                "-H", f"Authorization: Bearer {token}",
                "-H", f"Purpose-Of-Use: {client.purpose}",
            ]  # fmt: skip
            print(f"== schemathesis as {client.role} on {database}", flush=True)
            fuzz_env = {**os.environ, **hooks, SCOPES_ENV: scopes}
            ran = subprocess.run(command, cwd=ROOT, env=fuzz_env, check=False)
            failures += ran.returncode != 0
    errors = server_errors(server_log.read_text(errors="replace"))
    if errors:
        print(f"== the server on {database} logged {len(errors)} errors:", *errors, sep="\n")
    return len(clients) + 1, failures + bool(errors)


def main() -> int:
    runs = failures = 0
    passes: tuple[tuple[str, ClientsOf], ...] = (
        ("sqlite", _demo_clients),
        ("postgresql", _every_scope_clients),
    )
    for backend, clients_of in passes:
        with fresh_database(backend) as url, tempfile.TemporaryDirectory() as workdir:
            ran, failed = _fuzz(url, clients_of, Path(workdir))
        runs, failures = runs + ran, failures + failed
    print(f"schemathesis: {runs - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
