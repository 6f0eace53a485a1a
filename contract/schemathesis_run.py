"""Run schemathesis against a live Sanad on a fresh demo database, once per demo client with
its real token: no 5xx, no response outside `openapi.yaml`. Bounded in time; exits non-zero on
any failure. Used by `scripts/test`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench.servers import uvicorn_server
from cli.demo import seed_demo
from config.settings import Settings
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


def _purpose(scopes: str) -> str:
    return "audit" if "audit:read" in scopes.split() else "protection-verification"


def _token(base: str, client: dict[str, str]) -> str:
    response = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sanad-st-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'contract.db'}"
        upgrade_to_head(url)
        demo = seed_demo(Settings(database_url=url, log_level="WARNING"))
        env = {"DATABASE_URL": url, "SANAD_LOG_LEVEL": "WARNING"}
        failures = 0
        with uvicorn_server("api.main:app", env, "/healthz") as base:
            for client in demo["clients"]:
                token = _token(base, client)
                command = [
                    sys.executable, "-m", "schemathesis.cli", "run", str(ROOT / "openapi.yaml"),
                    "--url", base, "--checks", CHECKS, "--max-time", str(MAX_TIME_PER_CLIENT),
                    "--phases", "examples,coverage,fuzzing", "--workers", "1",
                    "--suppress-health-check", "all", "--max-failures", "5",
                    "-H", f"Authorization: Bearer {token}",
                    "-H", f"Purpose-Of-Use: {_purpose(client['scopes'])}",
                ]  # fmt: skip
                print(f"== schemathesis as {client['role']}", flush=True)
                result = subprocess.run(command, cwd=ROOT, check=False)
                failures += result.returncode != 0
        print(f"schemathesis: {len(demo['clients']) - failures} passed, {failures} failed")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
