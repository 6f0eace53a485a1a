"""`docker-compose.yml` is parsed (no Docker engine runs here): PostgreSQL plus the API, which
migrates on start and waits for a healthy database."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_compose_runs_postgres_and_the_migrating_api() -> None:
    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    assert services["db"]["image"].startswith("postgres:")
    api = services["api"]
    assert "--migrate" in api["command"]
    assert api["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
