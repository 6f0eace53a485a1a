"""Reading `Content-Type` and negotiating `Accept` (RFC 9110 §12.5.1), as every route does."""

from __future__ import annotations

import pytest

from api.media_types import accepts, is_json, media_type

JSON_ROUTE = ("application/json", "application/problem+json")
PDF_ROUTE = ("application/pdf",)


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("application/vnd.sanad+json", True),
        ("text/plain", False),
        ("text/json", False),  # FastAPI reads application/* only
        ("multipart/form-data; boundary=x", False),
        ("application/x-www-form-urlencoded", False),
        ("", False),
        (None, False),
    ],
)
def test_json_is_what_fastapi_parses_as_json(content_type: str | None, json: bool) -> None:
    assert is_json(content_type) is json


def test_media_type_drops_parameters_and_case() -> None:
    assert media_type(" Application/X-WWW-Form-URLencoded ; charset=UTF-8") == (
        "application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize(
    ("accept", "offered", "acceptable"),
    [
        (None, JSON_ROUTE, True),
        ("*/*", PDF_ROUTE, True),
        ("application/json", JSON_ROUTE, True),
        ("application/problem+json", JSON_ROUTE, True),
        ("application/*", PDF_ROUTE, True),
        ("application/xml", JSON_ROUTE, False),
        ("text/*", JSON_ROUTE, False),
        ("application/json", PDF_ROUTE, False),
        # q=0 refuses, and the most specific range decides
        ("application/json;q=0", ("application/json",), False),
        ("application/json; q=0, */*", ("application/json",), False),
        ("application/json;q=0, application/*;q=0.5", JSON_ROUTE, True),  # problem+json
        ("*/*;q=0, application/pdf", PDF_ROUTE, True),
        ("*/*;q=0", JSON_ROUTE, False),
        ("application/*;q=0, application/json", ("application/json",), True),
        ("text/html, application/xhtml+xml, */*;q=0.8", JSON_ROUTE, True),
        ("APPLICATION/JSON", JSON_ROUTE, True),
        ("application/xml, , application/json", JSON_ROUTE, True),  # empty list elements
        # unparsable: as if absent
        ("json", JSON_ROUTE, True),
        ("*/json", PDF_ROUTE, True),
        ("application/json;q=x", PDF_ROUTE, True),
        ("application/xml;q=2", JSON_ROUTE, True),
        ("application/xml;q=nan", JSON_ROUTE, True),
        ("", JSON_ROUTE, True),
    ],
)
def test_accept_negotiation(accept: str | None, offered: tuple[str, ...], acceptable: bool) -> None:
    assert accepts(accept, offered) is acceptable
