"""Triage of a run's links by a record's status, through HTTP: a reviewer reads the detained
people first, only by statuses its agreements show, page by page."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import World
from tests.integration.test_reconciliation_report import three_lists_with_a_detention
from tests.integration.test_reconciliations import (
    DETENTION_FIELDS,
    LATE_ROW,
    UNHCR_CSV,
    _links,
    _run,
)

# UNHCR's registrations with a status of UNHCR's own, and R4 registered: U4 is the left record
# of its link to Pakistan's G4 and the right one of its link to the pipeline's R4
_HEADER, *_ROWS = UNHCR_CSV.splitlines()
REGISTERED = "".join(
    f"{row},{status}\n"
    for row, status in [
        (f"{_HEADER}", "status"),
        *((r, "") for r in _ROWS),
        (LATE_ROW.strip(), "registered"),
    ]
)


def _with_status(links: list[dict[str, Any]], status: str) -> set[str]:
    return {
        link["link_id"]
        for link in links
        if status in (link["left"].get("status"), link["right"].get("status"))
    }


async def _paged(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str, **query: Any
) -> list[dict[str, Any]]:
    """Every link under `query`, read one per page by the cursor (a cursor that never ends fails
    rather than loops)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {**query, "limit": 1}
    for _ in range(500):
        page = await client.get(
            f"/v1/reconciliations/{run_id}/links", params=params, headers=headers
        )
        assert page.status_code == 200, page.text
        body = page.json()
        found += body["items"]
        if not body["next_cursor"]:
            return found
        params["cursor"] = body["next_cursor"]
    raise AssertionError("the cursor never ended")


async def test_a_reviewer_reads_the_links_of_detained_people_first(
    client: httpx.AsyncClient, world: World
) -> None:
    run_id, headers, _ = await three_lists_with_a_detention(
        client, world, DETENTION_FIELDS, REGISTERED
    )
    every = await _links(client, headers, run_id, limit=200)
    assert len(every) < 200  # all of them
    detained = _with_status(every, "detained")
    assert detained, "R4's detention record G4 is linked"
    registered = [link for link in every if link["link_id"] in _with_status(every, "registered")]
    assert {(link["left"]["record_id"], link["right"]["record_id"]) for link in registered} >= {
        ("U4", "G4"),
        ("R4", "U4"),
    }  # a status on either side of a link
    for status in ("detained", "registered", "documented"):
        filtered = await _paged(client, headers, run_id, status=status)
        assert [link["link_id"] for link in filtered] == [
            link["link_id"] for link in every if link["link_id"] in _with_status(every, status)
        ], status  # the same links, in the same order, each once
    for decision in ("accepted", "review"):
        both = await _links(client, headers, run_id, status="detained", decision=decision)
        assert {link["link_id"] for link in both} == {
            link["link_id"] for link in every if link["decision"] == decision
        } & detained
    assert await _links(client, headers, run_id, status="deported") == []


async def test_a_status_the_caller_may_not_see_is_never_matched(
    client: httpx.AsyncClient, world: World
) -> None:
    without_status = tuple(field for field in DETENTION_FIELDS if field != "status")
    run_id, headers, lists = await three_lists_with_a_detention(client, world, without_status)
    every = await _links(client, headers, run_id, limit=200)
    assert any(link["right"]["record_id"] == "G4" for link in every)  # linked, status unseen
    assert await _links(client, headers, run_id, status="detained") == []

    # a run of lists none of which shows UNHCR a status: the filter is refused, naming it
    pipeline, _, detentions = lists
    other_run, _ = await _run(client, world, [pipeline, detentions])
    refused = await client.get(
        f"/v1/reconciliations/{other_run}/links", params={"status": "detained"}, headers=headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [p["name"] for p in refused.json()["invalid_params"]] == ["status"]


async def test_every_decision_pages_in_one_order(client: httpx.AsyncClient, world: World) -> None:
    run_id, headers, _ = await three_lists_with_a_detention(
        client, world, DETENTION_FIELDS, REGISTERED
    )
    first, *_, last = await _links(client, headers, run_id, limit=200)
    for link, decision in ((first, "confirm"), (last, "reject")):
        decided = await client.post(
            f"/v1/links/{link['link_id']}/decisions",
            json={"decision": decision, "note": "checked"},
            headers=headers,
        )
        assert decided.status_code == 200, decided.text
    each = [
        link
        for decision in ("accepted", "review", "confirmed", "rejected")
        for link in await _links(client, headers, run_id, decision=decision, limit=200)
    ]
    assert {link["decision"] for link in each} >= {"accepted", "confirmed", "rejected"}
    expected = sorted(each, key=lambda link: (-link["probability"], link["link_id"]))
    paged = await _paged(client, headers, run_id)
    assert [link["link_id"] for link in paged] == [link["link_id"] for link in expected]
