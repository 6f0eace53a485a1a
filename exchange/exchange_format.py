"""Parse the exchange format of domain.md (CSV with a header row, or NDJSON) into validated rows
and row-level rejections, and write rows back out.

Row numbers: `row` is the 1-based position of a data record in the file. The CSV header is not
a data record, and blank lines are skipped in both formats without being counted; `row` 0 means
a problem with the file as a whole (encoding, header). A rejection names the row, the field and
the reason, never the rejected value: it is personal data."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

from exchange.bulk_gc import gc_paused
from exchange.field_rules import (
    KNOWN_COLUMNS,
    SCALAR_FIELDS,
    FieldError,
    RecordValues,
    check_attribute,
    check_dob,
    check_documents,
    check_record_id,
    parse_documents_text,
    validate_scalars,
)

ExchangeFormat = Literal["csv", "ndjson"]
CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv"})
NDJSON_MEDIA_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
EXCHANGE_COLUMNS: tuple[str, ...] = ("record_id", *SCALAR_FIELDS, "documents")
_RESERVED = "attributes"


@dataclass(slots=True)
class ExchangeRow:
    row: int
    record_id: str
    values: RecordValues


@dataclass(frozen=True, slots=True)
class RowRejection:
    row: int
    field: str | None
    reason: str


@dataclass(slots=True)
class ParseResult:
    rows: list[ExchangeRow] = field(default_factory=list)
    rejected: list[RowRejection] = field(default_factory=list)
    received: int = 0


def format_for_media_type(media_type: str) -> ExchangeFormat | None:
    base = media_type.split(";", 1)[0].strip().lower()
    if base in CSV_MEDIA_TYPES:
        return "csv"
    if base in NDJSON_MEDIA_TYPES:
        return "ndjson"
    return None


def parse_exchange(data: bytes, fmt: ExchangeFormat) -> ParseResult:
    """Validate a whole file. Rows come back only if valid; every invalid row is reported."""
    whole = ParseResult()
    with gc_paused():
        for chunk in iter_exchange(data, fmt):
            whole.rows.extend(chunk.rows)
            whole.rejected.extend(chunk.rejected)
            whole.received += chunk.received
    return whole


def iter_exchange(
    data: bytes, fmt: ExchangeFormat, chunk_rows: int = 50_000
) -> Iterator[ParseResult]:
    """Validate a file chunk by chunk (so a caller can store one chunk while the next is
    parsed). Each chunk holds up to `chunk_rows` records; duplicates are found across chunks."""
    try:
        text = data.decode("utf-8-sig")  # a BOM from spreadsheet exports is tolerated
    except UnicodeDecodeError:
        yield ParseResult(rejected=[RowRejection(0, None, "file is not valid UTF-8")])
        return
    problems: list[RowRejection] = []  # file-level ones, found while reading
    records = _csv_records(text, problems) if fmt == "csv" else _ndjson_records(text)
    seen: dict[str, int] = {}
    chunk = ParseResult()
    for row_no, raw in records:
        chunk.received += 1
        if any(name is None for name, _ in raw.errors):
            # unreadable row (bad JSON, wrong cell count): its fields mean nothing
            chunk.rejected.extend(RowRejection(row_no, n, reason) for n, reason in raw.errors)
        else:
            record_id = (raw.scalars.pop("record_id", None) or "").strip()
            first = seen.setdefault(record_id, row_no) if record_id else row_no
            row = _validate(row_no, record_id, raw, chunk.rejected, first)
            if row is not None:
                chunk.rows.append(row)
        if chunk.received >= chunk_rows:
            yield chunk
            chunk = ParseResult()
    chunk.rejected[:0] = problems
    yield chunk


@dataclass(slots=True)
class _RawRecord:
    """One data record before validation: scalar text, documents and attributes as sent."""

    scalars: dict[str, str | None]
    documents: str | list[tuple[str, str]] | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str | None, str]] = field(default_factory=list)


def _validate(
    row_no: int, record_id: str, raw: _RawRecord, rejected: list[RowRejection], first: int
) -> ExchangeRow | None:
    errors = [(name or "", reason) for name, reason in raw.errors]
    if not record_id:
        errors.append(("record_id", "is required"))
    elif first != row_no:
        errors.append(("record_id", f"duplicate record_id (first at row {first})"))
    else:
        try:
            check_record_id(record_id)
        except FieldError as exc:
            errors.append(("record_id", str(exc)))
    values = RecordValues(fields=validate_scalars(raw.scalars, errors))
    _add_documents(values, raw.documents, errors)
    for key, value in raw.attributes.items():
        try:
            check_attribute(key, value)
        except FieldError as exc:
            errors.append((key, str(exc)))
    values.attributes = raw.attributes
    if "dob" in values.fields and not any(name.startswith("dob") for name, _ in errors):
        try:
            check_dob(values)
        except FieldError as exc:
            errors.append(("dob", str(exc)))
    if errors:
        rejected.extend(RowRejection(row_no, name, reason) for name, reason in errors)
        return None
    return ExchangeRow(row_no, record_id, values)


def _add_documents(
    values: RecordValues,
    documents: str | list[tuple[str, str]] | None,
    errors: list[tuple[str, str]],
) -> None:
    if not documents:
        return
    try:
        if isinstance(documents, str):
            values.documents = parse_documents_text(documents)
        else:
            values.documents = check_documents(documents)
    except FieldError as exc:
        errors.append(("documents", str(exc)))


def _canonical(name: str) -> str:
    stripped = name.strip()
    lower = stripped.lower()
    return lower if lower in KNOWN_COLUMNS or lower == _RESERVED else stripped


def _csv_records(text: str, problems: list[RowRejection]) -> Iterator[tuple[int, _RawRecord]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader, None)
        while header is not None and not header:
            header = next(reader, None)  # leading blank lines
    except csv.Error:
        header = None
    if header is None:
        problems.append(RowRejection(0, None, "file has no header row"))
        return
    columns = [_canonical(name) for name in header]
    if not _header_ok(columns, problems):
        return
    scalar_at = [(i, name) for i, name in enumerate(columns) if name in SCALAR_FIELDS]
    scalar_at.append((columns.index("record_id"), "record_id"))
    scalar_names = [name for _, name in scalar_at]
    pick_scalars = _picker([i for i, _ in scalar_at])
    doc_at = columns.index("documents") if "documents" in columns else None
    attr_at = [(i, name) for i, name in enumerate(columns) if name not in KNOWN_COLUMNS]
    width = len(columns)
    row_no = 0
    while True:
        try:
            cells = next(reader, None)
        except csv.Error:
            problems.append(RowRejection(row_no + 1, None, "malformed CSV"))
            return
        if cells is None:
            return
        if not cells:
            continue
        row_no += 1
        if len(cells) != width:
            problem = (None, f"has {len(cells)} cells, the header has {width}")
            yield row_no, _RawRecord({}, errors=[problem])
            continue
        raw = _RawRecord(dict(zip(scalar_names, pick_scalars(cells), strict=True)))
        if doc_at is not None:
            raw.documents = cells[doc_at]
        raw.attributes = {name: value for i, name in attr_at if (value := cells[i].strip())}
        yield row_no, raw


def _picker(indices: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """The cells at `indices` as a tuple, picked in C (operator.itemgetter)."""
    if len(indices) > 1:
        getter: Callable[[list[str]], tuple[str, ...]] = itemgetter(*indices)
        return getter
    only = indices[0]

    def pick_one(cells: list[str]) -> tuple[str, ...]:
        return (cells[only],)

    return pick_one


def _header_ok(columns: list[str], rejected: list[RowRejection]) -> bool:
    problems: list[str] = []
    if "record_id" not in columns:
        problems.append("header has no record_id column")
    if any(not name for name in columns):
        problems.append("header has an empty column name")
    if _RESERVED in columns:
        problems.append("attributes is reserved: send agency fields as their own columns")
    duplicates = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicates:
        problems.append("header repeats column " + ", ".join(duplicates))
    rejected.extend(RowRejection(0, None, reason) for reason in problems)
    return not problems


def _ndjson_records(text: str) -> Iterator[tuple[int, _RawRecord]]:
    # split on "\n" only: str.splitlines would also split on U+2028 inside JSON strings
    row_no = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        row_no += 1
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            yield row_no, _RawRecord({}, errors=[(None, "is not valid JSON")])
            continue
        if not isinstance(obj, dict):
            yield row_no, _RawRecord({}, errors=[(None, "must be a JSON object")])
            continue
        yield row_no, _json_record(obj)


def _json_record(obj: dict[str, object]) -> _RawRecord:
    raw = _RawRecord({})
    for key, value in obj.items():
        name = _canonical(key)
        if name in raw.scalars or (name == "documents" and raw.documents is not None):
            raw.errors.append((name, "is given twice"))
        elif name in SCALAR_FIELDS or name == "record_id":
            raw.scalars[name] = _json_scalar(name, value, raw)
        elif name == "documents":
            raw.documents = _json_documents(value, raw)
        elif name == _RESERVED:
            _json_attributes(value, raw)
        elif value is not None and (text := _json_text(value)):
            raw.attributes[name] = text
    return raw


def _json_scalar(name: str, value: object, raw: _RawRecord) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raw.errors.append((name, "must be a string"))
    return None


def _json_documents(value: object, raw: _RawRecord) -> str | list[tuple[str, str]] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        pairs: list[tuple[str, str]] = []
        for item in value:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("type"), str)
                and isinstance(item.get("number"), str)
            ):
                raw.errors.append(("documents", "each document must be {type, number} strings"))
                return None
            pairs.append((item["type"], item["number"]))
        return pairs
    raw.errors.append(("documents", "must be a list of {type, number} or type:number text"))
    return None


def _json_attributes(value: object, raw: _RawRecord) -> None:
    if not isinstance(value, dict):
        raw.errors.append((_RESERVED, "must be an object"))
        return
    for key, item in value.items():
        if item is not None and (text := _json_text(item)):
            raw.attributes[str(key).strip()] = text


def _json_text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.strip()


def _row_cells(row: ExchangeRow) -> dict[str, str]:
    cells = {"record_id": row.record_id, **row.values.fields}
    if row.values.documents:
        cells["documents"] = ";".join(f"{t}:{n}" for t, n in row.values.documents)
    return cells


def write_csv(rows: Iterable[ExchangeRow], attribute_columns: Iterable[str] = ()) -> str:
    """The exchange CSV of `rows` (all exchange columns, then the given attribute columns)."""
    columns = [*EXCHANGE_COLUMNS, *attribute_columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = {**row.values.attributes, **_row_cells(row)}
        writer.writerow([cells.get(name, "") for name in columns])
    return out.getvalue()


def write_ndjson(rows: Iterable[ExchangeRow]) -> str:
    lines = []
    for row in rows:
        obj: dict[str, object] = {"record_id": row.record_id, **row.values.fields}
        if row.values.documents:
            obj["documents"] = [{"type": t, "number": n} for t, n in row.values.documents]
        if row.values.attributes:
            obj["attributes"] = row.values.attributes
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)
