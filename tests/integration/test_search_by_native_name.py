"""Record search by the name in its own script. `name` compared the Latin name fields only and
there was no `name_native` filter, so a person listed only in Arabic script could not be found
by name at all; and one name typed on a Dari keyboard (ی, ک) and on an Arabic one (ي, ك), or
with a vowel mark, must still be one name. Migration c0ffee000017 keys the records stored
before it."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from alembic import command
from tests.conftest import World
from tests.helpers import import_csv, shared_pipeline
from tests.integration.test_migrations import empty_database_url  # noqa: F401  (a fixture)
from tests.integration.test_records import _keys
from tests.migration_helpers import database_at, record_row, record_table

# R1 is stored as "محمد نبی" (Persian yeh), R3 as "عبدالرحمن", R4 as "یوسف" (tests/helpers.py)
ARABIC_KEYBOARD_R1 = "مُحَمَّد  نبي"  # Arabic yeh, vowel marks, two spaces
R3_WRITTEN_APART = "عبد الرحمن"


async def _found(
    client: httpx.AsyncClient, list_id: str, headers: dict[str, str], **body: object
) -> list[str]:
    return await _keys(client, f"/v1/lists/{list_id}/records", headers, **body)


async def test_the_owner_finds_a_record_by_its_native_name_however_it_is_typed(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    assert await _found(client, list_id, us, name_native=ARABIC_KEYBOARD_R1) == ["R1"]
    assert await _found(client, list_id, us, name_native=R3_WRITTEN_APART) == ["R3"]
    # `name` reads every name field the caller may see, the native one by its own key
    assert await _found(client, list_id, us, name=ARABIC_KEYBOARD_R1) == ["R1"]
    assert await _found(client, list_id, us, name="Abdul Rahman") == ["R3"]
    assert await _found(client, list_id, us, name_native="محمد") == []  # a whole name, not a part


async def test_records_imported_into_a_list_or_corrected_are_keyed_too(
    client: httpx.AsyncClient, world: World
) -> None:
    """The three ways a record is written: a new list's column-wise import (above), an import
    into a list holding records (row by row), and a correction."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    await import_csv(client, world, list_id, "record_id,name_native,dob\nR9,كريم الله,1990\n")
    assert await _found(client, list_id, us, name_native="کریم‌الله") == ["R9"]  # with a ZWNJ
    path = f"/v1/lists/{list_id}/records/R4"
    corrected = await client.patch(
        path, json={"name_native": "يوسف هوتك"}, headers={**us, "If-Match": '"v1"'}
    )
    assert corrected.status_code == 200, corrected.text
    assert await _found(client, list_id, us, name_native="یوسف هوتک") == ["R4"]
    assert await _found(client, list_id, us, name_native="یوسف") == []


async def test_a_recipient_not_shown_the_native_name_cannot_search_by_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """UNHCR's agreement leaves `name_native` out: filtering on it is refused, and `name`
    does not read it (else a search would confirm a name the agreement withholds)."""
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="protection-verification")
    response = await client.post(
        f"/v1/lists/{list_id}/records:search", json={"name_native": "محمد نبی"}, headers=unhcr
    )
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith("/filter-not-allowed")
    assert [p["name"] for p in response.json()["invalid_params"]] == ["name_native"]
    assert await _found(client, list_id, unhcr, name="محمد نبی") == []
    assert await _found(client, list_id, unhcr, name="Mohammad Nabi") == ["R1"]


_RECORD = record_table(sa.column("name_native", sa.String()))


def test_the_migration_keys_the_records_stored_before_it(
    empty_database_url: str,  # noqa: F811  (the fixture imported above)
) -> None:
    stored = {"a": "محمّد نبي", "b": None, "c": "عبد الرحمن", "d": "ﷺ" * 12}  # d: too long
    with database_at(empty_database_url, "c0ffee000016") as (config, engine):
        with engine.begin() as conn:
            conn.execute(
                sa.insert(_RECORD),
                [record_row(record_id, name_native=name) for record_id, name in stored.items()],
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            keys = dict(conn.execute(sa.text("SELECT id, name_native_key FROM record")).all())
    assert keys == {"a": "محمد نبی", "b": None, "c": "عبدالرحمن", "d": None}


async def test_a_native_name_too_long_once_keyed_is_refused_naming_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """NFKC spells the ligature ﷺ out in 18 letters: within the field's 200 characters, its
    key is not, and PostgreSQL refuses a longer key (a 500 there, a silent store on SQLite)."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    response = await client.post(
        f"/v1/lists/{list_id}/imports",
        content=("record_id,name_native\nR9," + "ﷺ" * 12 + "\n").encode(),
        headers={**us, "Content-Type": "text/csv", "Idempotency-Key": "native-too-long"},
    )
    assert response.status_code == 422, response.text
    assert [r["field"] for r in response.json()["rejected"]] == ["name_native"]
