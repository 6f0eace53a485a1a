"""Column-wise validation of a chunk of CSV rows: the fast path of a bulk import.

A million-record file is almost always wholly valid, and most of its columns repeat a few
hundred values (names, sex, nationality, program, stage, places). Checking a chunk column by
column — a rule once per distinct value, a length limit as one `max`, control characters as one
scan of the joined column — costs about half of checking every cell of every row.

This path only ever *accepts*: it applies the same rules as the row path
(`exchange_format._validate`, `field_rules`) and gives up, returning None, as soon as anything
in the chunk is not plainly valid. The caller then validates that chunk row by row, which is
what names each rejected row, field and reason. So the reports cannot differ between the two
paths, and the accepted values must not either (a test compares both on the same files)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from exchange.field_rules import (
    CONTROL,
    CONTROL_IN_TEXT,
    KEYED_NAMES,
    MAX_ATTRIBUTE_VALUE,
    MAX_RECORD_ID,
    SHAPED_RULES,
    TEXT_LIMITS,
    BirthSpan,
    FieldError,
    KeyedDocument,
    birth_range,
    check_attribute,
    key_too_long,
    parse_documents_keyed,
)

_NO_DOCUMENTS: list[KeyedDocument] = []  # shared by every row without documents; never changed


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """Where each kind of column sits in a file's rows (from its header)."""

    record_id_at: int
    scalar_at: tuple[tuple[int, str], ...]  # exchange fields, in the file's column order
    documents_at: int | None
    attribute_at: tuple[tuple[int, str], ...]  # agency columns, in the file's column order


@dataclass(slots=True)
class ValidColumns:
    """A wholly valid chunk, column by column: each list holds one entry per row, in file order.
    `scalars` holds the file's exchange fields (None where a cell was empty) in its column
    order; `documents` and `attributes` are empty where a row has none."""

    row_numbers: list[int]
    record_ids: list[str]
    scalars: dict[str, list[str | None]]
    documents: list[list[KeyedDocument]]
    attributes: list[dict[str, str]]
    dob_ranges: list[BirthSpan | None]


def validate_columns(
    cells: Sequence[Sequence[str]],
    row_numbers: list[int],
    layout: CsvLayout,
    seen: dict[str, int],
) -> ValidColumns | None:
    """The chunk's values if every row is valid, else None. `cells` holds each row's cells (all
    as wide as the header); `seen` maps the record ids of earlier chunks to their rows and gets
    this chunk's ids when it is accepted."""
    count = len(cells)
    if count == 0:
        return None
    columns = list(zip(*cells, strict=True))
    record_ids = list(map(str.strip, columns[layout.record_id_at]))
    if not all(record_ids) or not _plain(record_ids, MAX_RECORD_ID, CONTROL):
        return None
    if any("/" in record_id for record_id in record_ids):  # check_record_id's rule
        return None
    if len(set(record_ids)) != count or not seen.keys().isdisjoint(record_ids):
        return None  # duplicates: the row path names the rows
    scalars: dict[str, list[str | None]] = {}
    for at, name in layout.scalar_at:
        column = _scalar_column(name, columns[at])
        if column is None:
            return None
        scalars[name] = column
    doc_at = layout.documents_at
    documents = [_NO_DOCUMENTS] * count if doc_at is None else _documents(columns[doc_at])
    attributes = _attributes(columns, layout.attribute_at, count)
    dob_ranges = _dob_ranges(scalars, count)
    if documents is None or attributes is None or dob_ranges is None:
        return None
    seen.update(zip(record_ids, row_numbers, strict=True))
    return ValidColumns(row_numbers, record_ids, scalars, documents, attributes, dob_ranges)


def _plain(values: list[str], limit: int, control: re.Pattern[str]) -> bool:
    """No value longer than `limit` and none holding a character of `control`."""
    return max(map(len, values), default=0) <= limit and _free_of(control, "".join(values))


def _free_of(control: re.Pattern[str], text: str) -> bool:
    # control characters are not printable, and `isprintable` scans several times faster than
    # the regex; text it refuses (a zero-width non-joiner in Dari, say) is searched properly
    return text.isprintable() or not control.search(text)


def _scalar_column(name: str, cells: Sequence[str]) -> list[str | None] | None:
    """One exchange field's stored values (`validate_scalars` cell by cell), or None. A column
    of few distinct values (names, places, codes) is checked once per value and mapped back."""
    distinct = set(cells)
    if len(distinct) * 4 > len(cells):  # mostly distinct (phones, letters, cases)
        return _stored(name, cells)
    values = list(distinct)
    stored = _stored(name, values)
    if stored is None:
        return None
    return list(map(dict(zip(values, stored, strict=True)).__getitem__, cells))


def _stored(name: str, cells: Sequence[str]) -> list[str | None] | None:
    stripped = list(map(str.strip, cells))
    limit = TEXT_LIMITS.get(name)
    if limit is not None:
        if not _plain(stripped, limit, CONTROL):
            return None
        # only non-ASCII text can grow when folded for its search key
        folded_may_grow = name in KEYED_NAMES and not "".join(stripped).isascii()
        if folded_may_grow and any(key_too_long(name, value, limit) for value in stripped):
            return None
        return [value or None for value in stripped]
    rule = SHAPED_RULES[name]
    try:
        stored = {value: rule(value) for value in set(stripped) if value}
    except FieldError:
        return None
    if not _free_of(CONTROL, "".join(stored.values())):
        return None
    return [stored[value] if value else None for value in stripped]


def _documents(cells: Sequence[str]) -> list[list[KeyedDocument]] | None:
    documents: list[list[KeyedDocument]] = []
    append = documents.append
    try:
        for cell in cells:
            append(parse_documents_keyed(cell) if cell else _NO_DOCUMENTS)
    except FieldError:
        return None
    return documents


def _attributes(
    columns: list[tuple[str, ...]], attribute_at: tuple[tuple[int, str], ...], count: int
) -> list[dict[str, str]] | None:
    if not attribute_at:
        return [{} for _ in range(count)]
    names = [name for _, name in attribute_at]
    values: list[list[str]] = []
    for at, name in attribute_at:
        stripped = list(map(str.strip, columns[at]))
        if any(stripped):
            try:
                check_attribute(name, "")  # the column's name
            except FieldError:
                return None
            if not _plain(stripped, MAX_ATTRIBUTE_VALUE, CONTROL_IN_TEXT):
                return None
        values.append(stripped)
    if len(names) == 1:  # the common case: one agency column, mostly empty
        [name], [column] = names, values
        return [{name: value} if value else {} for value in column]
    return [
        {name: value for name, value in zip(names, row, strict=True) if value}
        for row in zip(*values, strict=True)
    ]


def _dob_ranges(scalars: dict[str, list[str | None]], count: int) -> list[BirthSpan | None] | None:
    dobs = scalars.get("dob")
    if dobs is None:
        return [None] * count
    calendars = scalars.get("dob_calendar") or [None] * count
    try:
        return [
            birth_range(dob, calendar or "gregorian") if dob is not None else None
            for dob, calendar in zip(dobs, calendars, strict=True)
        ]
    except FieldError:
        return None
