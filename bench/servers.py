"""Start and stop benchmark servers and fresh databases (SQLite file or PostgreSQL database)."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "SANAD_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A new empty database URL, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="sanad-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"sanad_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def uvicorn_server(
    app_path: str, env: dict[str, str], ready_path: str, output: Path | None = None
) -> Iterator[str]:
    """Run `app_path` in its own uvicorn process (one worker, uvloop, no access log); its
    stdout and stderr go to the file `output` when given."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", app_path, "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log", "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip
    with contextlib.ExitStack() as files:
        sink = files.enter_context(output.open("ab")) if output else None
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=sink, stderr=sink
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + ready_path, timeout=1).status_code < 500:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{app_path} did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
