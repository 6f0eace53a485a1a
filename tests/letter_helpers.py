"""Shared steps of the letter, encounter and change-feed tests: issue a letter through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import World


async def issue_letter(
    client: httpx.AsyncClient,
    world: World,
    list_id: str,
    record_id: str = "R1",
    covered: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    us = await world.headers("us_mission")
    body = {
        "list_id": list_id,
        "record_id": record_id,
        "covered_record_ids": covered or [],
        **extra,
    }
    response = await client.post("/v1/letters", json=body, headers=us)
    assert response.status_code == 201, response.text
    letter: dict[str, Any] = response.json()
    return letter


async def revoked_letter(
    client: httpx.AsyncClient, world: World, list_id: str, reason: str
) -> dict[str, Any]:
    """A letter for R1, issued and then revoked by the mission."""
    letter = await issue_letter(client, world, list_id)
    us = await world.headers("us_mission")
    revoked = await client.post(
        f"/v1/letters/{letter['letter_id']}/revocation", json={"reason": reason}, headers=us
    )
    assert revoked.status_code == 200, revoked.text
    return letter


async def verify_credential(
    client: httpx.AsyncClient, world: World, credential: str, language: str | None = None
) -> dict[str, Any]:
    headers = await world.headers("gop", purpose="protection-verification")
    if language:
        headers["Accept-Language"] = language
    response = await client.post(
        "/v1/verifications", json={"credential": credential}, headers=headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
