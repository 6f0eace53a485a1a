"""How agencies garble what they record about a person: spelling, script, dates, documents and
places, each at an adjustable rate (see docs/reconciliation.md, "The generator")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Collection
from dataclasses import dataclass

from matching.solar_hijri import gregorian_to_solar_hijri
from reconcile.synthetic_names import PoolName

_LETTERS = "abdefghiklmnoprstuwyz"
# Rule-like spelling changes a clerk makes that no listed variant covers.
_SPELLING_SWAPS = (
    ("ee", "i"),
    ("i", "ee"),
    ("oo", "u"),
    ("u", "oo"),
    ("q", "k"),
    ("k", "q"),
    ("ullah", "ulla"),
    ("ullah", " Ullah"),
    ("zai", "zay"),
    ("Abdul ", "Abdul"),
    ("Abdul", "Abdul "),
    ("a", "aa"),
)
# Persian yeh/kaf/heh and the Arabic letters other keyboards type for them.
_ARABIC_LETTER_VARIANTS = (("\u06cc", "\u064a"), ("\u06a9", "\u0643"), ("\u0647", "\u0629"))


STRUCTURAL = frozenset(
    {"native_too", "document_listed", "dob_solar_hijri_unmarked", "detention_other_district"}
)


@dataclass(frozen=True, slots=True)
class AgencyNoise:
    """Rates (0..1) at which one agency's records deviate from the person's true data."""

    variant_spelling: float = 0.5  # a listed non-canonical Latin spelling (Mohd, Yusuf)
    rule_spelling: float = 0.1  # an extra rule-like change (ee/i, q/k, -ulla, Abdul Rahman)
    typo: float = 0.03  # one letter substituted, dropped, doubled or two swapped
    arabic_only: float = 0.0  # names only in Arabic script (Dari/Pashto/Urdu spelling)
    native_too: float = 0.2  # Latin names plus `name_native`
    family_missing: float = 0.2  # family/tribal name left out although the person has one
    father_missing: float = 0.03
    swap_given_family: float = 0.02
    dob_year_only: float = 0.1
    dob_january_first: float = 0.1  # the unknown day recorded as 1 January
    dob_solar_hijri: float = 0.1  # a tazkira date copied unconverted
    dob_solar_hijri_unmarked: float = 0.5  # share of those sent without `dob_calendar`
    dob_swap_day_month: float = 0.02
    dob_off_by_one: float = 0.03
    sex_miscoded: float = 0.01
    sex_unknown: float = 0.02
    other_district: float = 0.3  # moved, or detained away from home
    # an encounter is written where the police met the person, mostly not where they live
    detention_other_district: float = 0.7
    document_listed: float = 1.0  # share of the person's documents this agency records
    document_mistyped: float = 0.02  # one character wrong in a recorded number

    def scaled(self, factor: float, only: Collection[str] | None = None) -> AgencyNoise:
        """Every noise rate (or those named in `only`) times `factor`, capped at 1. Structural
        shares stay as they are unless named: how much each agency records, and where police
        meet the people they detain."""
        rates = (
            set(only)
            if only is not None
            else {f.name for f in dataclasses.fields(self)} - STRUCTURAL
        )
        unknown = rates - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"no such noise rate: {', '.join(sorted(unknown))}")
        changes = {name: min(1.0, getattr(self, name) * factor) for name in rates}
        return dataclasses.replace(self, **changes)


PIPELINE_NOISE = AgencyNoise(
    native_too=0.25,
    family_missing=0.1,
    father_missing=0.02,
    dob_year_only=0.08,
    dob_january_first=0.07,
    dob_solar_hijri=0.08,
    document_listed=0.45,
)
UNHCR_NOISE = AgencyNoise(
    arabic_only=0.05,
    native_too=0.5,
    family_missing=0.25,
    dob_year_only=0.15,
    dob_january_first=0.1,
    dob_solar_hijri=0.15,
    other_district=0.2,
    document_listed=0.6,
)
GOP_NOISE = AgencyNoise(
    arabic_only=0.15,
    native_too=0.3,
    family_missing=0.5,
    father_missing=0.06,
    dob_year_only=0.25,
    dob_january_first=0.15,
    dob_solar_hijri=0.1,
    dob_swap_day_month=0.03,
    dob_off_by_one=0.05,
    sex_miscoded=0.02,
    sex_unknown=0.03,
    document_listed=0.03,
    document_mistyped=0.03,
)


def typo(rng: random.Random, word: str) -> str:
    """One keyboard slip in a Latin word: substitution, deletion, doubling or transposition."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)  # clerks rarely get the first letter wrong
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + rng.choice(_LETTERS) + word[i + 1 :]
    if kind < 0.6:
        return word[:i] + word[i + 1 :]
    if kind < 0.8:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def latin_spelling(rng: random.Random, name: PoolName, noise: AgencyNoise) -> str:
    text = name.latin
    if name.variants and rng.random() < noise.variant_spelling:
        text = rng.choice(name.variants)
    if rng.random() < noise.rule_spelling:
        written, replacement = rng.choice(_SPELLING_SWAPS)
        lowered = text.lower()
        at = lowered.find(written.lower())
        if at >= 0:
            text = text[:at] + replacement + text[at + len(written) :]
            text = text[0].upper() + text[1:]
    if rng.random() < noise.typo:
        text = typo(rng, text)
    return text


def arabic_spelling(rng: random.Random, name: PoolName) -> str:
    """Arabic-script spelling as one of the agencies' keyboards writes it."""
    text = name.arabic
    for persian, arabic in _ARABIC_LETTER_VARIANTS:
        if persian in text and rng.random() < 0.25:
            text = text.replace(persian, arabic)
    if text.startswith("عبدال") and rng.random() < 0.4:
        text = "عبد " + text[3:]
    return text


def join_names(parts: tuple[str, ...]) -> str:
    return " ".join(part for part in parts if part)


def recorded_dob(rng: random.Random, born: dt.date, noise: AgencyNoise) -> tuple[str, str]:
    """(dob, dob_calendar) as the agency writes them, with its habits and slips."""
    year, month, day = born.year, born.month, born.day
    if rng.random() < noise.dob_off_by_one:
        year += rng.choice((-1, 1))
    if rng.random() < noise.dob_swap_day_month and day <= 12 and day != month:
        month, day = day, month
    if rng.random() < noise.dob_solar_hijri:
        try:
            sh_year, sh_month, sh_day = gregorian_to_solar_hijri(dt.date(year, month, day))
        except ValueError:
            sh_year, sh_month, sh_day = year - 621, month, min(day, 29)
        marked = "" if rng.random() < noise.dob_solar_hijri_unmarked else "solar_hijri"
        if rng.random() < noise.dob_year_only * 2:  # year-only tazkiras are common
            return str(sh_year), marked
        return f"{sh_year}-{sh_month:02d}-{sh_day:02d}", marked
    roll = rng.random()
    if roll < noise.dob_year_only:
        return str(year), ""
    if roll < noise.dob_year_only + noise.dob_january_first:
        return f"{year}-01-01", ""
    return f"{year}-{month:02d}-{day:02d}", ""


def recorded_number(rng: random.Random, number: str, noise: AgencyNoise) -> str:
    """A document number, with one digit mistyped or two swapped at the given rate."""
    if rng.random() >= noise.document_mistyped:
        return number
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    i = rng.choice(digits[:-1])
    if rng.random() < 0.5 and number[i + 1].isdigit():
        return number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    replacement = rng.choice([d for d in "0123456789" if d != number[i]])
    return number[:i] + replacement + number[i + 1 :]


def recorded_sex(rng: random.Random, sex: str, noise: AgencyNoise) -> str:
    roll = rng.random()
    if roll < noise.sex_unknown:
        return "U"
    if roll < noise.sex_unknown + noise.sex_miscoded:
        return "F" if sex == "M" else "M"
    return sex
