"""Checkpoint verification by letter, document and name + father's name + date of birth."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconcile.name_counts import NameCounts
from tests.conftest import World
from tests.helpers import add_namesakes, shared_pipeline
from verification import person, repository

MINIMAL_KEYS = {
    "verification_id",
    "checked_at",
    "matched_by",
    "in_pipeline",
    "ambiguous",
    "letters",
}


async def _verify(
    client: httpx.AsyncClient, world: World, body: dict[str, object]
) -> httpx.Response:
    headers = await world.headers("gop", purpose="protection-verification")
    return await client.post("/v1/verifications", json=body, headers=headers)


async def test_verify_by_letter_gives_minimal_answer(
    client: httpx.AsyncClient, world: World
) -> None:
    await shared_pipeline(client, world)
    response = await _verify(client, world, {"letter_id": "LTR-1"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(result) == MINIMAL_KEYS
    assert result["in_pipeline"] is True
    assert result["letters"] == [{"letter_id": "LTR-1", "status": "valid"}]
    for secret in ("SIV", "interview", "Ahmadzai", "+92300", "contractor"):
        assert secret not in response.text


async def test_verify_by_document_normalises_the_number(
    client: httpx.AsyncClient, world: World
) -> None:
    await shared_pipeline(client, world)
    response = await _verify(
        client, world, {"document": {"type": "por", "number": "pk 0012 3456789"}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["in_pipeline"] is True
    assert response.json()["letters"][0]["letter_id"] == "LTR-1"


async def test_verify_by_person_across_calendars(client: httpx.AsyncClient, world: World) -> None:
    await shared_pipeline(client, world)
    # stored as 1362 SH (1983-03-21 .. 1984-03-19); the officer types a Gregorian date
    body = {
        "person": {"given_name": "abdul rahman", "father_name": "Noor Ullah", "dob": "1983-06-02"}
    }
    response = await _verify(client, world, body)
    assert response.status_code == 200, response.text
    assert response.json()["in_pipeline"] is True
    assert response.json()["letters"] == [{"letter_id": "LTR-3", "status": "valid"}]


async def test_unknown_person_is_not_in_pipeline(client: httpx.AsyncClient, world: World) -> None:
    await shared_pipeline(client, world)
    response = await _verify(client, world, {"letter_id": "LTR-999"})
    assert response.status_code == 200
    assert response.json()["in_pipeline"] is False
    assert response.json()["letters"] == []


async def test_lists_not_shared_with_caller_are_not_searched(
    client: httpx.AsyncClient, world: World, sync_session
) -> None:  # type: ignore[no-untyped-def]
    await shared_pipeline(client, world)
    from tests.conftest import build_world

    stranger = await asyncio.to_thread(build_world, sync_session, client)
    headers = await stranger.headers("gop", purpose="protection-verification")
    response = await client.post("/v1/verifications", json={"letter_id": "LTR-1"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["in_pipeline"] is False


async def test_verification_needs_exactly_one_key(client: httpx.AsyncClient, world: World) -> None:
    response = await _verify(
        client, world, {"letter_id": "LTR-1", "document": {"type": "por", "number": "1"}}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_verification_purpose_must_be_allowed(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await world.headers("gop", purpose="resettlement-processing")
    response = await client.post("/v1/verifications", json={"letter_id": "LTR-1"}, headers=headers)
    assert response.status_code == 403
    assert response.json()["type"].endswith("/purpose-not-allowed")


async def test_verification_is_disclosed_to_the_owner_auditor(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    await _verify(client, world, {"letter_id": "LTR-2"})
    auditor = await world.headers("us_mission", purpose="audit")
    response = await client.get(
        "/v1/audit/disclosures", params={"list_id": list_id, "record_id": "R2"}, headers=auditor
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert world.gop in page["recipients"]
    assert any(d["recipient_agency_id"] == world.gop for d in page["items"])


async def test_a_claim_by_name_is_scored_like_reconciliation(
    client: httpx.AsyncClient, world: World
) -> None:
    """Variant spellings, a typo in the father's name and an unmarked Solar Hijri year still
    find the record: the reconciliation scorer decides, not exact keys."""
    await shared_pipeline(client, world)
    claim = {"given_name": "Muhammad Nabee", "father_name": "Abdul Ghafur", "dob": "1363"}
    response = await _verify(client, world, {"person": claim})
    assert response.status_code == 200, response.text
    assert response.json()["in_pipeline"] is True
    assert response.json()["letters"] == [{"letter_id": "LTR-1", "status": "valid"}]


async def test_a_claim_with_another_father_and_year_finds_no_one(
    client: httpx.AsyncClient, world: World
) -> None:
    await shared_pipeline(client, world)
    claim = {"given_name": "Mohammad Nabi", "father_name": "Sher Khan", "dob": "1950"}
    response = await _verify(client, world, {"person": claim})
    assert response.status_code == 200, response.text
    assert response.json()["in_pipeline"] is False
    assert response.json()["ambiguous"] is False


async def test_namesakes_are_not_resolved_by_a_guess(
    client: httpx.AsyncClient, world: World
) -> None:
    """Two brothers' records that the claim fits equally: the officer is asked for a letter or
    document, and no letter is named."""
    list_id = await shared_pipeline(client, world)
    await add_namesakes(client, world, list_id)
    claim = {"given_name": "Jawad", "father_name": "Qasim", "dob": "1991"}
    response = await _verify(client, world, {"person": claim})
    assert response.status_code == 200, response.text
    assert response.json()["ambiguous"] is True
    assert response.json()["in_pipeline"] is False
    assert response.json()["letters"] == []


async def test_a_claim_weighs_names_by_the_lists_searched_as_they_are_now(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scorer gets the name counts of the whole lists searched, and counts that follow a
    later import (kept between claims, they must not go stale)."""
    list_id = await shared_pipeline(client, world)
    seen: list[NameCounts | None] = []
    score = person.score_person_claim

    def spy(*args: Any) -> Any:
        seen.append(args[-1])
        return score(*args)

    monkeypatch.setattr(person, "score_person_claim", spy)
    claim = {"given_name": "Jawad", "father_name": "Qasim", "dob": "1991"}
    us = await world.headers("us_mission")
    for batch, count in (("first", 1), ("brothers", 3)):
        rows = "".join(f"{batch}{i},Jawad,Qasem,1991-0{i + 1}-04\n" for i in range(count))
        imported = await client.post(
            f"/v1/lists/{list_id}/imports",
            content=("record_id,given_name,father_name,dob\n" + rows).encode(),
            headers={**us, "Content-Type": "text/csv", "Idempotency-Key": batch},
        )
        assert imported.status_code == 201, imported.text
        assert (await _verify(client, world, {"person": claim})).status_code == 200
    before, after = seen
    assert before is not None and after is not None
    jawad = max(after.counts["given"], key=lambda skeleton: after.counts["given"][skeleton])
    assert after.counts["given"][jawad] == before.counts["given"][jawad] + 3


async def test_candidates_by_name_are_those_born_in_the_span_or_of_unknown_birth(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    """The lookup behind a claim by name (two index ranges since session 16): a span touching
    the claimed one at its edge and an unknown birth are candidates; a later year is not."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    extra = "record_id,given_name,father_name,dob\nE1,Gul,Sher Ali,\nE2,Gul,Sher Ali,1983\n"
    extra += "E3,Gul,Sher Ali,1990-05-05\n"
    imported = await client.post(
        f"/v1/lists/{list_id}/imports",
        content=extra.encode(),
        headers={**us, "Content-Type": "text/csv", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert imported.status_code == 201, imported.text
    params = repository.person_params(dt.date(1983, 12, 31), dt.date(1984, 6, 1))
    found = await repository.reachable_records(
        app.state.services.driver, world.gop, dt.datetime.now(dt.UTC), repository.BY_PERSON, params
    )
    # R1 1984-03-12; R3 1362 SH (1983-03-21 to 1984-03-19); E2 the whole of 1983; E1 unknown
    assert sorted(r.record_key for r in found) == ["E1", "E2", "R1", "R3"]
