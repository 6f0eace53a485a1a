"""Protection letters through HTTP: issue for a pipeline record with family members, read, PDF,
verify online by QR content, revoke, re-issue; keys published in the JWKS."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pypdf
import pytest

from letters import pdf
from letters.credential import MAX_CREDENTIAL_CHARS, parse
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.letter_helpers import issue_letter, verify_credential


async def test_issue_letter_covering_family_and_verify_by_qr(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id, "R1", covered=["R2"])
    assert letter["status"] == "valid"
    assert letter["covered_record_ids"] == ["R2"]
    assert len(letter["credential"]) <= MAX_CREDENTIAL_CHARS
    claims = parse(letter["credential"]).claims
    assert claims.name == "Mohammad Nabi Ahmadzai"
    assert claims.name_native == "محمد نبی"
    assert claims.birth_year == 1984
    assert [m.name for m in claims.members] == ["Freshta Ahmadzai"]

    result = await verify_credential(client, world, letter["credential"], language="ps-AF")
    assert result["matched_by"] == "credential"
    assert result["in_pipeline"] is True
    assert result["credential"]["status"] == "valid"
    assert result["credential"]["letter_id"] == letter["letter_id"]
    assert result["credential"]["status_text"] == "دا لیک معتبر دی."
    assert {"letter_id": letter["letter_id"], "status": "valid"} in result["letters"]
    for secret in ("SIV", "interview", "+92300", "contractor"):
        assert secret not in str(result)


async def test_tampered_credential_is_invalid_and_audited(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    credential = letter["credential"]
    position = len(credential) // 2
    swapped = "A" if credential[position] != "A" else "B"
    forged = credential[:position] + swapped + credential[position + 1 :]
    result = await verify_credential(client, world, forged)
    assert result["in_pipeline"] is False
    assert result["credential"]["status"] == "invalid"
    assert "name" not in result["credential"]  # a forgery's contents are not echoed


async def test_issuance_is_mission_only_and_checks_the_case(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    gop = await world.headers("gop", purpose="protection-verification")
    body = {"list_id": list_id, "record_id": "R1"}
    assert (await client.post("/v1/letters", json=body, headers=gop)).status_code == 403
    us = await world.headers("us_mission")
    other_case = {**body, "covered_record_ids": ["R3"]}  # R3 is CASE-2
    response = await client.post("/v1/letters", json=other_case, headers=us)
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "covered_record_ids"


async def test_revocation_and_reissue(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    first = await issue_letter(client, world, list_id)
    us = await world.headers("us_mission")
    second = await issue_letter(client, world, list_id, replaces=first["letter_id"])
    assert second["replaces"] == first["letter_id"]
    old = await client.get(f"/v1/letters/{first['letter_id']}", headers=us)
    assert old.json()["status"] == "revoked"
    assert (await verify_credential(client, world, first["credential"]))["credential"][
        "status"
    ] == "revoked"
    revoked = await client.post(
        f"/v1/letters/{second['letter_id']}/revocation", json={"reason": "case closed"}, headers=us
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    again = await client.post(
        f"/v1/letters/{second['letter_id']}/revocation", json={"reason": "x"}, headers=us
    )
    assert again.status_code == 409
    result = await verify_credential(client, world, second["credential"])
    assert result["in_pipeline"] is False


async def test_letter_keys_are_published_in_the_jwks(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    letter_keys = [k for k in keys if k.get("sanad_key_use") == "protection-letter"]
    assert letter["kid"] in {k["kid"] for k in letter_keys}
    assert all("d" not in k for k in keys)


async def test_pdf_is_one_page_with_extractable_text(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id, covered=["R2"])
    us = await world.headers("us_mission")
    response = await client.get(f"/v1/letters/{letter['letter_id']}/pdf", headers=us)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (letter["letter_id"], "Mohammad Nabi Ahmadzai", "Abdul Ghafoor", "1984",
                     "Freshta Ahmadzai", "not a visa"):  # fmt: skip
        assert expected in text, expected


async def test_without_fonts_the_pdf_is_a_503_not_a_500(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pdf, "FONT_DIRS", (str(tmp_path),))
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    us = await world.headers("us_mission")
    response = await client.get(f"/v1/letters/{letter['letter_id']}/pdf", headers=us)
    assert response.status_code == 503
    assert response.json()["type"] == "https://sanad.dev/problems/pdf-unavailable"


async def test_verifier_page_bundles_keys_and_is_public(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    page = await client.get("/verifier")
    assert page.status_code == 200
    assert letter["kid"] in page.text
    assert "/*SANAD_CONFIG*/" not in page.text


async def test_withdrawing_a_person_revokes_every_live_letter_naming_them(
    client: httpx.AsyncClient, world: World
) -> None:
    """R2 is covered by R1's family letter: withdrawing R2 revokes it (online and on the offline
    page's list), with the reason and a feed event; R3's own letter is untouched."""
    list_id = await shared_pipeline(client, world)
    family = await issue_letter(client, world, list_id, "R1", covered=["R2"])
    other = await issue_letter(client, world, list_id, "R3")
    us = await world.headers("us_mission")
    withdrawn = await client.post(
        f"/v1/lists/{list_id}/records/R2/withdrawal", json={"reason": "left the case"}, headers=us
    )
    assert withdrawn.status_code == 200, withdrawn.text
    shown = (await client.get(f"/v1/letters/{family['letter_id']}", headers=us)).json()
    assert shown["status"] == "revoked"
    assert "withdrawn" in shown["revocation_reason"]
    checked = await verify_credential(client, world, family["credential"])
    assert checked["credential"]["status"] == "revoked"
    assert checked["in_pipeline"] is False
    assert (await verify_credential(client, world, other["credential"]))["credential"][
        "status"
    ] == "valid"
    page = (await client.get("/verifier")).text

    def listed(letter: dict[str, str]) -> bool:
        return hashlib.sha256(letter["letter_id"].encode()).hexdigest()[:16] in page

    assert listed(family) and not listed(other)
    feed = (await client.get("/v1/changes", params={"limit": 500}, headers=us)).json()["items"]
    assert "letter.revoked" in {event["type"] for event in feed}
