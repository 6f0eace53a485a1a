"""Edges of imports and record search found in review (session 24): NDJSON attributes given
twice, a document type or a calendar given alone, values too long once normalised for search
(PostgreSQL's 500), record ids with a '/'. Each test failed before its fix."""

from __future__ import annotations

import json

import httpx

from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.integration.test_imports import _import


async def _search(
    client: httpx.AsyncClient, list_id: str, headers: dict[str, str], **body: object
) -> httpx.Response:
    return await client.post(f"/v1/lists/{list_id}/records:search", json=body, headers=headers)


async def _new_list(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=headers)
    assert made.status_code == 201, made.text
    list_id: str = made.json()["id"]
    return list_id


async def test_an_ndjson_attribute_given_twice_is_refused_not_dropped(
    client: httpx.AsyncClient, world: World
) -> None:
    """Unknown fields are kept as attributes, never silently dropped: an NDJSON record giving
    one attribute twice (top level and in `attributes`, or under names equal once trimmed)
    kept only the last value."""
    us = await world.headers("us_mission")
    list_id = await _new_list(client, us)
    rows = [
        '{"record_id": "A1", "employer": "US Army", "attributes": {"employer": "NGO"}}',
        '{"record_id": "A2", "attributes": {"case": "H-1"}, "case": "H-2"}',
        '{"record_id": "A3", " hotline": "H-3", "hotline": "H-4"}',
        '{"record_id": "A4", "hotline": "H-5", "attributes": {"employer": "NGO"}}',
    ]
    response = await _import(client, us, list_id, "\n".join(rows), "application/x-ndjson")
    assert response.status_code == 422, response.text
    rejected = {(r["row"], r["field"]) for r in response.json()["rejected"]}
    assert rejected == {(1, "employer"), (2, "case"), (3, "hotline")}
    for secret in ("US Army", "NGO", "H-1", "H-2", "H-3", "H-4"):
        assert secret not in response.text
    page = await client.get(f"/v1/lists/{list_id}/records", headers=us)
    assert page.json()["items"] == []


async def test_a_document_type_alone_filters_by_that_type(
    client: httpx.AsyncClient, world: World
) -> None:
    """`document_type` without `document` was silently ignored: a search for the records
    holding a visa answered every record of the list (and disclosed them all)."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    response = await _search(client, list_id, us, document_type="por")
    assert response.status_code == 200, response.text
    assert [item["record_id"] for item in response.json()["items"]] == ["R1"]
    response = await _search(client, list_id, us, document_type="visa")
    assert response.json()["items"] == []
    # a recipient that may see documents, with tombstones asked for: still only the type
    unhcr = await world.headers("unhcr", purpose="protection-verification")
    response = await _search(client, list_id, unhcr, document_type="unhcr")
    assert [item["record_id"] for item in response.json()["items"]] == ["R3"]


async def test_a_calendar_without_a_birth_date_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    """`dob_calendar` alone filtered nothing and answered the whole list; it only qualifies a
    `dob` filter, so alone it is a 422 naming it."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    response = await _search(client, list_id, us, dob_calendar="solar_hijri")
    assert response.status_code == 422, response.text
    assert [p["name"] for p in response.json()["invalid_params"]] == ["dob_calendar"]


# "ß" casefolds to "ss", "ﬃ" to "ffi"; U+FDFA (an Arabic ligature) is 18 letters under NFKC
_LONG_ONCE_FOLDED = "ß" * 150
_LONG_DOCUMENT = "\ufdfa" * 10


async def test_values_too_long_once_normalised_are_named_not_a_500(
    client: httpx.AsyncClient, world: World
) -> None:
    """A name or document number within its length whose search key (case-folded, NFKC) is
    longer than the key's column: SQLite stored it, PostgreSQL failed the whole import with a
    500 (and a correction with a 422 naming no field). Now both refuse the row's field."""
    us = await world.headers("us_mission")
    list_id = await _new_list(client, us)
    body = (
        "record_id,given_name,father_name,documents\n"
        f"L1,{_LONG_ONCE_FOLDED},Ahmad,passport:X1\n"
        f"L2,Ali,Ahmad,passport:{_LONG_DOCUMENT}\n"
        "L3,Ali,Ahmad,passport:X3\n"
    )
    response = await _import(client, us, list_id, body)
    assert response.status_code == 422, response.text
    rejected = {(r["row"], r["field"]) for r in response.json()["rejected"]}
    assert rejected == {(1, "given_name"), (2, "documents")}
    assert "ß" not in response.text and "\ufdfa" not in response.text
    lines = [
        {"record_id": "L1", "family_name": _LONG_ONCE_FOLDED},
        {"record_id": "L2", "documents": [{"type": "por", "number": _LONG_DOCUMENT}]},
    ]
    ndjson = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    response = await _import(client, us, list_id, ndjson, "application/x-ndjson")
    assert response.status_code == 422, response.text
    rejected = {(r["row"], r["field"]) for r in response.json()["rejected"]}
    assert rejected == {(1, "family_name"), (2, "documents")}

    list_id = await shared_pipeline(client, world)
    path = f"/v1/lists/{list_id}/records/R1"
    etag = (await client.get(path, headers=us)).headers["etag"]
    for patch, field in (
        ({"father_name": "ﬃ" * 100}, "father_name"),
        ({"documents": [{"type": "passport", "number": _LONG_DOCUMENT}]}, "documents"),
    ):
        response = await client.patch(path, json=patch, headers={**us, "If-Match": etag})
        assert response.status_code == 422, response.text
        assert [p["name"] for p in response.json()["invalid_params"]] == [field]
    assert (await client.get(path, headers=us)).headers["etag"] == etag


async def test_a_record_id_holding_a_slash_is_refused_at_import(
    client: httpx.AsyncClient, world: World
) -> None:
    """Case numbers like `NVC/2023/001` were imported, then every route naming the record
    (read, correct, withdraw, history) answered 404: a `/`, even sent as %2F, splits the path.
    Such a person could not even be withdrawn. The import now refuses the id, naming it."""
    us = await world.headers("us_mission")
    list_id = await _new_list(client, us)
    body = "record_id,given_name\nNVC-2023-001,Ali\nNVC/2023/002,Wais\n"
    response = await _import(client, us, list_id, body)
    assert response.status_code == 422, response.text
    assert [(r["row"], r["field"]) for r in response.json()["rejected"]] == [(2, "record_id")]
    assert "NVC/2023/002" not in response.text
    ndjson = '{"record_id": "NVC/2023/003", "given_name": "Ali"}'
    response = await _import(client, us, list_id, ndjson, "application/x-ndjson")
    assert response.status_code == 422, response.text
    assert [(r["row"], r["field"]) for r in response.json()["rejected"]] == [(1, "record_id")]
    # an id with other URL-special characters is reachable percent-encoded
    response = await _import(client, us, list_id, "record_id,given_name\nA?B#C%D,Ali\n")
    assert response.status_code == 201, response.text
    path = f"/v1/lists/{list_id}/records/A%3FB%23C%25D"
    assert (await client.get(path, headers=us)).status_code == 200
    withdrawn = await client.post(f"{path}/withdrawal", json={"reason": "duplicate"}, headers=us)
    assert withdrawn.status_code == 200, withdrawn.text


async def test_a_refused_attribute_name_is_not_quoted_back(
    client: httpx.AsyncClient, world: World
) -> None:
    """An attribute name too long or holding a control character is more likely a value sent
    without its key: the 422 names `attributes`, not the name, in an import and a correction."""
    us = await world.headers("us_mission")
    list_id = await _new_list(client, us)
    value_as_key = "Zarghuna Barakzai daughter of Abdul Wahid, born 1993 in Kunar, PoR " + "9" * 40
    row = json.dumps({"record_id": "K1", "given_name": "Ali", value_as_key: "x"})
    imported = await _import(client, us, list_id, row, "application/x-ndjson")
    assert imported.status_code == 422, imported.text
    assert [r["field"] for r in imported.json()["rejected"]] == ["attributes"]
    assert "Zarghuna" not in imported.text
    list_id = await shared_pipeline(client, world)
    corrected = await client.patch(
        f"/v1/lists/{list_id}/records/R1",
        json={"attributes": {"Zarghuna\tBarakzai": "x"}},
        headers={**us, "If-Match": '"v1"'},
    )
    assert corrected.status_code == 422, corrected.text
    assert "Zarghuna" not in corrected.text


async def test_a_withdrawal_reason_of_blanks_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    path = f"/v1/lists/{list_id}/records/R2/withdrawal"
    blank = await client.post(path, json={"reason": "   "}, headers=us)
    assert blank.status_code == 422, blank.text
    assert blank.json()["invalid_params"][0]["name"] == "body.reason"
    assert (await client.post(path, json={"reason": " left the case "}, headers=us)).is_success
