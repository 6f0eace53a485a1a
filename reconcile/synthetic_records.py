"""One agency's record of a synthetic person: the exchange-format row, with that agency's
spelling, script, date, document and place habits applied."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from reconcile.synthetic_names import DISTRICTS, PoolName
from reconcile.synthetic_noise import (
    AgencyNoise,
    arabic_spelling,
    join_names,
    latin_spelling,
    recorded_dob,
    recorded_number,
    recorded_sex,
)

if TYPE_CHECKING:
    from reconcile.synthetic import Person

_PROGRAMS = ("SIV", "SIV", "SIV", "P2", "P2", "P1", "IV", "HP", "FTJ")
_STAGES = (
    "security checks",
    "uscis interview",
    "approved",
    "medical",
    "interview",
    "administrative processing",
    "nvc documents",
)
_GOP_STATUSES = (
    "documented",
    "documented",
    "documented",
    "expired",
    "expired",
    "listed for repatriation",
    "detained",
)
# Which of a person's documents each agency writes down (besides `document_listed`).
_PIPELINE_ALWAYS = {"passport": 0.9, "tazkira": 0.6}
_GOP_ALWAYS = {"por": 0.97, "acc": 0.97, "tazkira": 0.1}
_UNHCR_ALWAYS = {"unhcr": 1.0, "tazkira": 0.3}


def _latin(rng: random.Random, parts: tuple[PoolName, ...], noise: AgencyNoise) -> str:
    return join_names(tuple(latin_spelling(rng, part, noise) for part in parts))


def _arabic(rng: random.Random, parts: tuple[PoolName, ...]) -> str:
    return join_names(tuple(arabic_spelling(rng, part) for part in parts))


def name_fields(rng: random.Random, person: Person, noise: AgencyNoise) -> dict[str, str]:
    family = (person.family,) if person.family and rng.random() >= noise.family_missing else ()
    father = person.father if rng.random() >= noise.father_missing else ()
    if rng.random() < noise.arabic_only:
        return {
            "given_name": "",
            "family_name": "",
            "father_name": _arabic(rng, father),
            "name_native": _arabic(rng, person.given + family),
        }
    given, family_name = _latin(rng, person.given, noise), _latin(rng, family, noise)
    if family_name and rng.random() < noise.swap_given_family:
        given, family_name = family_name, given
    native = _arabic(rng, person.given + family) if rng.random() < noise.native_too else ""
    return {
        "given_name": given,
        "family_name": family_name,
        "father_name": _latin(rng, father, noise),
        "name_native": native,
    }


def _documents(
    rng: random.Random, person: Person, noise: AgencyNoise, always: dict[str, float]
) -> str:
    listed = []
    for kind, number in person.documents.items():
        if rng.random() < always.get(kind, noise.document_listed):
            listed.append(f"{kind}:{recorded_number(rng, number, noise)}")
    return ";".join(listed)


def _place(rng: random.Random, person: Person, noise: AgencyNoise, moved: float) -> dict[str, str]:
    if rng.random() < moved:
        province = rng.choice(list(DISTRICTS))
        return {"province": province, "district": rng.choice(DISTRICTS[province])}
    return {"province": person.province, "district": person.district}


def _common(
    rng: random.Random, person: Person, record_id: str, noise: AgencyNoise
) -> dict[str, str]:
    dob, calendar = recorded_dob(rng, person.born, noise)
    return {
        "record_id": record_id,
        **name_fields(rng, person, noise),
        "dob": dob,
        "dob_calendar": calendar,
        "sex": recorded_sex(rng, person.sex, noise),
        "nationality": "AFG",
    }


def pipeline_row(
    rng: random.Random, person: Person, record_id: str, noise: AgencyNoise
) -> dict[str, str]:
    return {
        **_common(rng, person, record_id, noise),
        "documents": _documents(rng, person, noise, _PIPELINE_ALWAYS),
        "group_id": f"CASE-{person.household:07d}",
        "relationship": person.role,
        **_place(rng, person, noise, noise.other_district),
        "program": _PROGRAMS[person.household % len(_PROGRAMS)],
        "stage": _STAGES[person.household % len(_STAGES)],
        "letter_id": f"LTR-2023-{person.pid:08d}" if rng.random() < 0.6 else "",
    }


def unhcr_row(
    rng: random.Random, person: Person, record_id: str, noise: AgencyNoise
) -> dict[str, str]:
    return {
        **_common(rng, person, record_id, noise),
        "documents": _documents(rng, person, noise, _UNHCR_ALWAYS),
        "group_id": f"PSH-{person.household:08d}",
        "relationship": person.role,
        **_place(rng, person, noise, noise.other_district),
    }


def gop_row(
    rng: random.Random, person: Person, record_id: str, noise: AgencyNoise
) -> dict[str, str]:
    """A PoR or ACC card holder's record, or for the undocumented an encounter (detention)
    record, written where the police met the person."""
    carded = "por" in person.documents or "acc" in person.documents
    status = rng.choice(_GOP_STATUSES) if carded else "detained"
    moved = noise.other_district if carded else noise.detention_other_district
    return {
        **_common(rng, person, record_id, noise),
        "documents": _documents(rng, person, noise, _GOP_ALWAYS),
        **_place(rng, person, noise, moved),
        "status": status,
    }
