"""Interned comparison keys shared by the lists of one linking run: each distinct name, date of
birth and document number is analysed once, and records carry integer ids into these spaces,
so that comparisons become array operations on ids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from matching.dates import BirthDate, parse_birth_date
from matching.names import NameKey, name_key

IntArray = npt.NDArray[np.int64]
SCRIPT_CODES = {"none": 0, "latin": 1, "arabic": 2, "mixed": 3}
MIXED = SCRIPT_CODES["mixed"]
_CALENDAR_CODES = {"gregorian": 0, "solar_hijri": 1}
_PRECISION_CODES = {"year": 0, "month": 1, "day": 2}


class Interner:
    """Strings to dense ids (0 is the empty string)."""

    __slots__ = ("ids", "values")

    def __init__(self) -> None:
        self.ids: dict[str, int] = {"": 0}
        self.values: list[str] = [""]

    def __call__(self, value: str) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
        return found

    def __len__(self) -> int:
        return len(self.values)


class NameSpace:
    """Every distinct name key of the run, with the attributes `name_level` compares."""

    def __init__(self) -> None:
        self.keys: list[NameKey] = [name_key(None)]
        self._ids: dict[NameKey, int] = {self.keys[0]: 0}
        self.strings = Interner()  # texts, spellings and skeletons share one id space
        self._attrs: list[tuple[int, int, int, int, int, int]] = [(0, 0, 0, 0, 0, 0)]
        self._arrays: dict[str, IntArray] | None = None

    def intern(self, key: NameKey) -> int:
        found = self._ids.get(key)
        if found is not None:
            return found
        found = self._ids[key] = len(self.keys)
        self.keys.append(key)
        s = self.strings
        self._attrs.append(
            (
                SCRIPT_CODES[key.script] if key else 0,
                s("t:" + key.text.casefold()),
                s("j:" + key.joined),
                s("s:" + key.skeleton) if key.skeleton else 0,
                s("o:" + " ".join(key.sorted_skeletons)) if key.sorted_skeletons else 0,
                len(key.sorted_skeletons),
            )
        )
        self._arrays = None
        return found

    def intern_values(self, values: Sequence[str]) -> IntArray:
        """Name ids of raw field values (index-aligned with `values`)."""
        return np.fromiter((self.intern(name_key(v)) for v in values), np.int64, len(values))

    def arrays(self) -> dict[str, IntArray]:
        """script, exact, joined, skeleton, sorted, parts: one entry per name id."""
        if self._arrays is None:
            table = np.asarray(self._attrs, dtype=np.int64)
            names = ("script", "exact", "joined", "skeleton", "sorted", "parts")
            self._arrays = {name: table[:, i] for i, name in enumerate(names)}
        return self._arrays

    def skeleton_text(self, name_id: int) -> str:
        return self.keys[name_id].skeleton


class DateSpace:
    """Every distinct (dob, calendar) of the run, parsed once, as arrays `date_levels` reads."""

    FIELDS = ("calendar", "precision", "fy", "fm", "fd", "gy", "gm", "gd", "lo", "hi",
              "span_lo", "span_hi")  # fmt: skip

    def __init__(self) -> None:
        self.dates: list[BirthDate | None] = [None]
        self._ids: dict[tuple[str, str], int] = {("", ""): 0}
        self._rows: list[tuple[int, ...]] = [(-1,) * len(self.FIELDS)]
        self._arrays: dict[str, IntArray] | None = None

    def intern(self, raw: str, calendar: str) -> int:
        found = self._ids.get((raw, calendar))
        if found is not None:
            return found
        try:
            parsed: BirthDate | None = parse_birth_date(raw, calendar or None) if raw else None
        except ValueError:
            parsed = None  # an unreadable date is no evidence either way
        found = self._ids[(raw, calendar)] = len(self.dates)
        self.dates.append(parsed)
        self._rows.append(_date_row(parsed))
        self._arrays = None
        return found

    def arrays(self) -> dict[str, IntArray]:
        if self._arrays is None:
            table = np.asarray(self._rows, dtype=np.int64)
            self._arrays = {name: table[:, i] for i, name in enumerate(self.FIELDS)}
        return self._arrays


def _date_row(date: BirthDate | None) -> tuple[int, ...]:
    """The fields `matching.compare_dates` reads, with -1 for unknown month/day."""
    if date is None:
        return (-1,) * len(DateSpace.FIELDS)
    month = -1 if date.month is None or date.january_first else date.month
    day = -1 if date.day is None or date.january_first else date.day
    if date.calendar != "gregorian" and date.evidence_precision == "day":
        greg = (date.earliest.year, date.earliest.month, date.earliest.day)
    else:
        greg = (date.year, month, day)
    low, high = date.evidence_range
    if date.calendar != "gregorian":
        span = (low.year, high.year)
    else:
        span = (date.year, date.year)
    return (
        _CALENDAR_CODES[date.calendar],
        _PRECISION_CODES[date.evidence_precision],
        date.year,
        month,
        day,
        *greg,
        low.toordinal(),
        high.toordinal(),
        *span,
    )
