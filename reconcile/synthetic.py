"""A deterministic synthetic population of Afghan households in Pakistan and the three agency
lists drawn from it (US pipeline, UNHCR registration, Pakistani PoR/ACC/detention records),
with the ground truth of who is who. Used to train the scorer, test and benchmark the engine.
Nobody in it is real; see docs/reconciliation.md for the rates and how to change them."""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from reconcile.synthetic_names import COMPOUND_PREFIXES, DISTRICTS, FAMILY, FEMALE, MALE, PoolName
from reconcile.synthetic_noise import GOP_NOISE, PIPELINE_NOISE, UNHCR_NOISE, AgencyNoise
from reconcile.synthetic_records import gop_row, pipeline_row, unhcr_row
from schemas.vocabulary import RECORD_FIELDS

EXCHANGE_COLUMNS = ("record_id", *(f for f in RECORD_FIELDS if f not in ("phone", "attributes")))
_PROVINCE_WEIGHTS = {
    "Khyber Pakhtunkhwa": 50,
    "Balochistan": 22,
    "Punjab": 12,
    "Sindh": 9,
    "Islamabad": 7,
}
# Zipf-like popularity by position in the pools; compounds make given names far more varied.
_ZIPF = 0.7
COMPOUND_GIVEN = 0.4
TWINS = 0.02  # share of births that are twins
# Scrambles ids into document numbers that are unique and look random (odd, not a multiple of 5).
_SCRAMBLE = 7_919_000_003
_SCRAMBLE_OTHER = 3_571_000_007


def _cumulative(count: int) -> list[float]:
    return list(accumulate(1.0 / (rank + 1) ** _ZIPF for rank in range(count)))


_MALE_CUM, _FEMALE_CUM, _FAMILY_CUM = map(_cumulative, (len(MALE), len(FEMALE), len(FAMILY)))
_PREFIX_CUM = _cumulative(len(COMPOUND_PREFIXES))
_PROVINCES = list(_PROVINCE_WEIGHTS)
_PROVINCE_CUM = list(accumulate(_PROVINCE_WEIGHTS.values()))


@dataclass(slots=True)
class Person:
    """The truth about one person; agencies record noisy views of it."""

    pid: int
    sex: str
    given: tuple[PoolName, ...]
    father: tuple[PoolName, ...]
    family: PoolName | None
    born: dt.date
    household: int
    role: str  # PA, SP, CH, OT within the household
    province: str
    district: str
    documents: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WorldConfig:
    """Sizes of the lists, how much they overlap, and each agency's noise."""

    pipeline_size: int = 2_500
    gop_size: int = 130_000
    unhcr_size: int = 0
    pipeline_in_gop: float = 0.75  # share of pipeline members Pakistan holds a record of
    pipeline_in_unhcr: float = 0.5
    pipeline_noise: AgencyNoise = PIPELINE_NOISE
    gop_noise: AgencyNoise = GOP_NOISE
    unhcr_noise: AgencyNoise = UNHCR_NOISE


def scaled_config(
    config: WorldConfig, noise_factor: float, only: Collection[str] | None = None
) -> WorldConfig:
    """The same world with every agency's noise rates (or those named in `only`) multiplied by
    `noise_factor`."""
    from dataclasses import replace

    return replace(
        config,
        pipeline_noise=config.pipeline_noise.scaled(noise_factor, only),
        gop_noise=config.gop_noise.scaled(noise_factor, only),
        unhcr_noise=config.unhcr_noise.scaled(noise_factor, only),
    )


class _Households:
    """Draws households: a couple, their children (twins included) and sometimes a grandparent."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_pid = 0

    def given(self, sex: str, taken: set[str]) -> tuple[PoolName, ...]:
        rng = self.rng
        for _ in range(20):
            if sex == "F":
                name: tuple[PoolName, ...] = tuple(rng.choices(FEMALE, cum_weights=_FEMALE_CUM))
            else:
                name = tuple(rng.choices(MALE, cum_weights=_MALE_CUM))
                if rng.random() < COMPOUND_GIVEN and " " not in name[0].latin:
                    prefix = rng.choices(COMPOUND_PREFIXES, cum_weights=_PREFIX_CUM)[0]
                    if prefix.latin != name[0].latin:
                        name = (prefix, name[0])
            key = " ".join(part.latin for part in name)
            if key not in taken:  # siblings do not share a given name
                taken.add(key)
                return name
        return name

    def family_name(self) -> PoolName | None:
        return (
            self.rng.choices(FAMILY, cum_weights=_FAMILY_CUM)[0]
            if self.rng.random() < 0.7
            else None
        )

    def person(
        self,
        sex: str,
        given: tuple[PoolName, ...],
        father: tuple[PoolName, ...],
        family: PoolName | None,
        born: dt.date,
        household: int,
        role: str,
        place: tuple[str, str],
    ) -> Person:
        self.next_pid += 1
        return Person(self.next_pid, sex, given, father, family, born, household, role, *place)

    def birth(self, year: int) -> dt.date:
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def household(self, household: int) -> list[Person]:
        rng = self.rng
        province = _PROVINCES[rng.choices(range(len(_PROVINCES)), cum_weights=_PROVINCE_CUM)[0]]
        place = (province, rng.choice(DISTRICTS[province]))
        family = self.family_name()
        husband_born = rng.randint(1950, 2003)
        grandfather = self.given("M", set())
        husband_name = self.given("M", set())
        members = [
            self.person(
                "M",
                husband_name,
                grandfather,
                family,
                self.birth(husband_born),
                household,
                "PA",
                place,
            )
        ]
        if rng.random() < 0.1:
            return members  # a single man
        wife_born = min(husband_born + rng.randint(0, 10), 2005)
        members.append(
            self.person(
                "F",
                self.given("F", set()),
                self.given("M", set()),
                self.family_name(),
                self.birth(wife_born),
                household,
                "SP",
                place,
            )
        )
        taken: set[str] = set()
        year = wife_born + rng.randint(17, 24)
        for _ in range(
            min(rng.choices(range(9), cum_weights=[3, 8, 15, 24, 33, 40, 45, 48, 50])[0], 8)
        ):
            if year > 2024:
                break
            born = self.birth(year)
            for _twin in range(2 if rng.random() < TWINS else 1):
                sex = rng.choice("MF")
                members.append(
                    self.person(
                        sex,
                        self.given(sex, taken),
                        husband_name,
                        family,
                        born,
                        household,
                        "CH",
                        place,
                    )
                )
            year += rng.randint(1, 3)
        if rng.random() < 0.05:
            members.append(
                self.person(
                    "M",
                    grandfather,
                    self.given("M", set()),
                    family,
                    self.birth(husband_born - rng.randint(20, 35)),
                    household,
                    "OT",
                    place,
                )
            )
        return members


def _issue_documents(rng: random.Random, members: list[Person]) -> None:
    """PoR (55% of households), ACC (25%) or none; UNHCR numbers for PoR households; tazkiras and
    passports for some adults. Numbers are unique per person."""
    roll = rng.random()
    card = "por" if roll < 0.55 else "acc" if roll < 0.8 else None
    old_unhcr = rng.random() < 0.3
    for person in members:
        n = person.pid * _SCRAMBLE % 10**11
        m = person.pid * _SCRAMBLE_OTHER % 10**11
        if card == "por":
            person.documents["por"] = f"PK-{n // 10**7:04d}-{n % 10**7:07d}"
            u = f"{m % 10**10:010d}"
            sep = "C" if old_unhcr else "-"
            person.documents["unhcr"] = f"{u[:3]}-{u[3:5]}{sep}{u[5:]}"
        elif card == "acc":
            person.documents["acc"] = f"ACC-{n // 10**7 % 10**4:04d}-{n % 10**7:07d}"
        adult = person.born.year <= 2006
        if adult and rng.random() < 0.5:
            person.documents["tazkira"] = f"1400-{m // 10**7 % 10**4:04d}-{m % 10**5:05d}"
        if adult and rng.random() < 0.4:
            person.documents["passport"] = f"P{(n + m) % 10**8:08d}"


@dataclass(slots=True)
class SyntheticWorld:
    """Three lists as exchange-format rows, and each record's true person id."""

    pipeline: list[dict[str, str]]
    gop: list[dict[str, str]]
    unhcr: list[dict[str, str]]
    truth: dict[str, int]  # record_id -> person id, over all three lists


def _population(rng: random.Random, config: WorldConfig) -> tuple[list[list[Person]], int]:
    needed = config.gop_size + config.pipeline_size + config.unhcr_size // 3
    draw = _Households(rng)
    households: list[list[Person]] = []
    total = 0
    while total < needed:
        members = draw.household(len(households))
        _issue_documents(rng, members)
        households.append(members)
        total += len(members)
    return households, total


def household_of(config: WorldConfig, seed: int) -> dict[int, int]:
    """Person id -> household, as `iter_world_rows(config, seed)` draws them: analyses ask
    whether a wrong link joins relatives or strangers."""
    households, _ = _population(random.Random(seed), config)  # noqa: S311 (as iter_world_rows)
    return {person.pid: person.household for members in households for person in members}


def _select(
    rng: random.Random, config: WorldConfig, households: list[list[Person]]
) -> tuple[list[Person], list[Person], list[Person]]:
    """Pipeline cases are whole households; Pakistan and UNHCR hold a share of them and fill
    their lists with everyone else."""
    order = list(range(len(households)))
    rng.shuffle(order)
    pipeline: list[Person] = []
    gop: list[Person] = []
    unhcr: list[Person] = []
    rest: list[list[Person]] = []
    for index in order:
        members = households[index]
        if len(pipeline) < config.pipeline_size:
            taken = members[: config.pipeline_size - len(pipeline)]
            pipeline.extend(taken)
            gop.extend(p for p in taken if rng.random() < config.pipeline_in_gop)
            if "por" in taken[0].documents and rng.random() < config.pipeline_in_unhcr * 1.5:
                unhcr.extend(taken)
        else:
            rest.append(members)
    for members in rest:
        if len(gop) < config.gop_size:
            gop.extend(members[: config.gop_size - len(gop)])
        if len(unhcr) < config.unhcr_size and "por" in members[0].documents:
            unhcr.extend(members[: config.unhcr_size - len(unhcr)])
    rng.shuffle(gop)
    return pipeline, gop, unhcr


def generate_world(config: WorldConfig, seed: int) -> SyntheticWorld:
    """All three lists in memory (fine up to a few hundred thousand records)."""
    world = SyntheticWorld([], [], [], {})
    for list_name, row, pid in iter_world_rows(config, seed):
        getattr(world, list_name).append(row)
        world.truth[row["record_id"]] = pid
    return world


def iter_world_rows(config: WorldConfig, seed: int) -> Iterator[tuple[str, dict[str, str], int]]:
    """(list name, exchange row, true person id) for every record, deterministically by seed."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data: reproducible, not secret)
    households, _ = _population(rng, config)
    pipeline, gop, unhcr = _select(rng, config, households)
    for i, person in enumerate(pipeline):
        yield (
            "pipeline",
            pipeline_row(rng, person, f"US-{i + 1:07d}", config.pipeline_noise),
            person.pid,
        )
    for i, person in enumerate(unhcr):
        yield "unhcr", unhcr_row(rng, person, f"UN-{i + 1:07d}", config.unhcr_noise), person.pid
    for i, person in enumerate(gop):
        yield "gop", gop_row(rng, person, f"PK-{i + 1:08d}", config.gop_noise), person.pid


def write_world(directory: Path, config: WorldConfig, seed: int) -> dict[str, Path]:
    """Stream the lists to `pipeline.csv`, `unhcr.csv`, `gop.csv` and `truth.csv` (list,
    record_id, person_id) in `directory`; returns the paths by list name."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / f"{name}.csv" for name in ("pipeline", "unhcr", "gop", "truth")}
    handles = {name: path.open("w", newline="", encoding="utf-8") for name, path in paths.items()}
    try:
        writers = {
            name: csv.writer(handle, lineterminator="\n") for name, handle in handles.items()
        }
        for name in ("pipeline", "unhcr", "gop"):
            writers[name].writerow(EXCHANGE_COLUMNS)
        writers["truth"].writerow(("list", "record_id", "person_id"))
        for list_name, row, pid in iter_world_rows(config, seed):
            writers[list_name].writerow([row.get(column, "") for column in EXCHANGE_COLUMNS])
            writers["truth"].writerow((list_name, row["record_id"], pid))
    finally:
        for handle in handles.values():
            handle.close()
    return paths
