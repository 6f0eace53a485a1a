"""Interned comparison keys shared by the lists of one linking run: each distinct name, date of
birth and document number is analysed once, and records carry integer ids into these spaces,
so that comparisons become array operations on ids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from matching.dates import BirthDate, parse_birth_date
from matching.names import NameKey, combine_name_keys, name_key

IntArray = npt.NDArray[np.int64]
SCRIPT_CODES = {"none": 0, "latin": 1, "arabic": 2, "mixed": 3}
MIXED = SCRIPT_CODES["mixed"]
PART_COLUMNS = 4  # name parts held per name in the part matrix (longer names take the slow path)
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
    """Every distinct name of the run, with the attributes `name_level` compares. Ids are given
    per distinct raw value (or pair of ids, for combined names); two ids may share one key."""

    def __init__(self) -> None:
        self.keys: list[NameKey] = [name_key(None)]
        self._by_raw: dict[str, int] = {"": 0}
        self._by_pair: dict[tuple[int, int], int] = {}
        self.strings = Interner()  # texts, spellings and skeletons share one id space
        self._attrs: list[tuple[int, int, int, int, int, int]] = [(0, 0, 0, 0, 0, 0)]
        self._arrays: dict[str, IntArray] | None = None
        self._prefixes: IntArray | None = None
        self._parts: tuple[IntArray, IntArray] | None = None
        self._matrix: tuple[IntArray, npt.NDArray[np.bool_]] | None = None
        self._texts: tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]] | None = None
        self._lengths: IntArray | None = None

    def _add(self, key: NameKey) -> int:
        s = self.strings
        self.keys.append(key)
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
        return len(self.keys) - 1

    def intern(self, raw: str) -> int:
        found = self._by_raw.get(raw)
        if found is None:
            key = name_key(raw)
            found = self._by_raw[raw] = self._add(key) if key else 0
        return found

    def intern_combined(self, first: int, second: int) -> int:
        """Id of two names read as one (given + family), in that order."""
        if not second or not first:
            return first or second
        found = self._by_pair.get((first, second))
        if found is None:
            key = combine_name_keys(self.keys[first], self.keys[second])
            found = self._by_pair[(first, second)] = self._add(key)
        return found

    def intern_values(self, values: Sequence[str]) -> IntArray:
        """Name ids of raw field values (index-aligned with `values`)."""
        return np.fromiter((self.intern(v) for v in values), np.int64, len(values))

    def prefix_ids(self) -> IntArray:
        """Id of each name's first two skeleton consonants: a coarse key that survives most
        typos, which rarely touch the start of a name."""
        done = 0 if self._prefixes is None else len(self._prefixes)
        if done != len(self.keys):
            # names are only ever added: extend for the new ones (a held list's linking adds a
            # few names to hundreds of thousands)
            added = np.fromiter(
                (
                    self.strings("p:" + k.skeleton[:2]) if k.skeleton else 0
                    for k in self.keys[done:]
                ),
                np.int64,
                len(self.keys) - done,
            )
            old = self._prefixes if self._prefixes is not None else np.zeros(0, np.int64)
            self._prefixes = np.concatenate([old, added])
            return self._prefixes
        assert self._prefixes is not None
        return self._prefixes

    def part_ids(self) -> tuple[IntArray, IntArray]:
        """Skeletons of each name's parts, as (offsets per name id, part ids), CSR style: the
        parts of name i are part_ids[offsets[i]:offsets[i + 1]]."""
        done = 0 if self._parts is None else len(self._parts[0]) - 1
        if done != len(self.keys):
            parts = [[self.strings("s:" + p) for p in k.skeletons if p] for k in self.keys[done:]]
            counts = np.fromiter((len(p) for p in parts), np.int64, len(parts))
            old_offsets, old_flat = self._parts or (np.zeros(1, np.int64), np.zeros(0, np.int64))
            offsets = np.concatenate([old_offsets, old_offsets[-1] + np.cumsum(counts)])
            flat = np.fromiter((i for p in parts for i in p), np.int64, int(counts.sum()))
            self._parts = (offsets, np.concatenate([old_flat, flat]))
            return self._parts
        assert self._parts is not None
        return self._parts

    def part_matrix(self) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Part ids per name id (the CSR `part_ids` as rows, in written order: containment
        tests ignore order), padded with -1 to PART_COLUMNS, and whether the matrix holds the
        name exactly (no more parts than columns, no part repeated)."""
        if self._matrix is None or len(self._matrix[0]) != len(self.keys):
            offsets, flat = self.part_ids()
            counts = offsets[1:] - offsets[:-1]
            matrix = np.full((len(self.keys), PART_COLUMNS), -1, np.int64)
            for column in range(PART_COLUMNS):
                has = counts > column
                matrix[has, column] = flat[offsets[:-1][has] + column]
            plain = counts <= PART_COLUMNS
            for first in range(PART_COLUMNS):
                for second in range(first + 1, PART_COLUMNS):
                    repeated = matrix[:, first] == matrix[:, second]
                    plain &= ~(repeated & (matrix[:, second] >= 0))
            self._matrix = (matrix, plain)
        return self._matrix

    def text_arrays(self) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
        """Skeleton and joined spelling of each name id, as object arrays for rapidfuzz."""
        done = 0 if self._texts is None else len(self._texts[0])
        if done != len(self.keys):
            new = self.keys[done:]
            skeletons = np.array([k.skeleton for k in new], dtype=object)
            joined = np.array([k.joined for k in new], dtype=object)
            if self._texts is not None:
                skeletons = np.concatenate([self._texts[0], skeletons])
                joined = np.concatenate([self._texts[1], joined])
            self._texts = (skeletons, joined)
            self._lengths = None
            return self._texts
        assert self._texts is not None
        return self._texts

    def skeleton_lengths(self) -> IntArray:
        skeletons, _ = self.text_arrays()
        if self._lengths is None or len(self._lengths) != len(skeletons):
            self._lengths = np.fromiter(map(len, skeletons), np.int64, len(skeletons))
        return self._lengths

    def arrays(self) -> dict[str, IntArray]:
        """script, exact, joined, skeleton, sorted, parts: one entry per name id."""
        if self._arrays is None:
            table = np.asarray(self._attrs, dtype=np.int64)
            names = ("script", "exact", "joined", "skeleton", "sorted", "parts")
            self._arrays = {name: table[:, i] for i, name in enumerate(names)}
        return self._arrays


class DateSpace:
    """Every distinct (dob, calendar) of the run, parsed once, as arrays `date_levels` reads."""

    FIELDS = (
        "calendar",
        "precision",
        "fy",
        "fm",
        "fd",
        "gy",
        "gm",
        "gd",
        "lo",
        "hi",
        "span_lo",
        "span_hi",
    )

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
    span = (low.year, high.year) if date.calendar != "gregorian" else (date.year, date.year)
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
