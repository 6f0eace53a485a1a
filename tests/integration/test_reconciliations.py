"""Reconciliation through HTTP: a run over the US pipeline list and UNHCR's registration list
(and Pakistan's status list), its links with evidence cut to UNHCR's agreement and disclosed to
the audit, decisions that hold in later runs, discrepancies, the report, incremental linking
with the run's u, a link implied through the third list, and refusals."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconcile import jobs, relinking, repository, scoring, worker
from reconcile.gaps import GAPS
from reconcile.run_records import held_key
from tests.conftest import World
from tests.helpers import UNHCR_FIELDS, agreement_body, shared_pipeline

# UNHCR's own registrations of three pipeline members, spelt its way (and one stranger).
UNHCR_CSV = """record_id,given_name,family_name,father_name,dob,dob_calendar,sex,documents,group_id
U1,Mohammad Nabi,Ahmadzay,Abdul Ghafur,1984-03-21,,M,por:PK-0012-3456789,PSH-1
U2,Freshta,Ahmadzai,Gul Mohammad,1988-01-01,,F,,PSH-1
U3,Abdulrahman,Stanikzai,Nur Ullah,1362,solar_hijri,M,unhcr:123-45C67890,PSH-2
U9,Zarghuna,Barakzai,Sher Ali,1999-07-07,,F,,PSH-9
"""
LATE_ROW = "U4,Yusuf,Hotak,Syed Ahmad,1979,,M,acc:ACC-0099-1122,PSH-3\n"
# R2 again, weaker than U2 (no household shared with R1's record): left unlinked while U2 stands
SECOND_R2_ROW = "U7,Freshta,Ahmadzai,Gul Mohammad,1988,,F,,PSH-7\n"
# R2's own passport: a stronger record of R2 than U2, which the run linked to her
STRONGER_ROW = "U5,Freshta,Ahmadzai,Gul Mohammad,1988,,F,passport:P01234568,PSH-1\n"
RECONCILE = "reconciliation"
_FATHERS = ("Sher Ali", "Mir Hamza", "Abdul Wali", "Habibullah", "Sayed Jamal")


def _strangers(row: Callable[[int, str, str], str], given_names: tuple[str, ...]) -> str:
    """150 CSV rows of people outside the pipeline: `row` of the i-th, given and father's name."""
    people = [(g, f) for g in given_names for f in _FATHERS for _ in range(5)]
    return "".join(row(i, g, f) for i, (g, f) in enumerate(people))


# 150 registrations of strangers to the pipeline
_FILLER_ROWS = _strangers(
    lambda i, g, f: f"UF{i},{g},,{f},{1950 + i % 40}-0{1 + i % 9}-1{i % 10},,F,,PSH-F{i}\n",
    ("Zarghuna", "Mursal", "Parwana", "Shabana", "Nazia", "Gulalai"),
)


async def _unhcr_list(client: httpx.AsyncClient, world: World, csv_text: str) -> str:
    headers = await world.headers("unhcr", purpose=RECONCILE)
    made = await client.post(
        "/v1/lists", json={"name": "registrations", "kind": "registration"}, headers=headers
    )
    assert made.status_code == 201, made.text
    list_id: str = made.json()["id"]
    await _import(client, world, list_id, csv_text)
    return list_id


async def _import(
    client: httpx.AsyncClient,
    world: World,
    list_id: str,
    csv_text: str,
    headers: dict[str, str] | None = None,
) -> None:
    """An import into the list, by UNHCR unless `headers` say who."""
    headers = headers or await world.headers("unhcr", purpose=RECONCILE)
    imported = await client.post(
        f"/v1/lists/{list_id}/imports",
        content=csv_text.encode(),
        headers={**headers, "Content-Type": "text/csv", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert imported.status_code == 201, imported.text


async def _completed(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str
) -> dict[str, Any]:
    for _ in range(200):
        response = await client.get(f"/v1/reconciliations/{run_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed"):
            assert body["status"] == "completed", body
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("reconciliation did not finish")


async def _run(
    client: httpx.AsyncClient, world: World, list_ids: list[str]
) -> tuple[str, dict[str, str]]:
    headers = await world.headers("unhcr", purpose=RECONCILE)
    started = await client.post("/v1/reconciliations", json={"list_ids": list_ids}, headers=headers)
    assert started.status_code == 202, started.text
    run_id: str = started.json()["id"]
    await _completed(client, headers, run_id)
    return run_id, headers


async def _linked_run(
    client: httpx.AsyncClient, world: World
) -> tuple[str, str, str, dict[str, str]]:
    """The shared pipeline list and UNHCR's registrations, reconciled: both list ids, the run's
    id and UNHCR's headers."""
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV)
    run_id, headers = await _run(client, world, [pipeline, registrations])
    return pipeline, registrations, run_id, headers


async def _links(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str, **query: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/reconciliations/{run_id}/links", params=query, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _pairs(links: list[dict[str, Any]]) -> dict[str, str]:
    return {link["left"]["record_id"]: link["right"]["record_id"] for link in links}


async def test_a_run_links_explains_and_shows_only_agreed_fields(
    client: httpx.AsyncClient, world: World
) -> None:
    pipeline, registrations, run_id, headers = await _linked_run(client, world)
    status = (await client.get(f"/v1/reconciliations/{run_id}", headers=headers)).json()
    assert status["counts"]["linked"] >= 3
    # what UNHCR's records lack: U2 and U9 a card, U2 (1 January) and U3 (a year) the day;
    # U9, a stranger, stays unlinked
    gaps = status["counts"]["missing_fields"]
    assert gaps[registrations]["document"] == {"records": 2, "unmatched": 1}
    assert gaps[registrations]["birth_date_to_the_day"] == {"records": 2, "unmatched": 0}
    assert gaps[registrations]["father_name"] == {"records": 0, "unmatched": 0}
    assert set(gaps[pipeline]) == set(GAPS)  # every field it reads is in UNHCR's agreement
    links = await _links(client, headers, run_id)
    assert {"R1": "U1", "R2": "U2", "R3": "U3"}.items() <= _pairs(links).items()
    allowed = set(UNHCR_FIELDS) | {"record_id", "list_id"}
    for link in links:
        assert set(link["left"]) <= allowed, set(link["left"]) - allowed
        assert link["reason"] and link["evidence"]
        assert {e["field"] for e in link["evidence"]} <= {
            "given",
            "family",
            "father",
            "dob",
            "documents",
            "family_context",
            "competition",
        }
    r1 = next(link for link in links if link["left"]["record_id"] == "R1")
    assert "PoR number agrees" in r1["reason"]
    for word in ("SIV", "interview", "+92300", "contractor"):
        assert word not in str(links)
    # every record shown was disclosed
    audit = await world.headers("unhcr", purpose="audit")
    seen = await client.get(
        "/v1/audit/disclosures", params={"list_id": pipeline, "record_id": "R1"}, headers=audit
    )
    assert seen.status_code == 200, seen.text
    assert any(item.get("recipient_agency_id") == world.unhcr for item in seen.json()["items"])


async def test_decisions_hold_in_later_runs_and_filters_work(
    client: httpx.AsyncClient, world: World
) -> None:
    pipeline, registrations, run_id, headers = await _linked_run(client, world)
    links = await _links(client, headers, run_id)
    r2 = next(link for link in links if link["left"]["record_id"] == "R2")
    decided = await client.post(
        f"/v1/links/{r2['link_id']}/decisions",
        json={"decision": "reject", "note": "different mother"},
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "rejected"
    assert [x["link_id"] for x in await _links(client, headers, run_id, decision="rejected")] == [
        r2["link_id"]
    ]
    assert all(
        x["probability"] >= 0.5 for x in await _links(client, headers, run_id, min_probability=0.5)
    )
    again, _ = await _run(client, world, [pipeline, registrations])
    assert "R2" not in _pairs(await _links(client, headers, again))
    report = await client.get(f"/v1/reconciliations/{again}/report", headers=headers)
    assert report.status_code == 200 and "<svg" in report.text
    assert "Records lacking what finds a person" in report.text
    assert "Mohammad" not in report.text


def _pause_runs(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Runs from now on wait, having read their lists and decisions, until the second event
    is set; the first is set once one waits."""
    linking, go_on = threading.Event(), threading.Event()
    link = jobs.reconcile_lists

    def paused(*args: Any) -> Any:
        linking.set()
        go_on.wait(30)
        return link(*args)

    monkeypatch.setattr(jobs, "reconcile_lists", paused)
    return linking, go_on


async def _reject_r2(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str
) -> dict[str, Any]:
    """Reject R2's link in the run; returns the link as it was."""
    r2 = next(x for x in await _links(client, headers, run_id) if x["left"]["record_id"] == "R2")
    decided = await client.post(
        f"/v1/links/{r2['link_id']}/decisions", json={"decision": "reject"}, headers=headers
    )
    assert decided.status_code == 200, decided.text
    return r2


def _decision_of(links: list[dict[str, Any]], left: str) -> str:
    return str(next(x["decision"] for x in links if x["left"]["record_id"] == left))


async def test_a_decision_on_an_earlier_run_s_link_holds_in_the_runs_after_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """A reviewer working from the queue of yesterday's run decides a pair that today's run has
    already linked: the decision holds in today's run too."""
    pipeline, registrations, earlier, headers = await _linked_run(client, world)
    later, _ = await _run(client, world, [pipeline, registrations])
    assert _decision_of(await _links(client, headers, later), "R2") == "accepted"
    await _reject_r2(client, headers, earlier)
    assert _decision_of(await _links(client, headers, later), "R2") == "rejected"
    counts = (await client.get(f"/v1/reconciliations/{later}", headers=headers)).json()["counts"]
    assert counts["rejected"] == 1


async def test_a_decision_made_while_a_run_links_holds_in_that_run(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run read the decisions before the reviewer made this one; it is applied to the run's
    links as they are stored."""
    pipeline, registrations, earlier, headers = await _linked_run(client, world)
    linking, go_on = _pause_runs(monkeypatch)
    started = await client.post(
        "/v1/reconciliations", json={"list_ids": [pipeline, registrations]}, headers=headers
    )
    assert started.status_code == 202, started.text
    assert await asyncio.to_thread(linking.wait, 30)
    await _reject_r2(client, headers, earlier)
    go_on.set()
    later = started.json()["id"]
    await _completed(client, headers, later)
    assert _decision_of(await _links(client, headers, later), "R2") == "rejected"


class _EventRecorder:
    """A logger that keeps the names of the events logged through it."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def _record(self, event: str, **_: Any) -> None:
        self.events.append(event)

    info = error = warning = _record


async def test_a_decision_made_while_a_change_is_relinked_holds_without_an_error(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """U2 is corrected; while the worker relinks it to R2 (with the decisions it read before),
    a reviewer rejects R2 ~ U2. Storing the relinked pair beside the rejected link broke the
    run's unique pair; the worker now relinks the change again with the decision."""
    _pipeline, registrations, run_id, headers = await _linked_run(client, world)
    relinking, go_on = asyncio.Event(), asyncio.Event()
    relink = worker.relink_changed

    async def paused(*args: Any) -> Any:
        relinking.set()
        await go_on.wait()
        return await relink(*args)

    monkeypatch.setattr(worker, "relink_changed", paused)
    events: list[str] = []
    # the worker's own logger, cached at first use: capture_logs cannot reach it
    monkeypatch.setattr(worker, "log", _EventRecorder(events))
    await _corrected(client, world, registrations, "U2", {"district": "Mardan"}, "unhcr")
    await asyncio.wait_for(relinking.wait(), 30)
    rejected = await _reject_r2(client, headers, run_id)
    go_on.set()
    for _ in range(100):
        if "incremental_links" in events:
            break
        await asyncio.sleep(0.05)
    assert "incremental_decided_meanwhile" in events and "incremental_links" in events
    assert "incremental_linking_failed" not in events
    r2 = [x for x in await _links(client, headers, run_id) if x["left"]["record_id"] == "R2"]
    assert [(x["link_id"], x["decision"]) for x in r2] == [(rejected["link_id"], "rejected")]


async def _wait_for_event(events: list[str], name: str, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if name in events:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_run_is_kept_up_to_date_only_while_its_lists_are_shared_as_it_read_them(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch, app: FastAPI
) -> None:
    """UNHCR's run read the pipeline list under an agreement; once that ends, or a narrower one
    replaces it, the worker stops linking the pipeline's changes into the run (it would process
    what UNHCR may no longer read) and lets go of the list as it held it; an agreement as wide
    as the first resumes it."""
    pipeline, _registrations, run_id, _headers = await _linked_run(client, world)
    linker: worker.IncrementalLinker = app.state.services.incremental_linker
    async with app.state.services.sessions() as session:
        run = await repository.get_run(session, run_id)
    assert run is not None
    held_pipeline = held_key(run, pipeline)
    for _ in range(100):  # held ahead of any change
        if held_pipeline in linker._held:
            break
        await asyncio.sleep(0.05)
    assert held_pipeline in linker._held
    events: list[str] = []
    monkeypatch.setattr(worker, "log", _EventRecorder(events))
    us = await world.headers("us_mission")
    listed = await client.get("/v1/agreements", params={"list_id": pipeline}, headers=us)
    [to_unhcr] = [a for a in listed.json()["items"] if a["recipient_agency_id"] == world.unhcr]
    ended = await client.post(f"/v1/agreements/{to_unhcr['id']}/termination", headers=us)
    assert ended.status_code == 200, ended.text
    await _corrected(client, world, pipeline, "R3", {"district": "Mardan"})
    assert await _wait_for_event(events, "incremental_run_not_shared")
    assert held_pipeline not in linker._held
    narrower = [name for name in UNHCR_FIELDS if name != "dob"]
    for fields in (narrower, UNHCR_FIELDS):
        body = agreement_body(pipeline, world.unhcr, fields, [RECONCILE])
        assert (await client.post("/v1/agreements", json=body, headers=us)).status_code == 201
        if fields == narrower:
            await asyncio.sleep(1.5)
            assert "incremental_links" not in events
    assert await _wait_for_event(events, "incremental_links")


async def test_discrepancies_and_incremental_linking(
    client: httpx.AsyncClient, world: World
) -> None:
    _pipeline, registrations, run_id, headers = await _linked_run(client, world)
    found = await client.get(f"/v1/reconciliations/{run_id}/discrepancies", headers=headers)
    assert found.status_code == 200, found.text
    r1 = [d for d in found.json()["items"] if d["left"]["record_id"] == "R1"]
    assert r1 and "dob" in r1[0]["kinds"]  # 1984-03-12 against 1984-03-21
    await _import(client, world, registrations, UNHCR_CSV.splitlines()[0] + "\n" + LATE_ROW)
    for _ in range(100):
        late = [x for x in await _links(client, headers, run_id) if x["right"]["record_id"] == "U4"]
        if late:
            break
        await asyncio.sleep(0.1)
    assert late and late[0]["left"]["record_id"] == "R4" and late[0]["incremental"]


def _spy_on_whole_lists(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the lists read whole from now on, in order."""
    whole_lists_read: list[str] = []
    chunks = repository.active_record_chunks

    def spy(session: Any, list_id: str) -> AsyncIterator[list[dict[str, Any]]]:
        whole_lists_read.append(list_id)
        return chunks(session, list_id)

    monkeypatch.setattr(repository, "active_record_chunks", spy)
    return whole_lists_read


async def test_a_later_stronger_record_displaces_an_undecided_link(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what linking reads, without the lists the worker holds ahead of any change
    monkeypatch.setattr(worker.IncrementalLinker, "hold_ahead", False)
    pipeline, registrations, run_id, headers = await _linked_run(client, world)
    assert _pairs(await _links(client, headers, run_id))["R2"] == "U2"
    whole_lists_read = _spy_on_whole_lists(monkeypatch)
    await _import(client, world, registrations, UNHCR_CSV.splitlines()[0] + "\n" + STRONGER_ROW)
    for _ in range(100):
        pairs = _pairs(await _links(client, headers, run_id))
        if pairs.get("R2") == "U5":
            break
        await asyncio.sleep(0.1)
    links = await _links(client, headers, run_id)
    partners = [link["right"]["record_id"] for link in links if link["left"]["record_id"] == "R2"]
    assert partners == ["U5"], partners  # one link, the displaced one is gone
    # both whole lists are linked around the new record: each read once, then held
    assert sorted(whole_lists_read) == sorted([pipeline, registrations])


async def test_a_confirmed_link_of_a_corrected_record_stays_single(
    client: httpx.AsyncClient, world: World
) -> None:
    pipeline, registrations, run_id, headers = await _linked_run(client, world)
    r1 = next(x for x in await _links(client, headers, run_id) if x["left"]["record_id"] == "R1")
    confirmed = await client.post(
        f"/v1/links/{r1['link_id']}/decisions", json={"decision": "confirm"}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    us = await world.headers("us_mission")
    corrected = await client.patch(
        f"/v1/lists/{pipeline}/records/R1",
        json={"dob": "1984-03-21"},
        headers={**us, "If-Match": '"v1"'},
    )
    assert corrected.status_code == 200, corrected.text
    # a later record: once it is linked, the correction before it has been relinked too
    await _import(client, world, registrations, UNHCR_CSV.splitlines()[0] + "\n" + LATE_ROW)
    for _ in range(100):
        links = await _links(client, headers, run_id)
        if any(x["right"]["record_id"] == "U4" for x in links):
            break
        await asyncio.sleep(0.1)
    # storing the confirmed pair twice broke a unique constraint and stalled the worker
    assert any(x["right"]["record_id"] == "U4" for x in links), "the worker is stuck"
    mine = [x for x in links if x["left"]["record_id"] == "R1"]
    assert [(x["right"]["record_id"], x["decision"]) for x in mine] == [("U1", "confirmed")]


async def _corrected(
    client: httpx.AsyncClient,
    world: World,
    list_id: str,
    key: str,
    change: dict[str, str],
    agency: str = "us_mission",
) -> None:
    purpose = RECONCILE if agency == "unhcr" else "resettlement-processing"
    owner = await world.headers(agency, purpose=purpose)
    corrected = await client.patch(
        f"/v1/lists/{list_id}/records/{key}", json=change, headers={**owner, "If-Match": '"v1"'}
    )
    assert corrected.status_code == 200, corrected.text


async def _relinked(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str, key: str, before: set[str]
) -> dict[str, Any] | None:
    """The pipeline record's link once it is not one of `before` (the worker relinked it)."""
    for _ in range(100):
        mine = [x for x in await _links(client, headers, run_id) if x["left"]["record_id"] == key]
        if mine and mine[0]["link_id"] not in before:
            return mine[0]
        await asyncio.sleep(0.1)
    return None


async def test_a_held_list_follows_records_added_after_it_was_read(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole_lists_read = _spy_on_whole_lists(monkeypatch)
    pipeline, registrations, run_id, headers = await _linked_run(client, world)
    # each read by the run, then held by the worker ahead of any change that needs it
    for _ in range(100):
        if whole_lists_read.count(registrations) == whole_lists_read.count(pipeline) == 2:
            break
        await asyncio.sleep(0.05)
    assert whole_lists_read.count(registrations) == whole_lists_read.count(pipeline) == 2
    ids = {x["link_id"] for x in await _links(client, headers, run_id)}
    # a corrected pipeline record is compared with UNHCR's whole list, which is then held
    await _corrected(client, world, pipeline, "R3", {"district": "Mardan"})
    r3 = await _relinked(client, headers, run_id, "R3", ids)
    assert r3 is not None and r3["right"]["record_id"] == "U3"
    await _import(client, world, registrations, UNHCR_CSV.splitlines()[0] + "\n" + LATE_ROW)
    u4 = await _relinked(client, headers, run_id, "R4", ids)
    assert u4 is not None and u4["right"]["record_id"] == "U4"
    # R4's correction is compared with the held list, which must hold U4 by now
    await _corrected(client, world, pipeline, "R4", {"district": "Hyderabad"})
    r4 = await _relinked(client, headers, run_id, "R4", {u4["link_id"]})
    assert r4 is not None and r4["right"]["record_id"] == "U4"
    # held, then brought up to date
    assert whole_lists_read.count(registrations) == whole_lists_read.count(pipeline) == 2


async def test_a_withdrawn_record_loses_its_undecided_links_and_frees_its_partner(
    client: httpx.AsyncClient, world: World
) -> None:
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV + SECOND_R2_ROW)
    run_id, headers = await _run(client, world, [pipeline, registrations])
    assert _pairs(await _links(client, headers, run_id))["R2"] == "U2"
    unhcr = await world.headers("unhcr", purpose=RECONCILE)
    withdrawn = await client.post(
        f"/v1/lists/{registrations}/records/U2/withdrawal",
        json={"reason": "duplicate"},
        headers=unhcr,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    for _ in range(100):
        pairs = _pairs(await _links(client, headers, run_id))
        if pairs.get("R2") == "U7":
            break
        await asyncio.sleep(0.1)
    # U2's link is gone, and R2, free again, is linked to its other registration
    assert pairs.get("R2") == "U7" and pairs["R1"] == "U1"


async def test_a_record_added_while_a_run_links_is_linked_after_it(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV)
    linking, go_on = _pause_runs(monkeypatch)
    headers = await world.headers("unhcr", purpose=RECONCILE)
    started = await client.post(
        "/v1/reconciliations", json={"list_ids": [pipeline, registrations]}, headers=headers
    )
    assert started.status_code == 202, started.text
    assert await asyncio.to_thread(linking.wait, 30)
    # the run has read the lists; U4 arrives while it links them
    await _import(client, world, registrations, UNHCR_CSV.splitlines()[0] + "\n" + LATE_ROW)
    go_on.set()
    run_id = started.json()["id"]
    await _completed(client, headers, run_id)
    r4 = await _relinked(client, headers, run_id, "R4", set())
    assert r4 is not None and r4["right"]["record_id"] == "U4" and r4["incremental"]


async def test_a_change_is_stored_by_one_worker_process_only(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    _pipeline, registrations, run_id, headers = await _linked_run(client, world)
    sessions = app.state.services.sessions
    async with sessions() as session:
        before = await repository.get_run(session, run_id)
    assert before is not None and before.feed_seq is not None
    await _import(client, world, registrations, UNHCR_CSV.splitlines()[0] + "\n" + LATE_ROW)
    u4 = await _relinked(client, headers, run_id, "R4", set())  # the app's worker stored it
    assert u4 is not None and u4["right"]["record_id"] == "U4"
    async with sessions() as session:
        after = await repository.get_run(session, run_id)
    assert after is not None and after.feed_seq is not None and after.feed_seq > before.feed_seq
    # another worker process that read the same change before the first one stored it
    other = worker.IncrementalLinker(sessions)
    changed, head = await other._changed(before)
    assert [row["record_key"] for row in changed] == ["U4"]
    assert not await other._apply(before, changed, (before.feed_seq, head))
    links = await _links(client, headers, run_id)
    assert [x["link_id"] for x in links if x["right"]["record_id"] == "U4"] == [u4["link_id"]]


async def test_a_record_that_cannot_be_linked_does_not_hold_up_the_others(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pipeline, registrations, run_id, headers = await _linked_run(client, world)
    relink = worker.relink_changed

    async def poisoned(run: Any, records: Any, changed: list[dict[str, Any]], *rest: Any) -> Any:
        if any(row["record_key"] == "U6" for row in changed):
            raise RuntimeError("cannot link this record")
        return await relink(run, records, changed, *rest)

    monkeypatch.setattr(worker, "relink_changed", poisoned)
    poison = "U6,Wazhma,Sadat,Rahmatullah,1990,,F,,PSH-6\n"
    strangers = (
        "U10,Palwasha,Nuristani,Rahim,1995,,F,,PSH-10\nU11,Jawid,Sadat,Karim,1970,,M,,PSH-11\n"
    )
    await _import(
        client,
        world,
        registrations,
        UNHCR_CSV.splitlines()[0] + "\n" + LATE_ROW + poison + strangers,
    )
    for _ in range(300):  # three failed polls a second apart, then in halves
        status = (await client.get(f"/v1/reconciliations/{run_id}", headers=headers)).json()
        if status["counts"].get("incremental_failed"):
            break
        await asyncio.sleep(0.1)
    assert status["counts"]["incremental_failed"] == 1
    links = await _links(client, headers, run_id)
    assert any(x["right"]["record_id"] == "U4" for x in links)  # linked despite U6


async def test_refusals(client: httpx.AsyncClient, world: World) -> None:
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV)
    gop = await world.headers("gop", purpose=RECONCILE)
    # Pakistan's agreement on the pipeline list allows protection-verification only
    refused = await client.post(
        "/v1/reconciliations", json={"list_ids": [pipeline, registrations]}, headers=gop
    )
    assert refused.status_code in (403, 404), refused.text
    unhcr = await world.headers("unhcr", purpose="protection-verification")
    wrong_purpose = await client.post(
        "/v1/reconciliations", json={"list_ids": [pipeline, registrations]}, headers=unhcr
    )
    assert wrong_purpose.status_code == 403
    run_id, _ = await _run(client, world, [pipeline, registrations])
    other = await world.headers("us_mission", purpose=RECONCILE)
    assert (await client.get(f"/v1/reconciliations/{run_id}", headers=other)).status_code == 404
    no_review = await world.headers("unhcr", purpose=RECONCILE, scopes=["reconcile:run"])
    links = await _links(client, no_review, run_id)
    denied = await client.post(
        f"/v1/links/{links[0]['link_id']}/decisions",
        json={"decision": "confirm"},
        headers=no_review,
    )
    assert denied.status_code == 403
    same = await client.post(
        "/v1/reconciliations",
        json={"list_ids": [pipeline, pipeline]},
        headers=await world.headers("unhcr", purpose=RECONCILE),
    )
    assert same.status_code == 422


async def _u_of_first_relinking(
    client: httpx.AsyncClient,
    world: World,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    late_rows: str,
) -> tuple[Any, dict[str, Any] | None]:
    """The u the worker gave its first relinking of registrations added after a run (over 150
    more than UNHCR_CSV's), and the u the run stored for that pair."""
    given: list[Any] = []
    relink = relinking.relink_right

    def spy(context: Any, *rest: Any) -> Any:
        given.append(context.u)
        return relink(context, *rest)

    monkeypatch.setattr(relinking, "relink_right", spy)
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV + _FILLER_ROWS)
    run_id, headers = await _run(client, world, [pipeline, registrations])
    async with app.state.services.sessions() as session:
        stored = await repository.pair_u(session, run_id)
    assert isinstance(stored, dict) and isinstance(stored["read_at"], int)
    assert set(stored["pairs"]) == {pipeline}
    run_u = scoring.u_from_json(stored["pairs"][pipeline][registrations])
    assert run_u is not None
    await _import(client, world, registrations, UNHCR_CSV.splitlines()[0] + "\n" + late_rows)
    u4 = await _relinked(client, headers, run_id, "R4", set())
    assert u4 is not None and given, "the late record was not relinked"
    return given[0], {name: u.tolist() for name, u in run_u.items()}


async def test_the_worker_weighs_a_change_with_the_u_the_run_linked_with(
    client: httpx.AsyncClient, world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    used, run_u = await _u_of_first_relinking(client, world, app, monkeypatch, LATE_ROW)
    # the run's own draw, not one taken again after the change reordered the held lists
    assert used is not None and {name: u.tolist() for name, u in used.items()} == run_u


async def test_a_run_s_u_is_not_used_once_its_lists_changed_by_more_than_1_percent(
    client: httpx.AsyncClient, world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two new records in 156: counted from when the run read the list, however it was held
    late = LATE_ROW + "U8,Mursal,Hotak,Sher Ali,1990,,F,,PSH-8\n"
    used, _ = await _u_of_first_relinking(client, world, app, monkeypatch, late)
    assert used is None


GOP_HEADER = "record_id,given_name,father_name,dob,sex,documents,status\n"
# Pakistan's records of 150 people outside the pipeline
_GOP_FILLER = _strangers(
    lambda i, g, f: f"GF{i},{g},{f},{1950 + i % 40},M,,documented\n",
    ("Obaidullah", "Nasir", "Hamidullah", "Wahidullah", "Zabihullah", "Rahmatullah"),
)


DETENTION_FIELDS = ("given_name", "father_name", "dob", "sex", "documents", "status")


async def _detention_list(
    client: httpx.AsyncClient, world: World, fields: tuple[str, ...] = DETENTION_FIELDS
) -> str:
    """Pakistan's status list, shared with UNHCR for reconciliation (these fields)."""
    gop = await world.headers("gop", purpose="protection-verification")
    made = await client.post(
        "/v1/lists", json={"name": "detentions", "kind": "status"}, headers=gop
    )
    assert made.status_code == 201, made.text
    list_id: str = made.json()["id"]
    await _import(client, world, list_id, GOP_HEADER + _GOP_FILLER, gop)
    shared = await client.post(
        "/v1/agreements",
        json=agreement_body(list_id, world.unhcr, list(fields), [RECONCILE]),
        headers=gop,
    )
    assert shared.status_code == 201, shared.text
    return list_id


async def test_a_three_list_run_links_a_late_record_in_both_its_pairs_with_the_run_s_u(
    client: httpx.AsyncClient, world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[tuple[tuple[str, str], Any]] = []
    relink = relinking.relink_right

    def spy(context: Any, *rest: Any) -> Any:
        given.append((context.lists, context.u))
        return relink(context, *rest)

    monkeypatch.setattr(relinking, "relink_right", spy)
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV)
    detentions = await _detention_list(client, world)
    run_id, headers = await _run(client, world, [pipeline, registrations, detentions])
    async with app.state.services.sessions() as session:
        stored = await repository.pair_u(session, run_id)
    assert isinstance(stored, dict)
    assert {left: set(rights) for left, rights in stored["pairs"].items()} == {
        pipeline: {registrations, detentions},
        registrations: {detentions},
    }
    # R4 (Yusuf son of Syed Ahmad), detained after the run: linked within both pairs it is in
    late = GOP_HEADER + "G4,Yusuf,Syed Ahmad,1979,M,acc:ACC-0099-1122,detained\n"
    gop = await world.headers("gop", purpose="protection-verification")
    await _import(client, world, detentions, late, gop)
    r4 = await _relinked(client, headers, run_id, "R4", set())
    assert r4 is not None and r4["right"]["record_id"] == "G4" and r4["incremental"]
    assert {lists for lists, _ in given} == {(pipeline, detentions), (registrations, detentions)}
    for (left, right), u in given:
        run_u = scoring.u_from_json(stored["pairs"][left][right])
        assert u is not None and run_u is not None
        assert {k: v.tolist() for k, v in u.items()} == {k: v.tolist() for k, v in run_u.items()}


# UNHCR holds R2's PoR card; Pakistan's record of her carries that card and her name only in
# Arabic script, which Pakistan's agreement with UNHCR does not share: compared directly, a birth
# year and sex are all the caller sees of her
_UNHCR_WITH_R2_CARD = UNHCR_CSV.replace(
    ",1988-01-01,,F,,PSH-1", ",1988-01-01,,F,por:PK-5555-1234567,PSH-1"
)
_G2 = (
    "record_id,name_native,dob,sex,documents,status\n"
    "G2,فرشته,1988,F,por:PK-5555-1234567,documented\n"
)


def _assert_implied_r2_g2(links: list[dict[str, Any]]) -> dict[str, Any]:
    by_records = {(x["left"]["record_id"], x["right"]["record_id"]): x for x in links}
    # R2 and U2 are linked (one household), U2 and G2 (one card): R2 and G2 are one person
    assert by_records[("R2", "U2")]["decision"] == by_records[("U2", "G2")]["decision"]
    assert by_records[("U2", "G2")]["decision"] == "accepted"
    implied = by_records[("R2", "G2")]
    assert implied["decision"] == "accepted"
    assert implied["evidence"][-1]["field"] == "transitive"
    assert "third list" in implied["evidence"][-1]["phrase"]
    assert "name_native" not in implied["right"]  # cut to the view, as every link is
    return implied


async def _three_lists_of_r2(
    client: httpx.AsyncClient, world: World, with_g2: bool = True
) -> tuple[str, dict[str, str], str, str]:
    """The pipeline, UNHCR's registrations (U2 with R2's card) and Pakistan's detentions (G2
    with that card, unless not `with_g2`), reconciled: the run, UNHCR's headers, the UNHCR
    and detention lists."""
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, _UNHCR_WITH_R2_CARD)
    detentions = await _detention_list(client, world)
    if with_g2:
        gop = await world.headers("gop", purpose="protection-verification")
        await _import(client, world, detentions, _G2, gop)
    run_id, headers = await _run(client, world, [pipeline, registrations, detentions])
    return run_id, headers, registrations, detentions


@pytest.mark.parametrize("late", [False, True], ids=["in-the-run", "added-after-it"])
async def test_a_three_list_run_links_through_the_third_list_what_the_view_cannot_link(
    client: httpx.AsyncClient, world: World, late: bool
) -> None:
    """G2 before the run (the run implies R2-G2) or after it (the worker does)."""
    run_id, headers, _registrations, detentions = await _three_lists_of_r2(client, world, not late)
    if late:
        gop = await world.headers("gop", purpose="protection-verification")
        await _import(client, world, detentions, _G2, gop)
    for _ in range(150):
        links = await _links(client, headers, run_id)
        if ("R2", "G2") in {(x["left"]["record_id"], x["right"]["record_id"]) for x in links}:
            break
        await asyncio.sleep(0.1)
    assert _assert_implied_r2_g2(links)["incremental"] == late


async def test_a_link_implied_through_a_record_goes_when_that_record_no_longer_links_both(
    client: httpx.AsyncClient, world: World
) -> None:
    run_id, headers, registrations, _detentions = await _three_lists_of_r2(client, world)
    _assert_implied_r2_g2(await _links(client, headers, run_id))
    # UNHCR corrects U2: the card was another person's. U2 no longer links G2, so nothing
    # implies R2-G2 any more, and compared directly they share a birth year and sex
    unhcr = await world.headers("unhcr", purpose=RECONCILE)
    corrected = await client.patch(
        f"/v1/lists/{registrations}/records/U2",
        json={"documents": []},
        headers={**unhcr, "If-Match": '"v1"'},
    )
    assert corrected.status_code == 200, corrected.text
    for _ in range(150):
        pairs = {
            (x["left"]["record_id"], x["right"]["record_id"])
            for x in await _links(client, headers, run_id)
        }
        if ("U2", "G2") not in pairs and ("R2", "G2") not in pairs:
            break
        await asyncio.sleep(0.1)
    assert ("U2", "G2") not in pairs
    assert ("R2", "G2") not in pairs
    assert ("R2", "U2") in pairs  # one household still


# the links of the conflict over G7: each went to review for a person to decide
_HELD = (("R2", "G7"), ("R2", "U2"), ("U2", "G2"))


async def _conflict_over_g7(
    client: httpx.AsyncClient, world: World
) -> tuple[str, dict[str, str], str, str, dict[str, Any]]:
    """The three lists of R2 reconciled, then a detention record G7 with R2's passport: R2
    links it, while UNHCR's U2 links G2 by card. The run, UNHCR's headers, the UNHCR and
    detention lists, and the run's status once the worker found the conflict."""
    run_id, headers, registrations, detentions = await _three_lists_of_r2(client, world)
    assert (await client.get(f"/v1/reconciliations/{run_id}", headers=headers)).json()[
        "conflicts"
    ] == []
    late = GOP_HEADER + "G7,Freshta,Gul Mohammad,1988,F,passport:P01234568,detained\n"
    gop = await world.headers("gop", purpose="protection-verification")
    await _import(client, world, detentions, late, gop)
    status = await _status_when(client, headers, run_id, lambda s: bool(s["conflicts"]))
    return run_id, headers, registrations, detentions, status


async def _status_when(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    run_id: str,
    done: Callable[[dict[str, Any]], bool],
) -> dict[str, Any]:
    for _ in range(150):
        status: dict[str, Any] = (
            await client.get(f"/v1/reconciliations/{run_id}", headers=headers)
        ).json()
        if done(status):
            break
        await asyncio.sleep(0.1)
    return status


def _by_records(links: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(x["left"]["record_id"], x["right"]["record_id"]): x for x in links}


async def test_a_conflict_a_later_record_makes_is_surfaced_without_a_new_run(
    client: httpx.AsyncClient, world: World
) -> None:
    run_id, headers, _registrations, detentions, status = await _conflict_over_g7(client, world)
    (conflict,) = status["conflicts"]  # R2, U2 and two Pakistani records: G2 and G7
    assert conflict["kind"] == "different third record" and len(conflict["records"]) == 4
    assert status["counts"]["conflicts"] == 1
    assert status["counts"]["held_for_conflict"] == len(_HELD) == status["counts"]["needs_review"]
    by_records = _by_records(await _links(client, headers, run_id))
    for pair in _HELD:
        assert by_records[pair]["decision"] == "review", pair  # a person decides
        assert "three-way conflict" in by_records[pair]["reason"]
    held = await _links(client, headers, run_id, held_for_conflict="true")
    assert sorted((x["left"]["record_id"], x["right"]["record_id"]) for x in held) == sorted(_HELD)
    others = await _links(client, headers, run_id, held_for_conflict="false")
    assert not {x["link_id"] for x in others} & {x["link_id"] for x in held}
    assert len(others) + len(held) == len(by_records)
    # the conflict as a reviewer reads it: the agency's record ids, the links to decide
    page = await client.get(f"/v1/reconciliations/{run_id}/conflicts", headers=headers)
    assert page.status_code == 200, page.text
    (shown,) = page.json()["items"]
    assert shown["kind"] == "different third record" and page.json()["next_cursor"] is None
    pairs = [(x["left"]["record_id"], x["right"]["record_id"]) for x in shown["links"]]
    assert sorted(pairs) == sorted(_HELD)
    assert {x["link_id"] for x in shown["links"]} == {by_records[pair]["link_id"] for pair in pairs}
    assert [x["probability"] for x in shown["links"]] == sorted(
        (x["probability"] for x in shown["links"]), reverse=True
    )
    for link in shown["links"]:  # cut to the view: UNHCR's agreement hides Pakistan's script
        assert link["right"]["list_id"] != detentions or "name_native" not in link["right"]
    audit = await world.headers("unhcr", purpose="audit")
    seen = await client.get(
        "/v1/audit/disclosures", params={"list_id": detentions, "record_id": "G7"}, headers=audit
    )
    assert seen.status_code == 200, seen.text
    assert seen.json()["items"]
    # a person decides one: the conflict no longer holds it
    decided = await client.post(
        f"/v1/links/{by_records[('R2', 'U2')]['link_id']}/decisions",
        json={"decision": "confirm", "note": "one household"},
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "confirmed" and not decided.json()["held_for_conflict"]
    assert "three-way conflict" not in decided.json()["reason"]
    counts = (await client.get(f"/v1/reconciliations/{run_id}", headers=headers)).json()["counts"]
    assert counts["held_for_conflict"] == len(_HELD) - 1


async def test_a_conflict_stands_through_a_change_to_one_of_its_records(
    client: httpx.AsyncClient, world: World
) -> None:
    run_id, headers, registrations, _detentions, _status = await _conflict_over_g7(client, world)
    before = _by_records(await _links(client, headers, run_id))
    # UNHCR respells U2's name: U2 is relinked, but nothing about the conflict changed
    await _corrected(client, world, registrations, "U2", {"given_name": "Fereshta"}, "unhcr")
    for _ in range(150):
        now = _by_records(await _links(client, headers, run_id))
        if (
            now.get(("R2", "U2"), before[("R2", "U2")])["link_id"]
            != before[("R2", "U2")]["link_id"]
        ):
            break
        await asyncio.sleep(0.1)
    status = (await client.get(f"/v1/reconciliations/{run_id}", headers=headers)).json()
    (conflict,) = status["conflicts"]  # the same conflict, not another reading of it
    assert conflict["kind"] == "different third record" and len(conflict["records"]) == 4
    assert status["counts"]["conflicts"] == 1
    assert {pair: now[pair]["decision"] for pair in _HELD} == dict.fromkeys(_HELD, "review")
    assert all(now[pair]["held_for_conflict"] for pair in _HELD)


async def test_a_conflict_settles_when_its_record_goes_and_frees_the_links_it_held(
    client: httpx.AsyncClient, world: World
) -> None:
    run_id, headers, _registrations, detentions, _status = await _conflict_over_g7(client, world)
    # Pakistan withdraws G7 (another woman's record): the conflict is settled, and the links
    # it held for review are accepted again, with what they imply
    gop = await world.headers("gop", purpose="protection-verification")
    withdrawn = await client.post(
        f"/v1/lists/{detentions}/records/G7/withdrawal", json={"reason": "error"}, headers=gop
    )
    assert withdrawn.status_code == 200, withdrawn.text
    status = await _status_when(client, headers, run_id, lambda s: not s["conflicts"])
    assert status["conflicts"] == [] and status["counts"]["conflicts"] == 0
    for _ in range(150):
        now = _by_records(await _links(client, headers, run_id))
        if now.get(("U2", "G2"), {}).get("decision") == "accepted":
            break
        await asyncio.sleep(0.1)
    assert ("R2", "G7") not in now
    for pair in (("R2", "U2"), ("U2", "G2")):
        assert now[pair]["decision"] == "accepted" and not now[pair]["held_for_conflict"]
        assert "three-way conflict" not in now[pair]["reason"]
    _assert_implied_r2_g2(list(now.values()))  # implied through U2 again


async def test_conflicts_page_by_cursor_and_show_only_the_links_within_each(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    _pipeline, _registrations, run_id, headers = await _linked_run(client, world)
    links = {x["left"]["record_id"]: x["link_id"] for x in await _links(client, headers, run_id)}
    async with app.state.services.sessions() as session:
        ids = {}
        for key in ("R1", "R2", "R3"):
            link = await repository.get_link(session, links[key])
            assert link is not None
            ids[key], ids["U" + key[1:]] = link.left_record_id, link.right_record_id
        # two conflicts as a run stores them; R3-U3 joins them, so it belongs to neither
        stored = [
            {"kind": "missing third link", "records": sorted([ids["R1"], ids["U1"], ids["R3"]])},
            {
                "kind": "different third record",
                "records": sorted([ids["R2"], ids["U2"], ids["U3"]]),
            },
        ]
        await repository.update_run(session, run_id, {"conflicts": stored})
        await session.commit()
    seen, cursor = [], None
    for _ in range(3):
        page = await client.get(
            f"/v1/reconciliations/{run_id}/conflicts",
            params={"limit": 1, **({"cursor": cursor} if cursor else {})},
            headers=headers,
        )
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 2 and cursor is None
    whole = await client.get(f"/v1/reconciliations/{run_id}/conflicts", headers=headers)
    assert whole.json()["items"] == seen
    by_kind = {c["kind"]: [x["left"]["record_id"] for x in c["links"]] for c in seen}
    assert by_kind == {"missing third link": ["R1"], "different third record": ["R2"]}
    assert [c["kind"] for c in seen] == [
        c["kind"] for c in sorted(stored, key=lambda c: c["records"])
    ]
    bad = await client.get(
        f"/v1/reconciliations/{run_id}/conflicts",
        params={"cursor": "bm90IGEgY3Vyc29y"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["invalid_params"][0]["name"] == "cursor"
    gop = await world.headers("gop", purpose=RECONCILE)
    hidden = await client.get(f"/v1/reconciliations/{run_id}/conflicts", headers=gop)
    assert hidden.status_code == 404, hidden.text


async def test_a_run_too_large_for_the_memory_it_may_use_fails_saying_so(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    services = app.state.services
    runner = services.reconciliation_runner
    services.reconciliation_runner = jobs.ReconciliationRunner(services.sessions, memory_mb=1)
    try:
        pipeline = await shared_pipeline(client, world)
        registrations = await _unhcr_list(client, world, UNHCR_CSV)
        headers = await world.headers("unhcr", purpose=RECONCILE)
        started = await client.post(
            "/v1/reconciliations", json={"list_ids": [pipeline, registrations]}, headers=headers
        )
        assert started.status_code == 202, started.text
        for _ in range(200):
            status = (
                await client.get(f"/v1/reconciliations/{started.json()['id']}", headers=headers)
            ).json()
            if status["status"] == "failed":
                break
            await asyncio.sleep(0.05)
        assert status["status"] == "failed"
        assert "too large for this server" in status["error"]
        assert "SANAD_RECONCILE_MEMORY_MB" in status["error"]
        assert (await client.get("/healthz")).status_code == 200  # the service goes on
    finally:
        await services.reconciliation_runner.stop()
        services.reconciliation_runner = runner  # the app is shared by every test
