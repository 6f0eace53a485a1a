"""The generator of benchmark worlds: every kind of noise the reconciliation issue names shows
up in the lists at the default level, and scaling chosen rates changes those and no others."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from reconcile.synthetic import (
    SyntheticWorld,
    WorldConfig,
    generate_world,
    household_of,
    scaled_config,
)
from reconcile.synthetic_noise import GOP_NOISE, STRUCTURAL, AgencyNoise

CONFIG = WorldConfig(pipeline_size=1_500, gop_size=15_000)
SEED = 5
Row = dict[str, str]


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return generate_world(CONFIG, SEED)


def _pairs(world: SyntheticWorld) -> list[tuple[Row, Row]]:
    """(pipeline record, Pakistani record) of each person both lists hold."""
    gop_of = {world.truth[row["record_id"]]: row for row in world.gop}
    return [
        (row, gop_of[world.truth[row["record_id"]]])
        for row in world.pipeline
        if world.truth[row["record_id"]] in gop_of
    ]


def _share(rows: list[Row], test: Callable[[Row], bool]) -> float:
    return sum(map(test, rows)) / len(rows)


def _arabic_only(row: Row) -> bool:
    return not row["given_name"] and bool(row["name_native"])


def _year_only(row: Row) -> bool:
    return len(row["dob"]) == 4


def test_the_pakistani_list_carries_each_kind_of_noise(world: SyntheticWorld) -> None:
    gop = world.gop
    assert 0.10 < _share(gop, _arabic_only) < 0.20
    assert 0.18 < _share(gop, _year_only) < 0.32
    marked = _share(gop, lambda row: row["dob_calendar"] == "solar_hijri")
    unmarked = _share(gop, lambda row: not row["dob_calendar"] and row["dob"][:2] == "13")
    assert marked > 0.02 and unmarked > 0.02  # tazkira dates, with and without the marker
    assert _share(gop, lambda row: not row["documents"]) > 0.05  # the undocumented
    assert _share(gop, lambda row: not row["father_name"]) > 0.02
    assert _share(gop, lambda row: row["status"] == "detained") > 0.05


def test_one_person_s_records_disagree_as_agencies_do(world: SyntheticWorld) -> None:
    pairs = _pairs(world)
    assert len(pairs) > 0.7 * len(world.pipeline)
    moved = _share_of_pairs(pairs, lambda us, pk: us["district"] != pk["district"])
    assert 0.3 < moved < 0.7  # people move, and police write where they met someone
    swapped = _share_of_pairs(
        pairs,
        lambda us, pk: bool(us["family_name"]) and us["family_name"] == pk["given_name"],
    )
    assert swapped > 0.003
    miscoded = _share_of_pairs(pairs, lambda us, pk: {us["sex"], pk["sex"]} == {"M", "F"})
    assert 0.005 < miscoded < 0.08
    shared_card = _share_of_pairs(pairs, lambda us, pk: bool(_cards(us) & _cards(pk)))
    assert 0.2 < shared_card < 0.6  # most pairs have no document in common


def _share_of_pairs(pairs: list[tuple[Row, Row]], test: Callable[[Row, Row], bool]) -> float:
    return sum(test(us, pk) for us, pk in pairs) / len(pairs)


def _cards(row: Row) -> set[str]:
    return {entry for entry in row["documents"].split(";") if entry}


def test_twins_and_siblings_share_a_father_and_twins_a_birth_date(world: SyntheticWorld) -> None:
    household = household_of(CONFIG, SEED)
    born: Counter[tuple[int, str]] = Counter()
    members: Counter[int] = Counter()
    for row in world.gop:
        person = world.truth[row["record_id"]]
        members[household[person]] += 1
        if len(row["dob"]) == 10 and not row["dob_calendar"]:
            born[household[person], row["dob"]] += 1
    assert sum(1 for count in members.values() if count >= 3) > 500  # siblings
    assert sum(1 for count in born.values() if count >= 2) > 10  # twins


def test_scaling_named_rates_changes_only_those() -> None:
    halved = GOP_NOISE.scaled(0.5, ("dob_year_only", "detention_other_district"))
    assert halved.dob_year_only == GOP_NOISE.dob_year_only / 2
    assert halved.detention_other_district == GOP_NOISE.detention_other_district / 2
    assert halved.arabic_only == GOP_NOISE.arabic_only
    everything = GOP_NOISE.scaled(0.5)
    assert everything.typo == GOP_NOISE.typo / 2
    for name in STRUCTURAL:  # what an agency records is not noise: kept unless named
        assert getattr(everything, name) == getattr(GOP_NOISE, name)
    assert AgencyNoise(typo=0.8).scaled(2.0).typo == 1.0
    with pytest.raises(ValueError, match="no such noise rate: dob_only"):
        GOP_NOISE.scaled(0.5, ("dob_only",))


def test_a_halved_rate_shows_in_the_lists(world: SyntheticWorld) -> None:
    fewer = generate_world(scaled_config(CONFIG, 0.5, ("dob_year_only",)), SEED)
    before, after = _share(world.gop, _year_only), _share(fewer.gop, _year_only)
    assert 0.35 * before < after < 0.7 * before
    arabic_before, arabic_after = _share(world.gop, _arabic_only), _share(fewer.gop, _arabic_only)
    assert abs(arabic_after - arabic_before) < 0.2 * arabic_before
