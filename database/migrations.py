"""Run Alembic programmatically (CLI `sanad migrate`, service start, and the test database)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def check_models_match_migrations(database_url: str) -> None:
    """Raises when the table models changed without a migration (`alembic check`)."""
    command.check(alembic_config(database_url))
