"""Records to link, held column by column: each field is an array of codes into the list of its
distinct values, so that a million records cost a few arrays and every later step works once
per distinct value (names, dates and places repeat massively)."""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from schemas.vocabulary import RECORD_FIELDS

# The exchange fields the engine reads (domain.md); contacts, programme and the like never.
_NOT_READ = frozenset({"nationality", "phone", "program", "stage", "letter_id", "attributes"})
LINK_FIELDS = tuple(name for name in RECORD_FIELDS if name not in _NOT_READ)

Codes = npt.NDArray[np.int32]


@dataclass(slots=True)
class Column:
    """codes[i] indexes values; values[0] is the empty string (the field is missing)."""

    codes: Codes
    values: list[str]

    def value(self, index: int) -> str:
        return self.values[int(self.codes[index])]


def encode_column(values: pa.Array | pa.ChunkedArray) -> Column:
    """Dictionary-encode strings in C++ (pyarrow), then trim the distinct values and give the
    empty value code 0, merging values that only differed by surrounding blanks."""
    encoded = pc.dictionary_encode(pc.fill_null(values, ""))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = (
            encoded.combine_chunks()
            if encoded.num_chunks
            else pa.array([], pa.string()).dictionary_encode()
        )
    index: dict[str, int] = {"": 0}
    remap = np.fromiter(
        (index.setdefault(v.strip(), len(index)) for v in encoded.dictionary.to_pylist()),
        np.int32,
        len(encoded.dictionary),
    )
    codes = remap[encoded.indices.to_numpy(zero_copy_only=False)] if len(remap) else None
    if codes is None:
        codes = np.zeros(len(encoded), np.int32)
    return Column(codes.astype(np.int32, copy=False), list(index))


class UnreadableFileError(ValueError):
    """A CSV file the offline linking cannot read; the message names the file and the problem,
    never a value of a record."""


_KNOWN_COLUMNS = frozenset(("record_id", *RECORD_FIELDS))


def _column_name(name: str) -> str:
    """A header cell's column, as an import reads it: an exchange field's name in any case."""
    stripped = name.strip()
    return stripped.lower() if stripped.lower() in _KNOWN_COLUMNS else stripped


def _clean(value: object) -> str:
    return "" if value is None else str(value)


@dataclass(slots=True)
class RecordTable:
    """One list's records: the agency's record ids and the link fields as columns."""

    record_ids: list[str]
    columns: dict[str, Column]

    def __len__(self) -> int:
        return len(self.record_ids)

    def among(self, ids: Collection[str]) -> npt.NDArray[np.bool_]:
        """Whether each record's id is one of `ids`."""
        wanted = ids if isinstance(ids, set | frozenset) else set(ids)
        # a set's own method mapped in C: a Python loop over 1.3 million ids took 0.1 s
        return np.fromiter(map(wanted.__contains__, self.record_ids), np.bool_, len(self))

    def value(self, field: str, index: int) -> str:
        return self.columns[field].value(index)

    def row(self, index: int) -> dict[str, str]:
        return {name: column.value(index) for name, column in self.columns.items()}

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]]) -> RecordTable:
        """From exchange-format mappings (missing keys and None are empty fields)."""
        rows = rows if isinstance(rows, list) else list(rows)
        record_ids = [_clean(row["record_id"]).strip() for row in rows]
        columns = {
            name: encode_column(pa.array([_clean(row.get(name)) for row in rows], pa.string()))
            for name in LINK_FIELDS
        }
        return cls(record_ids, columns)

    @classmethod
    def from_csv(cls, path: Path) -> RecordTable:
        """From an exchange-format CSV file with a header row (unknown columns are skipped).
        Column names are read as an import reads them (exchange.exchange_format): blanks around
        them dropped, an exchange field's name in any case."""
        try:
            with path.open(encoding="utf-8-sig") as handle:
                header = [_column_name(name) for name in next(csv.reader(handle), [])]
        except UnicodeDecodeError:
            raise UnreadableFileError(f"{path.name}: not UTF-8 text") from None
        if "record_id" not in header:
            raise UnreadableFileError(f"{path.name}: no record_id column")
        read = [name for name in ("record_id", *LINK_FIELDS) if name in header]
        twice = sorted({name for name in read if header.count(name) > 1})
        if twice:
            raise UnreadableFileError(f"{path.name}: column {twice[0]} appears twice")
        # the names as read, the others numbered: pyarrow's own would keep their blanks
        names = [name if name in read else f"_column_{i}" for i, name in enumerate(header)]
        options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(read, pa.string()),
            include_columns=read,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        try:
            data = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                convert_options=options,
            )
        except pa.ArrowInvalid as exc:
            # pyarrow's message ends with the offending row: name the problem, not the row
            problem = ": ".join(str(exc).split(": ")[:2])
            raise UnreadableFileError(f"{path.name}: cannot be read ({problem})") from None
        record_ids = [v.strip() for v in data.column("record_id").to_pylist()]
        columns = {
            name: encode_column(data.column(name)) if name in header else _empty(len(record_ids))
            for name in LINK_FIELDS
        }
        return cls(record_ids, columns)

    def append(self, other: RecordTable) -> RecordTable:
        """This table's records followed by `other`'s, as `concat` gives them, with Python work
        that follows `other` only (this table's values are scanned in C): a held list of 1.3
        million records takes a few changed records at every poll, and indexing its million
        distinct document values for that took 0.4 s."""
        columns = {}
        for name, column in self.columns.items():
            added = other.columns[name]
            code_of = dict.fromkeys(added.values, -1)
            # the scan runs in C (a dict's own method over a list); values are distinct
            present = np.fromiter(
                map(code_of.__contains__, column.values), np.bool_, len(column.values)
            )
            for code in np.flatnonzero(present).tolist():
                code_of[column.values[code]] = code
            new = [value for value, code in code_of.items() if code < 0]
            for code, value in enumerate(new, start=len(column.values)):
                code_of[value] = code
            remap = np.fromiter(map(code_of.__getitem__, added.values), np.int32, len(added.values))
            values = column.values + new if new else column.values
            columns[name] = Column(np.concatenate([column.codes, remap[added.codes]]), values)
        return RecordTable(self.record_ids + other.record_ids, columns)

    @classmethod
    def concat(cls, tables: Sequence[RecordTable]) -> RecordTable:
        """The tables' records one after the other. Each column keeps the first table's values
        (and codes) and adds the others' new values after them, so a value has one code in the
        result and codes of the first table's records stay as they were."""
        first = tables[0]
        columns = {}
        for name, column in first.columns.items():
            index = {value: code for code, value in enumerate(column.values)}
            codes = [column.codes]
            for table in tables[1:]:
                added = table.columns[name]
                remap = np.fromiter(
                    (index.setdefault(value, len(index)) for value in added.values),
                    np.int32,
                    len(added.values),
                )
                codes.append(remap[added.codes])
            columns[name] = Column(np.concatenate(codes).astype(np.int32), list(index))
        record_ids = [rid for table in tables for rid in table.record_ids]
        return cls(record_ids, columns)

    def subset(self, indices: npt.NDArray[np.intp]) -> RecordTable:
        """The records at `indices`, sharing this table's value lists."""
        return RecordTable(
            [self.record_ids[i] for i in indices.tolist()],
            {name: Column(col.codes[indices], col.values) for name, col in self.columns.items()},
        )


def _empty(size: int) -> Column:
    return Column(np.zeros(size, dtype=np.int32), [""])
