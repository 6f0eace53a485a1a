"""Every engine Sanad makes hides bound values from its logs and errors: with
`SANAD_SQL_ECHO=true` SQLAlchemy would otherwise log names and dates of birth, and a failed
statement's message would quote them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from database.engine import make_async_engine, make_sync_engine


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("echo", [False, True])
async def test_engines_hide_bound_values(backend: str, echo: bool, tmp_path: Path) -> None:
    # making an engine does not connect: no database is needed to check how it is set up
    url = (
        f"sqlite:///{tmp_path / 'unused.db'}"
        if backend == "sqlite"
        else "postgresql://postgres@127.0.0.1:5432/unused"
    )
    sync_engine = make_sync_engine(url, echo)
    async_engine = make_async_engine(url, echo)
    try:
        assert sync_engine.hide_parameters and async_engine.sync_engine.hide_parameters
    finally:
        sync_engine.dispose()
        await async_engine.dispose()


def test_an_echoed_or_failed_statement_does_not_show_its_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_sync_engine("sqlite://", echo=True)
    try:
        with engine.connect() as conn, pytest.raises(StatementError) as failed:
            conn.execute(text("SELECT * FROM no_such_table WHERE name = :name"), {"name": "Ahmad"})
    finally:
        engine.dispose()
    assert "no_such_table" in caplog.text  # the statement itself is logged
    assert "Ahmad" not in caplog.text
    assert "Ahmad" not in str(failed.value)
