"""Comparison outcomes: per-field agreement levels and the evidence record with its phrase."""

from dataclasses import dataclass
from enum import StrEnum


class NameLevel(StrEnum):
    """How two names agree, strongest first."""

    EXACT = "exact"  # same letters once case, diacritics and spacing are ignored
    VARIANT = "variant"  # same canonical spelling: Shafiq/Shafeeq, Abdul Rahman/Abdulrahman
    CROSS_SCRIPT = "cross_script"  # Latin and Arabic script with the same skeleton
    SKELETON = "skeleton"  # same consonants, different canonical spelling (Rahim/Rehim)
    SWAPPED = "swapped"  # given and family name exchanged
    REORDERED = "reordered"  # the same parts in another order
    PARTIAL = "partial"  # every part of the shorter name is in the longer one
    SIMILAR = "similar"  # one consonant apart, or close spelling: a likely typo
    DIFFERENT = "different"
    MISSING = "missing"  # absent on at least one side


class DateLevel(StrEnum):
    """How two dates of birth agree, strongest first."""

    EXACT = "exact"  # same day
    SWAPPED = "swapped"  # same year, day and month exchanged
    NEAR_YEAR_SAME_DAY = "near_year_same_day"  # same day and month, years one apart
    SAME_MONTH = "same_month"  # same month, day differs or unknown on one side
    YEAR_ONLY = "year_only"  # years agree and one side only records a year (or 1 January)
    SAME_YEAR = "same_year"  # same year, months differ
    NEAR_YEAR = "near_year"  # years one apart
    DIFFERENT = "different"
    MISSING = "missing"


class DocumentLevel(StrEnum):
    """How two numbers of the same document type agree."""

    EXACT = "exact"
    NEAR = "near"  # one substitution, adjacent transposition, insertion or deletion
    DIFFERENT = "different"
    MISSING = "missing"


Level = NameLevel | DateLevel | DocumentLevel


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """Outcome for one field, with a short phrase a reviewer can read.

    `weight` is the rarity (in bits, see NameFrequencies) of the agreeing name, when a
    frequency table was supplied; None otherwise.
    """

    field: str
    level: Level
    phrase: str
    weight: float | None = None
