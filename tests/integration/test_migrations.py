"""Every migration is reversible: a fresh database goes up to head, down to base and up again."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from alembic import command
from database.migrations import alembic_config
from tests.conftest import _create_pg_database, _drop_pg_database


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    if os.environ.get("SANAD_TEST_DATABASE", "sqlite") == "postgresql":
        name, url = _create_pg_database()
        try:
            yield url
        finally:
            _drop_pg_database(name)
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'migrations.db'}"


def test_migrations_go_down_and_up_again(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)
