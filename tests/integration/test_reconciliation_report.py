"""The report an official reads, through HTTP: it names the run's lists, counts what was
decided about the links as it stands now, and counts the statuses Pakistan records of the people
found only where the caller's agreement shows `status`; it names no person and no record."""

from __future__ import annotations

import httpx

from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.integration.test_reconciliations import (
    DETENTION_FIELDS,
    GOP_HEADER,
    UNHCR_CSV,
    _detention_list,
    _import,
    _links,
    _run,
    _unhcr_list,
)

# R4 (Yusuf son of Syed Ahmad, ACC card), detained
DETAINED_R4 = GOP_HEADER + "G4,Yusuf,Syed Ahmad,1979,M,acc:ACC-0099-1122,detained\n"


async def three_lists_with_a_detention(
    client: httpx.AsyncClient,
    world: World,
    detention_fields: tuple[str, ...],
    registrations_csv: str = UNHCR_CSV,
) -> tuple[str, dict[str, str], list[str]]:
    """UNHCR's run of the pipeline, its registrations and Pakistan's status list shared with
    `detention_fields` (150 documented strangers and R4 detained): the run, UNHCR's headers and
    the three lists."""
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, registrations_csv)
    detentions = await _detention_list(client, world, detention_fields)
    gop = await world.headers("gop", purpose="protection-verification")
    await _import(client, world, detentions, DETAINED_R4, gop)
    lists = [pipeline, registrations, detentions]
    return (*await _run(client, world, lists), lists)


async def _report_of_three_lists(
    client: httpx.AsyncClient, world: World, detention_fields: tuple[str, ...]
) -> tuple[str, str, list[dict[str, object]], dict[str, str]]:
    """(the report, its run, the run's links, UNHCR's headers)."""
    run_id, headers, _ = await three_lists_with_a_detention(client, world, detention_fields)
    report = await client.get(f"/v1/reconciliations/{run_id}/report", headers=headers)
    assert report.status_code == 200, report.text
    assert report.headers["content-type"].startswith("text/html")
    return report.text, run_id, await _links(client, headers, run_id), headers


async def test_the_report_names_the_lists_and_counts_the_statuses_of_the_people_found(
    client: httpx.AsyncClient, world: World
) -> None:
    text, run_id, links, headers = await _report_of_three_lists(client, world, DETENTION_FIELDS)
    assert f"detentions (status, {world.gop})" in text
    assert f"registrations (registration, {world.unhcr})" in text
    assert "Status of the people found" in text
    # G4 is detained and linked (to R4); the 150 other detention records are documented
    assert "<td>detained</td><td class=n>1</td><td class=n>1</td>" in text
    assert "<td>documented</td><td class=n>150</td>" in text
    accepted = sum(1 for link in links if link["decision"] == "accepted")
    assert f"<td>accepted automatically</td><td class=n>{accepted}</td>" in text
    for leaked in ("Yusuf", "Mohammad", "G4", "R4", "ACC-0099"):
        assert leaked not in text

    # a person's rejection shows at once
    first = links[0]
    decided = await client.post(
        f"/v1/links/{first['link_id']}/decisions",
        json={"decision": "reject", "note": "not him"},
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    again = await client.get(f"/v1/reconciliations/{run_id}/report", headers=headers)
    assert "<td>rejected by a person</td><td class=n>1</td>" in again.text


async def test_the_report_counts_no_status_the_caller_may_not_see(
    client: httpx.AsyncClient, world: World
) -> None:
    without_status = tuple(f for f in DETENTION_FIELDS if f != "status")
    text, *_ = await _report_of_three_lists(client, world, without_status)
    assert "Status of the people found" not in text
    assert "detained" not in text


async def test_another_agency_gets_no_report(client: httpx.AsyncClient, world: World) -> None:
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV)
    run_id, _ = await _run(client, world, [pipeline, registrations])
    for kind in ("gop", "us_mission"):
        other = await world.headers(kind, purpose="reconciliation")
        refused = await client.get(f"/v1/reconciliations/{run_id}/report", headers=other)
        assert refused.status_code == 404, (kind, refused.text)
