"""Records to link, held column by column: each field is an array of codes into the list of its
distinct values, so that a million records cost a few arrays and every later step works once
per distinct value (names, dates and places repeat massively)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

# The exchange fields the engine reads (domain.md); everything else is ignored here.
LINK_FIELDS = (
    "given_name", "family_name", "father_name", "name_native", "dob", "dob_calendar", "sex",
    "documents", "group_id", "relationship", "province", "district", "status",
)  # fmt: skip

Codes = npt.NDArray[np.int32]


@dataclass(slots=True)
class Column:
    """codes[i] indexes values; values[0] is the empty string (the field is missing)."""

    codes: Codes
    values: list[str]

    def value(self, index: int) -> str:
        return self.values[int(self.codes[index])]


class _ColumnBuilder:
    __slots__ = ("codes", "index", "values")

    def __init__(self) -> None:
        self.values: list[str] = [""]
        self.index: dict[str, int] = {"": 0}
        self.codes: list[int] = []

    def add(self, value: str | None) -> None:
        text = (value or "").strip()
        code = self.index.get(text)
        if code is None:
            code = self.index[text] = len(self.values)
            self.values.append(text)
        self.codes.append(code)

    def build(self) -> Column:
        return Column(np.asarray(self.codes, dtype=np.int32), self.values)


@dataclass(slots=True)
class RecordTable:
    """One list's records: the agency's record ids and the link fields as columns."""

    record_ids: list[str]
    columns: dict[str, Column]

    def __len__(self) -> int:
        return len(self.record_ids)

    def value(self, field: str, index: int) -> str:
        return self.columns[field].value(index)

    def row(self, index: int) -> dict[str, str]:
        return {name: column.value(index) for name, column in self.columns.items()}

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]]) -> RecordTable:
        """From exchange-format mappings (missing keys and None are empty fields)."""
        builders = {name: _ColumnBuilder() for name in LINK_FIELDS}
        record_ids: list[str] = []
        for row in rows:
            record_ids.append(str(row["record_id"]))
            for name, builder in builders.items():
                value = row.get(name)
                builder.add(None if value is None else str(value))
        return cls(record_ids, {name: b.build() for name, b in builders.items()})

    @classmethod
    def from_csv(cls, path: Path) -> RecordTable:
        """From an exchange-format CSV file with a header row (unknown columns are skipped)."""
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            if "record_id" not in header:
                raise ValueError(f"{path.name}: no record_id column")
            id_at = header.index("record_id")
            wanted = [(header.index(n), _ColumnBuilder()) for n in LINK_FIELDS if n in header]
            record_ids: list[str] = []
            for cells in reader:
                if not cells:
                    continue
                record_ids.append(cells[id_at])
                for at, builder in wanted:
                    builder.add(cells[at] if at < len(cells) else "")
        built = {name: b for name in LINK_FIELDS for i, b in wanted if header[i] == name}
        columns = {name: built[name].build() if name in built else _empty(len(record_ids))
                   for name in LINK_FIELDS}  # fmt: skip
        return cls(record_ids, columns)

    def subset(self, indices: npt.NDArray[np.intp]) -> RecordTable:
        """The records at `indices`, sharing this table's value lists."""
        return RecordTable(
            [self.record_ids[int(i)] for i in indices],
            {name: Column(col.codes[indices], col.values) for name, col in self.columns.items()},
        )


def _empty(size: int) -> Column:
    return Column(np.zeros(size, dtype=np.int32), [""])
