"""`alembic check` against fresh SQLite and PostgreSQL databases built by the migrations."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

import psycopg

from database.migrations import check_models_match_migrations, upgrade_to_head

PG_ADMIN_URL = os.environ.get(
    "SANAD_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _check_sqlite() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'check.db'}"
        upgrade_to_head(url)
        check_models_match_migrations(url)


def _check_postgresql() -> None:
    name = f"sanad_check_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        upgrade_to_head(f"{url}/{name}")
        check_models_match_migrations(f"{url}/{name}")
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    _check_sqlite()
    print("alembic check: sqlite ok")
    _check_postgresql()
    print("alembic check: postgresql ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
