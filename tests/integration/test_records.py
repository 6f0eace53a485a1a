"""Records through HTTP: what each agency sees, search filters and their refusals, cursor
pagination, corrections under ETag/If-Match, withdrawal tombstones and version history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.conftest import World
from tests.helpers import RECORD_METADATA, UNHCR_FIELDS, shared_pipeline


async def _keys(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> list[str]:
    """The record ids a search of the list at `path` finds (filters in the body)."""
    response = await client.post(f"{path}:search", json=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["record_id"] for item in response.json()["items"]]


async def test_owner_sees_everything_with_an_etag(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    response = await client.get(f"/v1/lists/{list_id}/records/R1", headers=us)
    assert response.status_code == 200
    assert response.headers["etag"] == '"v1"'
    record = response.json()
    assert record["program"] == "SIV"
    assert record["phone"] == "+923001234501"
    assert record["attributes"] == {"employer": "US Army contractor"}
    assert record["documents"][0] == {"type": "passport", "number": "P01234567"}
    assert record["withdrawn"] is False


async def test_unhcr_sees_exactly_its_agreement_fields(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="protection-verification")
    record = (await client.get(f"/v1/lists/{list_id}/records/R3", headers=unhcr)).json()
    assert set(record) == RECORD_METADATA | set(UNHCR_FIELDS)
    assert record["dob"] == "1362"  # stored as given, in its own calendar


async def test_pakistan_sees_year_only_and_no_pipeline_details(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    gop = await world.headers("gop", purpose="protection-verification")
    response = await client.get(f"/v1/lists/{list_id}/records/R1", headers=gop)
    record = response.json()
    assert record["dob"] == "1984"
    assert record["letter_id"] == "LTR-1"
    for hidden in ("program", "stage", "phone", "family_name", "documents", "attributes"):
        assert hidden not in record
    history = (await client.get(f"/v1/lists/{list_id}/records/R1/versions", headers=gop)).json()
    assert history["items"][0]["data"]["dob"] == "1984"
    assert "changed_by_client_id" not in history["items"][0]
    assert "SIV" not in str(history)


async def test_filters_on_hidden_fields_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    gop = await world.headers("gop", purpose="protection-verification")
    path = f"/v1/lists/{list_id}/records"
    for params, refused in (
        ({"family_name": "Ahmadzai"}, "family_name"),
        ({"document": "P01234567"}, "document"),
        ({"group_id": "CASE-1"}, "group_id"),
        ({"dob": "1984-03-12"}, "dob"),  # coarsened to the year: no finer filter
    ):
        response = await client.post(f"{path}:search", json=params, headers=gop)
        assert response.status_code == 403, (params, response.text)
        assert response.json()["type"].endswith("/filter-not-allowed")
        assert {p["name"] for p in response.json()["invalid_params"]} == {refused}
    # year-only views match on the record's whole year: R3 (1362 SH) spans into 1984
    assert await _keys(client, path, gop, dob="1984") == ["R1", "R3"]
    assert await _keys(client, path, gop, dob="1363", dob_calendar="solar_hijri") == ["R1"]
    assert await _keys(client, path, gop, given_name="mohammad  NABI") == ["R1"]


async def test_search_by_document_name_group_and_dob(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    path = f"/v1/lists/{list_id}/records"
    assert await _keys(client, path, us, document="p0123 4567") == ["R1"]
    assert await _keys(client, path, us, document="P01234567", document_type="visa") == []
    assert await _keys(client, path, us, document="pk 0012 3456789", document_type="por") == ["R1"]
    assert await _keys(client, path, us, name="AHMADZAI") == ["R1", "R2"]
    assert await _keys(client, path, us, name="noor ullah") == ["R3"]
    assert await _keys(client, path, us, group_id="CASE-1") == ["R1", "R2"]
    assert await _keys(client, path, us, letter_id="LTR-4") == ["R4"]
    bad = await client.post(f"{path}:search", json={"dob": "19xx"}, headers=us)
    assert bad.status_code == 422
    assert bad.json()["invalid_params"][0]["name"] == "dob"


async def test_solar_hijri_dates_are_found_by_gregorian_search(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    path = f"/v1/lists/{list_id}/records"
    # R3 was sent as 1362 SH, i.e. 21 March 1983 - 20 March 1984
    assert await _keys(client, path, us, dob="1983-06-01") == ["R3"]
    assert await _keys(client, path, us, dob="1984-01") == ["R3"]
    assert await _keys(client, path, us, dob="1984") == ["R1", "R3"]
    assert await _keys(client, path, us, dob="1362", dob_calendar="solar_hijri") == ["R1", "R3"]
    assert await _keys(client, path, us, dob="1363", dob_calendar="solar_hijri") == []


async def test_cursor_pagination_is_stable(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    path = f"/v1/lists/{list_id}/records"
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    while True:
        page = (await client.get(path, params=params, headers=us)).json()
        seen += [item["record_id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == ["R1", "R2", "R3", "R4"]
    assert (await client.get(path, params={"cursor": "garbage!"}, headers=us)).status_code == 422
    other = await shared_pipeline(client, world)
    first = (await client.get(path, params={"limit": 1}, headers=us)).json()["next_cursor"]
    foreign = await client.get(f"/v1/lists/{other}/records", params={"cursor": first}, headers=us)
    assert foreign.status_code == 422
    assert (await client.get(path, params={"limit": 501}, headers=us)).status_code == 422


async def test_a_search_pages_with_its_filters_in_the_body(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    search = f"/v1/lists/{list_id}/records:search"
    body: dict[str, Any] = {"dob": "1984", "limit": 1}
    first = (await client.post(search, json=body, headers=us)).json()
    assert [item["record_id"] for item in first["items"]] == ["R1"]
    body["cursor"] = first["next_cursor"]
    second = (await client.post(search, json=body, headers=us)).json()
    assert [item["record_id"] for item in second["items"]] == ["R3"]
    assert second["next_cursor"] is None
    for refused in ({"limit": 501}, {"fathername": "Gul"}, {"document_type": "ration"}):
        response = await client.post(search, json=refused, headers=us)
        assert response.status_code == 422, (refused, response.text)
        assert response.json()["invalid_params"][0]["name"] == "body." + next(iter(refused))


async def test_identifying_filters_are_refused_in_the_url(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    for name in ("given_name", "father_name", "name", "dob", "document", "letter_id"):
        response = await client.get(
            f"/v1/lists/{list_id}/records", params={name: "Abdul Ghafoor"}, headers=us
        )
        assert response.status_code == 422, (name, response.text)
        refusal = response.json()["invalid_params"]
        assert refusal == [{"name": f"query.{name}", "reason": refusal[0]["reason"]}]
        assert "records:search" in refusal[0]["reason"]
        assert "Abdul" not in response.text


async def test_corrections_need_a_current_etag(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    path = f"/v1/lists/{list_id}/records/R2"
    change = {"father_name": "Gul Mohammad Khan", "dob": "1988-05-02"}
    missing = await client.patch(path, json=change, headers=us)
    assert missing.status_code == 428
    stale = await client.patch(path, json=change, headers={**us, "If-Match": '"v7"'})
    assert stale.status_code == 412
    done = await client.patch(path, json=change, headers={**us, "If-Match": '"v1"'})
    assert done.status_code == 200, done.text
    assert done.headers["etag"] == '"v2"'
    assert done.json()["father_name"] == "Gul Mohammad Khan"
    assert done.json()["version"] == 2
    again = await client.patch(path, json=change, headers={**us, "If-Match": '"v1"'})
    assert again.status_code == 412
    unknown = await client.patch(path, json={"shoe_size": 9}, headers={**us, "If-Match": '"v2"'})
    assert unknown.status_code == 422
    invalid = await client.patch(
        path, json={"nationality": "XYZ"}, headers={**us, "If-Match": '"v2"'}
    )
    assert invalid.status_code == 422
    assert "XYZ" not in invalid.text
    search = f"/v1/lists/{list_id}/records"
    assert await _keys(client, search, us, father_name="gul mohammad khan") == ["R2"]
    assert await _keys(client, search, us, dob="1988-05") == ["R2"]
    history = (await client.get(f"{path}/versions", headers=us)).json()["items"]
    assert [(v["version"], v["change"]) for v in history] == [(1, "create"), (2, "update")]
    assert history[0]["data"]["father_name"] == "Gul Mohammad"
    assert history[1]["data"]["father_name"] == "Gul Mohammad Khan"
    assert history[1]["changed_by_client_id"] == world.client_for("us_mission")[0]


async def test_document_corrections_replace_the_search_keys(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    change = {"documents": [{"type": "passport", "number": "Q9-999"}]}
    done = await client.patch(
        f"/v1/lists/{list_id}/records/R4", json=change, headers={**us, "If-Match": '"v1"'}
    )
    assert done.status_code == 200, done.text
    search = f"/v1/lists/{list_id}/records"
    assert await _keys(client, search, us, document="Q9999") == ["R4"]
    assert await _keys(client, search, us, document="ACC-0099-1122") == []


async def test_only_the_owner_changes_records(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    path = f"/v1/lists/{list_id}/records/R1"
    patched = await client.patch(
        path, json={"given_name": "X"}, headers={**unhcr, "If-Match": '"v1"'}
    )
    assert patched.status_code == 403
    withdrawn = await client.post(f"{path}/withdrawal", json={"reason": "x"}, headers=unhcr)
    assert withdrawn.status_code == 403


async def test_withdrawal_leaves_a_tombstone(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    path = f"/v1/lists/{list_id}/records/R2"
    done = await client.post(f"{path}/withdrawal", json={"reason": "left the case"}, headers=us)
    assert done.status_code == 200, done.text
    assert done.json()["withdrawn"] is True
    assert done.json()["withdrawal_reason"] == "left the case"
    assert done.headers["etag"] == '"v2"'
    assert (
        await client.post(f"{path}/withdrawal", json={"reason": "x"}, headers=us)
    ).status_code == 409
    patched = await client.patch(path, json={"given_name": "X"}, headers={**us, "If-Match": '"v2"'})
    assert patched.status_code == 409

    seen = (await client.get(path, headers=unhcr)).json()
    assert seen == {"record_id": "R2", "list_id": list_id, "version": 2, "withdrawn": True}
    search = f"/v1/lists/{list_id}/records"
    assert await _keys(client, search, unhcr) == ["R1", "R3", "R4"]
    assert await _keys(client, search, unhcr, include_withdrawn=True) == ["R1", "R2", "R3", "R4"]
    # a recipient may not learn that a withdrawn person matched a name
    assert await _keys(client, search, unhcr, name="freshta", include_withdrawn=True) == []
    assert await _keys(client, search, us, name="freshta", include_withdrawn=True) == ["R2"]
    history = (await client.get(f"{path}/versions", headers=unhcr)).json()["items"]
    assert [v["data"] for v in history] == [{}, {}]
    owner_history = (await client.get(f"{path}/versions", headers=us)).json()["items"]
    assert owner_history[1]["change"] == "withdraw"
    assert owner_history[1]["data"]["withdrawal_reason"] == "left the case"
    lists = (await client.get("/v1/lists", headers=us)).json()["items"]
    assert next(i for i in lists if i["id"] == list_id)["record_count"] == 3


async def test_unknown_records_and_lists_are_404(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    assert (await client.get(f"/v1/lists/{list_id}/records/NOPE", headers=us)).status_code == 404
    assert (await client.get(f"/v1/lists/{list_id}/records/NOPE", headers=unhcr)).status_code == 404
    gop_list = await client.post(
        "/v1/lists", json={"name": "status", "kind": "status"},
        headers=await world.headers("gop", purpose="protection-verification"),
    )  # fmt: skip
    hidden = f"/v1/lists/{gop_list.json()['id']}/records"
    assert (await client.get(hidden, headers=unhcr)).status_code == 404


async def test_each_record_shown_is_disclosed_with_its_fields(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    gop = await world.headers("gop", purpose="protection-verification")
    assert (await client.get(f"/v1/lists/{list_id}/records/R1", headers=gop)).status_code == 200
    auditor = await world.headers("oversight", purpose="audit")
    response = await client.get(
        "/v1/audit/disclosures", params={"list_id": list_id, "record_id": "R1"}, headers=auditor
    )
    assert response.status_code == 200, response.text
    fields = {
        d["fields"] for d in response.json()["items"] if d["recipient_agency_id"] == world.gop
    }
    assert fields == {"given_name,father_name,dob:year_only,letter_id"}


async def test_an_auditor_asks_what_one_agency_was_shown_and_when(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    readers = {
        world.gop: (await world.headers("gop", purpose="protection-verification"), ["R1"]),
        world.unhcr: (
            await world.headers("unhcr", purpose="protection-verification"),
            ["R1", "R3"],
        ),
    }
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    for headers, keys in readers.values():
        for key in keys:
            path = f"/v1/lists/{list_id}/records/{key}"
            assert (await client.get(path, headers=headers)).status_code == 200
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)

    async def shown_items(auditor: dict[str, str], **params: str) -> list[dict[str, str]]:
        response = await client.get("/v1/audit/disclosures", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        items: list[dict[str, str]] = response.json()["items"]
        return items

    async def shown(auditor: dict[str, str], **params: str) -> list[str]:
        return sorted(item["record_key"] for item in await shown_items(auditor, **params))

    us_auditor = await world.headers("us_mission", purpose="audit")
    for agency, (_, keys) in readers.items():
        assert await shown(us_auditor, recipient_agency_id=agency) == keys
        window = {"since": before.isoformat(), "until": after.isoformat()}
        assert await shown(us_auditor, recipient_agency_id=agency, **window) == keys
        assert await shown(us_auditor, recipient_agency_id=agency, since=after.isoformat()) == []
        assert await shown(us_auditor, recipient_agency_id=agency, until=before.isoformat()) == []
    gop_client = (await shown_items(us_auditor, recipient_agency_id=world.gop))[0]["client_id"]
    assert await shown(us_auditor, client_id=gop_client) == ["R1"]  # what one system saw
    unhcr_auditor = await world.headers("unhcr", purpose="audit")
    # what Pakistan was shown of the US list is the US mission's to know, not UNHCR's
    assert await shown(unhcr_auditor, client_id=gop_client) == []
    assert await shown(unhcr_auditor, recipient_agency_id=world.gop) == []
    assert await shown(unhcr_auditor, recipient_agency_id=world.unhcr) == ["R1", "R3"]
    refused = await client.get(
        "/v1/audit/disclosures", params={"since": "last week"}, headers=us_auditor
    )
    assert refused.status_code == 422 and "since" in refused.text
    for page in ("/v1/audit/disclosures", "/v1/audit/events"):
        # a record id is unique only within its list: alone, it would name unrelated people
        alone = await client.get(page, params={"record_id": "R1"}, headers=us_auditor)
        assert alone.status_code == 422, alone.text
        assert alone.json()["invalid_params"][0]["name"] == "record_id"


async def test_control_characters_are_refused_before_the_database(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    for path, params in (
        (f"/v1/lists/{list_id}/records", {"cursor": "\x00"}),
        (f"/v1/lists/{list_id}/records/R%001", {}),
        ("/v1/lists/%00", {}),
    ):
        response = await client.get(path, params=params, headers=us)
        assert response.status_code == 422, (path, response.status_code)
    for body in ({"given_name": "a\x00b"}, {"cursor": "\x01"}, {"dob": "1984\x7f"}):
        response = await client.post(f"/v1/lists/{list_id}/records:search", json=body, headers=us)
        assert response.status_code == 422, (body, response.status_code)
