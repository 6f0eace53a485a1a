"""The committed OpenAPI contract: `python -m api.contract` rewrites `openapi.yaml` from the app,
and the contract test fails when the app and the file disagree."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from api.app_factory import create_app
from config.settings import Settings

CONTRACT_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def current_schema() -> dict[str, Any]:
    # The schema depends on routes and models only, never on the database or issuer.
    app = create_app(Settings(database_url="sqlite://", log_level="WARNING"))
    return app.openapi()


def render(schema: dict[str, Any]) -> str:
    return yaml.safe_dump(schema, sort_keys=True, allow_unicode=True, width=100)


def committed_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CONTRACT_PATH.read_text("utf-8"))
    return loaded


def main() -> int:
    CONTRACT_PATH.write_text(render(current_schema()), "utf-8")
    print(f"wrote {CONTRACT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
