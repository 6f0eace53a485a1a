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


DOCKERFILE = COMPOSE.parent / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(instruction, its arguments) of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text("utf-8").replace("\\\n", " ")
    starts = [line for line in text.splitlines() if line[:1].isalpha()]
    return [(word, rest.strip()) for word, rest in (line.split(None, 1) for line in starts)]


def test_the_image_runs_as_a_user_and_can_print_letters() -> None:
    """The image ran the service as root, and lacked the fonts the letter PDF needs (503)."""
    instructions = _instructions()
    users = [args for name, args in instructions if name == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    assert any("fonts-noto-core" in args for name, args in instructions if name == "RUN")
    env = [args for name, args in instructions if name == "ENV"]
    assert any(e.startswith("DATABASE_URL=sqlite:////data/") for e in env), env
