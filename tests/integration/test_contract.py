"""`openapi.yaml` is the committed contract: the app must not drift from it."""

from __future__ import annotations

import yaml

from api.contract import committed_schema, current_schema, render


def test_app_schema_matches_committed_openapi_yaml() -> None:
    live = yaml.safe_load(render(current_schema()))
    assert live == committed_schema(), (
        "the API drifted from openapi.yaml: review, then run `python -m api.contract`"
    )


def test_every_error_response_is_a_problem() -> None:
    """RFC 9457 everywhere, except the OAuth endpoints whose clients expect RFC 6749 errors."""
    schema = current_schema()
    for path, operations in schema["paths"].items():
        if path.startswith("/oauth/"):
            continue
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith(("4", "5")):
                    assert "application/problem+json" in response.get("content", {}), (
                        path,
                        method,
                        status,
                    )
