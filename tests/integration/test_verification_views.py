"""A verification answers from what the caller's agreement shows, and nothing more: a letter is
named only where the view shows `letter_id`, and a claim by name is scored on the view's names
and its coarsened date. Otherwise yes-or-no answers would read back, one guess at a time, the
birth day or family name the agreement withholds."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import World
from tests.helpers import GOP_FIELDS, UNHCR_FIELDS, agreement_body, import_csv, shared_pipeline
from tests.letter_helpers import revoked_letter
from verification.repository import MAX_PERSON_CANDIDATES

# R1 in tests.helpers: Mohammad Nabi Ahmadzai s/o Abdul Ghafoor, born 1984-03-12, letter LTR-1
R1_CLAIM = {"given_name": "Mohammad Nabi", "father_name": "Abdul Ghafoor"}


async def _verify(
    client: httpx.AsyncClient, world: World, kind: str, body: dict[str, object]
) -> dict[str, object]:
    headers = await world.headers(kind, purpose="protection-verification")
    response = await client.post("/v1/verifications", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def test_a_letter_is_named_only_to_a_view_that_shows_letters(
    client: httpx.AsyncClient, world: World
) -> None:
    assert "letter_id" not in UNHCR_FIELDS and "letter_id" in GOP_FIELDS
    await shared_pipeline(client, world)
    passport = {"document": {"type": "passport", "number": "P01234567"}}
    unhcr = await _verify(client, world, "unhcr", passport)
    assert unhcr["in_pipeline"] is True
    assert unhcr["letters"] == []
    gop = await _verify(client, world, "gop", passport)
    assert gop["letters"] == [{"letter_id": "LTR-1", "status": "valid"}]


@pytest.mark.parametrize(
    "claims",
    [
        # Pakistan's view cuts the date to its year: month and day must not change the answer
        [{"dob": "1984-01"}, {"dob": "1984-03"}, {"dob": "1984-07"}, {"dob": "1984-03-12"}],
        # nor where in the next year a claim falls (R1's own day lies a year before some of them)
        [{"dob": "1985-02"}, {"dob": "1985-05"}, {"dob": "1985-11-30"}],
        # Pakistan's view has no family name: a claimed one must not change the answer (with
        # the given name half written, the family name would decide it)
        [
            {"given_name": "Mohammad", "dob": "1984", "family_name": "Ahmadzai"},
            {"given_name": "Mohammad", "dob": "1984", "family_name": "Barakzai"},
            {"given_name": "Mohammad", "dob": "1984"},
        ],
    ],
    ids=["birth-day", "next-year", "family-name"],
)
async def test_a_claim_by_name_cannot_read_back_what_the_view_withholds(
    client: httpx.AsyncClient, world: World, claims: list[dict[str, str]]
) -> None:
    assert "family_name" not in GOP_FIELDS
    await shared_pipeline(client, world)
    answers = set()
    for claim in claims:
        answer = await _verify(client, world, "gop", {"person": {**R1_CLAIM, **claim}})
        answers.add((answer["in_pipeline"], answer["ambiguous"], str(answer["letters"])))
    assert len(answers) == 1, answers


async def test_the_owner_is_answered_on_the_whole_date_among_many_born_near_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """The owner's view is whole: its search is not widened for the year-only views of others,
    so more than MAX_PERSON_CANDIDATES people born a year and a half before R1 neither hide R1
    nor make the claim ambiguous. A recipient whose view is cut to the year searches wider and
    may be sent to a document instead, but is never told "not in the pipeline"."""
    list_id = await shared_pipeline(client, world)
    filler = "".join(f"F{n},Gul,Sher Ali,1982-06-15\n" for n in range(MAX_PERSON_CANDIDATES + 1))
    await import_csv(client, world, list_id, "record_id,given_name,father_name,dob\n" + filler)
    body = {"person": {**R1_CLAIM, "dob": "1984-03-12"}}
    owner = await _verify(client, world, "us_mission", body)
    assert (owner["in_pipeline"], owner["ambiguous"]) == (True, False)
    assert owner["letters"] == [{"letter_id": "LTR-1", "status": "valid"}]
    coarse = await _verify(client, world, "gop", body)
    assert coarse["in_pipeline"] or coarse["ambiguous"], coarse


async def test_a_list_whose_view_shows_no_birth_date_sends_the_officer_to_a_document(
    client: httpx.AsyncClient, world: World
) -> None:
    """A claim by name is searched by its date; where the view has none, the answer is
    "ambiguous" (verify by letter or document), never "not in the pipeline"."""
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "undated", "kind": "pipeline"}, headers=us)
    list_id = made.json()["id"]
    await import_csv(
        client, world, list_id, "record_id,given_name,father_name,dob\nU1,Wali,Khan,1990\n"
    )
    body = agreement_body(
        list_id, world.gop, ["given_name", "father_name", "letter_id"], ["protection-verification"]
    )
    assert (await client.post("/v1/agreements", json=body, headers=us)).status_code == 201
    claim = {"person": {"given_name": "Wali", "father_name": "Khan", "dob": "1990"}}
    answer = await _verify(client, world, "gop", claim)
    assert (answer["in_pipeline"], answer["ambiguous"]) == (False, True)


async def test_the_letter_asked_about_is_named_with_its_status_whatever_the_view(
    client: httpx.AsyncClient, world: World
) -> None:
    """UNHCR's view has no letter ids, but the officer holds the letter: a revoked one must
    show as revoked, not as a bare "in the pipeline"."""
    list_id = await shared_pipeline(client, world)
    letter = await revoked_letter(client, world, list_id, "case closed")
    answer = await _verify(client, world, "unhcr", {"letter_id": letter["letter_id"]})
    assert {"letter_id": letter["letter_id"], "status": "revoked"} in answer["letters"]
    assert all(named["letter_id"] == letter["letter_id"] for named in answer["letters"])


async def test_a_bad_claimed_date_is_refused_without_its_digits(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await world.headers("gop", purpose="protection-verification")
    body = {"person": {**R1_CLAIM, "dob": "1984-02-30"}}
    response = await client.post("/v1/verifications", json=body, headers=headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["invalid_params"][0]["name"] == "person.dob"
    said = [problem["detail"], *(str(param) for param in problem["invalid_params"])]
    assert not any("30" in text or "1984" in text for text in said), said
