"""The reconciliation workflow through HTTP, as a reviewer reads it: discrepancies that are
real disagreements only and pages that end where they do, a run's counts that follow people's
decisions, and a probability band that cannot hold a link refused."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.integration.test_reconciliations import (
    LATE_ROW,
    UNHCR_CSV,
    _linked_run,
    _links,
    _run,
    _unhcr_list,
)

# R4 (Yousuf Hotak, alone in his US case) registered by UNHCR with his daughter: his household
# has a member his case lacks
_R4_WITH_DAUGHTER = UNHCR_CSV + LATE_ROW + "U8,Mariam,Hotak,Yusuf,2005,,F,,PSH-3\n"


async def _discrepancies(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str
) -> dict[str, list[str]]:
    """The kinds of each discrepancy, by the left record's id."""
    found = await client.get(f"/v1/reconciliations/{run_id}/discrepancies", headers=headers)
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return {str(item["left"]["record_id"]): item["kinds"] for item in items}


async def test_a_lone_person_linked_to_a_lone_person_is_no_family_discrepancy(
    client: httpx.AsyncClient, world: World
) -> None:
    """R3 is alone in his US case and U3 alone in UNHCR's household: that no other member of the
    case links into the household says nothing about the family, yet the link was listed as a
    'family composition' discrepancy (the engine's level `none`). R4's household holds a
    daughter his case lacks: that one stays."""
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, _R4_WITH_DAUGHTER)
    run_id, headers = await _run(client, world, [pipeline, registrations])
    pairs = {
        x["left"]["record_id"]: x["right"]["record_id"]
        for x in await _links(client, headers, run_id)
    }
    assert pairs["R3"] == "U3" and pairs["R4"] == "U4"
    kinds = await _discrepancies(client, headers, run_id)
    assert "family composition" not in kinds.get("R3", [])
    assert "family composition" in kinds["R4"]
    assert "dob" in kinds["R1"]  # 1984-03-12 against 1984-03-21, as before


async def test_a_rejected_link_leaves_its_records_unmatched_in_the_run_s_counts(
    client: httpx.AsyncClient, world: World
) -> None:
    """Rejecting R2 ~ U2 takes one from `linked` but left both lists' `unmatched` as they were:
    the status says 4 pipeline records, 2 linked, 1 unmatched."""
    pipeline, registrations, run_id, headers = await _linked_run(client, world)
    before = (await client.get(f"/v1/reconciliations/{run_id}", headers=headers)).json()
    [r2] = [x for x in await _links(client, headers, run_id) if x["left"]["record_id"] == "R2"]
    decided = await client.post(
        f"/v1/links/{r2['link_id']}/decisions", json={"decision": "reject"}, headers=headers
    )
    assert decided.status_code == 200, decided.text
    after = (await client.get(f"/v1/reconciliations/{run_id}", headers=headers)).json()
    assert after["counts"]["linked"] == before["counts"]["linked"] - 1
    for list_id in (pipeline, registrations):
        unmatched = before["counts"]["unmatched"][list_id]
        assert after["counts"]["unmatched"][list_id] == unmatched + 1, list_id


async def test_discrepancy_pages_end_where_the_discrepancies_do(
    client: httpx.AsyncClient, world: World
) -> None:
    """A page that takes the last discrepancy offers no cursor (it led to an empty page), and a
    page that leaves some offers one that finds exactly them."""
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, _R4_WITH_DAUGHTER)
    run_id, headers = await _run(client, world, [pipeline, registrations])  # R1's dob, R4's family
    path = f"/v1/reconciliations/{run_id}/discrepancies"
    every = (await client.get(path, headers=headers)).json()
    ids = [item["link_id"] for item in every["items"]]
    assert len(ids) >= 2 and every["next_cursor"] is None, every
    whole = (await client.get(path, params={"limit": len(ids)}, headers=headers)).json()
    assert [item["link_id"] for item in whole["items"]] == ids
    assert whole["next_cursor"] is None
    first = (await client.get(path, params={"limit": len(ids) - 1}, headers=headers)).json()
    assert first["next_cursor"] is not None
    rest = await client.get(path, params={"cursor": first["next_cursor"]}, headers=headers)
    assert [item["link_id"] for item in first["items"] + rest.json()["items"]] == ids
    assert rest.json()["next_cursor"] is None


async def test_a_probability_band_upside_down_is_refused_naming_it(
    client: httpx.AsyncClient, world: World
) -> None:
    _pipeline, _registrations, run_id, headers = await _linked_run(client, world)
    response = await client.get(
        f"/v1/reconciliations/{run_id}/links",
        params={"min_probability": 0.9, "max_probability": 0.1},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["invalid_params"][0]["name"] == "min_probability"
