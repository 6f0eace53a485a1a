"""A run's pages show no more than the caller may see now, through HTTP: a record withdrawn
after the run is a tombstone to the other agencies on its links, discrepancies and decisions
(conflicts show links as the links page does), with no evidence quoting its values and a
disclosure of no personal field (its owner sees it as it does elsewhere); and evidence written
under the run's view of a list is not shown once the caller's view hides or coarsens what it
quotes."""

from __future__ import annotations

from typing import Any

import httpx

from reconcile.explain import DERIVED_FIELDS
from tests.conftest import World
from tests.helpers import UNHCR_FIELDS, agreement_body, shared_pipeline
from tests.integration.test_reconciliation_report import three_lists_with_a_detention
from tests.integration.test_reconciliations import (
    DETENTION_FIELDS,
    RECONCILE,
    UNHCR_CSV,
    _linked_run,
    _links,
    _run,
    _unhcr_list,
)

# R1's values of the pipeline list that UNHCR's own U1 does not share (U1 has the same given
# name and PoR number, which UNHCR may show of its own record)
R1_ONLY = ("Ahmadzai", "Abdul Ghafoor", "1984-03-12", "P01234567", "CASE-1")
# UNHCR's registration of R4 (Yousuf Hotak) with his given and family names exchanged
SWAPPED_R4_ROW = "U4,Hotak,Yousuf,Sayed Ahmad,1979-01-01,,M,acc:ACC-0099-1122,PSH-3\n"


async def _confirmed_r1(
    client: httpx.AsyncClient, world: World
) -> tuple[str, str, str, dict[str, str]]:
    """UNHCR's run of the pipeline and its registrations with the R1-U1 link confirmed: both
    lists, the run and UNHCR's headers."""
    pipeline, registrations, run_id, headers = await _linked_run(client, world)
    [r1] = [x for x in await _links(client, headers, run_id) if x["left"]["record_id"] == "R1"]
    decided = await _decide(client, headers, r1["link_id"], "confirm")
    assert decided["right"]["record_id"] == "U1"
    return pipeline, registrations, run_id, headers


async def _decide(
    client: httpx.AsyncClient, headers: dict[str, str], link_id: str, decision: str
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/links/{link_id}/decisions", json={"decision": decision}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _withdraw(
    client: httpx.AsyncClient, headers: dict[str, str], list_id: str, record_key: str
) -> None:
    response = await client.post(
        f"/v1/lists/{list_id}/records/{record_key}/withdrawal",
        json={"reason": "left the pipeline"},
        headers=headers,
    )
    assert response.status_code == 200, response.text


async def _page(client: httpx.AsyncClient, headers: dict[str, str], path: str) -> str:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.text


async def _disclosures(
    client: httpx.AsyncClient, world: World, list_id: str, record_key: str
) -> dict[str, str]:
    """Each disclosure of the record to UNHCR by its id: the fields it names."""
    auditor = await world.headers("oversight", purpose="audit")
    params = {"list_id": list_id, "record_id": record_key, "recipient_agency_id": world.unhcr}
    response = await client.get("/v1/audit/disclosures", params=params, headers=auditor)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return {item["id"]: item["fields"] for item in response.json()["items"]}


async def _disclosed_since(
    client: httpx.AsyncClient, world: World, list_id: str, seen: dict[str, str]
) -> set[str]:
    """The fields of R1's disclosures to UNHCR made since `seen` were read."""
    now = await _disclosures(client, world, list_id, "R1")
    assert now.keys() > seen.keys()
    return {fields for key, fields in now.items() if key not in seen}


def _quoting(link: dict[str, Any]) -> list[str]:
    """The fields of a link's evidence that quote record values."""
    return [e["field"] for e in link["evidence"] if e["field"] not in DERIVED_FIELDS]


async def test_a_record_withdrawn_after_a_run_is_a_tombstone_to_another_agency(
    client: httpx.AsyncClient, world: World
) -> None:
    pipeline, _registrations, run_id, headers = await _confirmed_r1(client, world)
    us = await world.headers("us_mission")
    await _withdraw(client, us, pipeline, "R1")
    seen = await _disclosures(client, world, pipeline, "R1")
    tombstone = (await client.get(f"/v1/lists/{pipeline}/records/R1", headers=headers)).json()
    assert tombstone == {"record_id": "R1", "list_id": pipeline, "version": 2, "withdrawn": True}

    path = f"/v1/reconciliations/{run_id}"
    shown = await _page(client, headers, f"{path}/links?decision=confirmed")
    discrepancies = await _page(client, headers, f"{path}/discrepancies")
    [link] = await _links(client, headers, run_id, decision="confirmed")
    # and once more through a person's decision, whose answer shows the link too
    decided = await _decide(client, headers, link["link_id"], "confirm")
    for body in (shown, discrepancies, str(decided)):
        for value in R1_ONLY:
            assert value not in body, (value, body)
    for shown_link in (link, decided):
        assert shown_link["left"] == tombstone  # as the record's own page shows it
        assert _quoting(shown_link) == [], shown_link["evidence"]
        assert "PoR number" not in shown_link["reason"]
    # the tombstone is disclosed as the record's own page discloses it: no personal field
    assert await _disclosed_since(client, world, pipeline, seen) == {""}


async def test_the_owner_sees_its_own_withdrawn_record_as_it_does_elsewhere(
    client: httpx.AsyncClient, world: World
) -> None:
    _pipeline, registrations, run_id, headers = await _confirmed_r1(client, world)
    await _withdraw(client, headers, registrations, "U1")
    own = (await client.get(f"/v1/lists/{registrations}/records/U1", headers=headers)).json()
    assert own["withdrawn"] is True and own["withdrawal_reason"] == "left the pipeline"
    [link] = await _links(client, headers, run_id, decision="confirmed")
    assert link["right"] == own
    assert "dob" in _quoting(link)  # R1 is live and the view unchanged: evidence stays


async def test_a_status_of_a_withdrawn_record_is_no_discrepancy_shown_to_another_agency(
    client: httpx.AsyncClient, world: World
) -> None:
    run_id, headers, lists = await three_lists_with_a_detention(client, world, DETENTION_FIELDS)
    detentions = lists[2]
    path = f"/v1/reconciliations/{run_id}/discrepancies"
    [g4] = [x for x in await _links(client, headers, run_id) if x["right"]["record_id"] == "G4"]
    assert "in the pipeline but detained" in await _page(client, headers, path)
    await _decide(client, headers, g4["link_id"], "confirm")
    gop = await world.headers("gop", purpose="protection-verification")
    await _withdraw(client, gop, detentions, "G4")
    assert "detained" not in await _page(client, headers, path)


async def test_evidence_is_not_shown_once_the_view_coarsens_what_it_quotes(
    client: httpx.AsyncClient, world: World
) -> None:
    """The run read the pipeline's dates of birth in full; UNHCR's agreement now shows only the
    year, and no phrase the run wrote may quote the day any more."""
    pipeline, _registrations, run_id, headers = await _linked_run(client, world)
    before = await _links(client, headers, run_id)
    [r1] = [x for x in before if x["left"]["record_id"] == "R1"]
    assert "1984-03-12" in str(r1["evidence"])  # what the run wrote
    await _replace_agreement(client, world, pipeline, UNHCR_FIELDS, {"dob": "year_only"})
    seen = await _disclosures(client, world, pipeline, "R1")

    path = f"/v1/reconciliations/{run_id}"
    shown = await _page(client, headers, f"{path}/links")
    discrepancies = await _page(client, headers, f"{path}/discrepancies")
    decided = await _decide(client, headers, r1["link_id"], "confirm")
    for body in (shown, discrepancies, str(decided)):
        assert "1984-03-12" not in body, body
    assert decided["left"]["dob"] == "1984"
    assert "dob" not in _quoting(decided) and "DOB" not in decided["reason"]
    assert await _disclosed_since(client, world, pipeline, seen) == {
        "given_name,family_name,father_name,dob:year_only,documents,group_id"
    }


async def test_evidence_is_not_shown_once_the_view_hides_a_field_it_quotes(
    client: httpx.AsyncClient, world: World
) -> None:
    """A given-name phrase may quote the whole name, given and family (here a swap): once
    UNHCR's agreement no longer shares the pipeline's family names, no phrase quotes one."""
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV + SWAPPED_R4_ROW)
    run_id, headers = await _run(client, world, [pipeline, registrations])
    family_names = ("Ahmadzai", "Stanikzai", "Hotak")
    [r4] = [x for x in await _links(client, headers, run_id) if x["left"]["record_id"] == "R4"]
    [given] = [e for e in r4["evidence"] if e["field"] == "given"]
    assert "Yousuf Hotak" in given["phrase"]  # what the run wrote: R4's family name
    narrower = [name for name in UNHCR_FIELDS if name != "family_name"]
    await _replace_agreement(client, world, pipeline, narrower, {})
    for link in await _links(client, headers, run_id):
        explained = str(link["evidence"]) + link["reason"]
        assert not any(name in explained for name in family_names), link
        assert {"given", "family", "family_context"}.isdisjoint(_quoting(link))


async def _replace_agreement(
    client: httpx.AsyncClient,
    world: World,
    pipeline: str,
    fields: list[str],
    coarsen: dict[str, str],
) -> None:
    """The mission ends its agreement with UNHCR and grants `fields` with `coarsen` instead."""
    us = await world.headers("us_mission")
    listed = await client.get("/v1/agreements", params={"list_id": pipeline}, headers=us)
    [to_unhcr] = [a for a in listed.json()["items"] if a["recipient_agency_id"] == world.unhcr]
    ended = await client.post(f"/v1/agreements/{to_unhcr['id']}/termination", headers=us)
    assert ended.status_code == 200, ended.text
    purposes = ["protection-verification", RECONCILE]
    body = agreement_body(pipeline, world.unhcr, fields, purposes, coarsen)
    granted = await client.post("/v1/agreements", json=body, headers=us)
    assert granted.status_code == 201, granted.text
