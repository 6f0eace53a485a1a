"""Parse the exchange format of domain.md (CSV with a header row, or NDJSON) into validated rows
and row-level rejections, and write rows back out.

Row numbers: `row` is the 1-based position of a data record in the file. The CSV header is not
a data record, and blank lines are skipped in both formats without being counted; `row` 0 means
a problem with the file as a whole (encoding, header). A rejection names the row, the field and
the reason, never the rejected value: it is personal data.

A CSV chunk is first checked column by column (`exchange.columns`, the import's fast path);
a chunk that path does not wholly accept, and all NDJSON, is validated row by row here."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

from exchange.bulk_gc import gc_paused
from exchange.columns import CsvLayout, ValidColumns, validate_columns
from exchange.field_rules import (
    KNOWN_COLUMNS,
    SCALAR_FIELDS,
    FieldError,
    RecordValues,
    attribute_problems,
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


class ParseResult:
    """One chunk (or a whole file): its valid rows, every rejection, and how many records it
    held. A chunk the column-wise path accepted keeps its values in `columns`; `rows` are then
    built only when asked for (an import into an empty list plans from the columns)."""

    __slots__ = ("_rows", "columns", "received", "rejected")

    def __init__(
        self,
        rows: list[ExchangeRow] | None = None,
        rejected: list[RowRejection] | None = None,
        received: int = 0,
        columns: ValidColumns | None = None,
    ) -> None:
        self._rows = rows
        self.rejected: list[RowRejection] = [] if rejected is None else rejected
        self.received = received
        self.columns = columns

    @property
    def rows(self) -> list[ExchangeRow]:
        if self._rows is None:
            self._rows = [] if self.columns is None else _exchange_rows(self.columns)
        return self._rows


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
    seen: dict[str, int] = {}
    if fmt == "csv":
        csv_file = _CsvFile(text, problems)
        records = csv_file.records()
        check: Callable[[list[_Record], dict[str, int]], ParseResult] = csv_file.check
    else:
        records = _ndjson_records(text)
        check = _check_json_rows
    batch: list[_Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= chunk_rows:
            yield check(batch, seen)
            batch = []
    chunk = check(batch, seen)
    chunk.rejected[:0] = problems
    yield chunk


def _check_json_rows(batch: list[_Record], seen: dict[str, int]) -> ParseResult:
    return _check_rows(batch, seen, None)


def _check_rows(
    batch: list[_Record],
    seen: dict[str, int],
    from_cells: Callable[[list[str]], _RawRecord] | None,
) -> ParseResult:
    """Validate record by record: the path that reports each rejected row, field and reason."""
    chunk = ParseResult(rows=[])
    for row_no, record in batch:
        if isinstance(record, list):
            assert from_cells is not None  # only CSV reads cells
            raw = from_cells(record)
        else:
            raw = record
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
    return chunk


def _exchange_rows(columns: ValidColumns) -> list[ExchangeRow]:
    """The rows of a chunk the column-wise path accepted, as the row path makes them."""
    names = list(columns.scalars)
    count = len(columns.record_ids)
    cells = zip(*columns.scalars.values(), strict=True) if names else [()] * count
    return [
        ExchangeRow(
            row_no,
            record_id,
            RecordValues(
                fields={n: v for n, v in zip(names, values, strict=True) if v is not None},
                documents=[(doc_type, number) for doc_type, number, _ in documents],
                attributes=attributes,
                dob_range=span,
            ),
        )
        for row_no, record_id, values, documents, attributes, span in zip(
            columns.row_numbers,
            columns.record_ids,
            cells,
            columns.documents,
            columns.attributes,
            columns.dob_ranges,
            strict=True,
        )
    ]


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
    errors += attribute_problems(raw.attributes)
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


# A record as read: its 1-based row number, and its cells (a CSV row as wide as the header) or
# its raw values (NDJSON, or a CSV row that could not be read).
_Record = tuple[int, "list[str] | _RawRecord"]


class _CsvFile:
    """A CSV file's header, read at once (header problems go to `problems`), and its rows."""

    def __init__(self, text: str, problems: list[RowRejection]) -> None:
        self.problems = problems
        self.reader = csv.reader(io.StringIO(text, newline=""), strict=False)
        self.layout: CsvLayout | None = None
        try:
            header = next(self.reader, None)
            while header is not None and not header:
                header = next(self.reader, None)  # leading blank lines
        except csv.Error:
            header = None
        if header is None:
            problems.append(RowRejection(0, None, "file has no header row"))
            return
        columns = [_canonical(name) for name in header]
        if not _header_ok(columns, problems):
            return
        self.width = len(columns)
        self.layout = CsvLayout(
            record_id_at=columns.index("record_id"),
            scalar_at=tuple((i, name) for i, name in enumerate(columns) if name in SCALAR_FIELDS),
            documents_at=columns.index("documents") if "documents" in columns else None,
            attribute_at=tuple((i, n) for i, n in enumerate(columns) if n not in KNOWN_COLUMNS),
        )
        # the row path reads record_id with the exchange fields, last
        picked = [*self.layout.scalar_at, (self.layout.record_id_at, "record_id")]
        self.scalar_names = [name for _, name in picked]
        self.pick_scalars = _picker([i for i, _ in picked])

    def records(self) -> Iterator[_Record]:
        if self.layout is None:
            return
        width = self.width
        row_no = 0
        while True:
            try:
                cells = next(self.reader, None)
            except csv.Error:
                self.problems.append(RowRejection(row_no + 1, None, "malformed CSV"))
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
            yield row_no, cells

    def raw(self, cells: list[str]) -> _RawRecord:
        """A row's cells as the row path takes them."""
        assert self.layout is not None  # rows are only read after a good header
        raw = _RawRecord(dict(zip(self.scalar_names, self.pick_scalars(cells), strict=True)))
        if self.layout.documents_at is not None:
            raw.documents = cells[self.layout.documents_at]
        raw.attributes = {
            name: value for i, name in self.layout.attribute_at if (value := cells[i].strip())
        }
        return raw

    def check(self, batch: list[_Record], seen: dict[str, int]) -> ParseResult:
        """Column-wise when the chunk is wholly valid, else row by row."""
        cells = [record for _, record in batch if isinstance(record, list)]
        if self.layout is not None and cells and len(cells) == len(batch):  # all readable
            row_numbers = [row_no for row_no, _ in batch]
            columns = validate_columns(cells, row_numbers, self.layout, seen)
            if columns is not None:
                return ParseResult(received=len(batch), columns=columns)
        return _check_rows(batch, seen, self.raw)


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
    # by position, never by name: a file whose first row is data has personal data there
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(columns, start=1):
        if name:
            positions.setdefault(name, []).append(position)
    repeated = [
        "columns " + ", ".join(map(str, at[:-1])) + f" and {at[-1]}"
        for at in positions.values()
        if len(at) > 1
    ]
    if repeated:
        problems.append("header repeats a column name: " + "; ".join(repeated))
    rejected.extend(RowRejection(0, None, reason) for reason in problems)
    return not problems


def _ndjson_records(text: str) -> Iterator[_Record]:
    # split on "\n" only: str.splitlines would also split on U+2028 inside JSON strings
    row_no = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        row_no += 1
        try:
            obj = _JSON_ROW.decode(line)
        except (ValueError, RecursionError):
            yield row_no, _RawRecord({}, errors=[(None, "is not valid JSON")])
            continue
        if not isinstance(obj, dict):
            yield row_no, _RawRecord({}, errors=[(None, "must be a JSON object")])
            continue
        # the text was decoded as strict UTF-8, so only a `\uD800`-`\uDFFF` escape can write
        # a lone surrogate: lines without one (nearly all) need no search for it
        yield row_no, _json_record(obj, escaped="\\ud" in line or "\\uD" in line)


_GIVEN_TWICE = "is given twice"
_TWICE_INSIDE = "holds an object that gives a key twice"
# a lone surrogate is no Unicode text: nothing downstream can encode it (orjson, the database)
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NOT_UNICODE = "is not valid Unicode text (a lone surrogate)"
_NAME_NOT_UNICODE = "has a field name that is not valid Unicode text (a lone surrogate)"


class _KeysGivenTwice(dict[str, object]):
    """A JSON object that gave a key more than once, of which `json.loads` would silently keep
    the last value: `twice` are those keys."""

    __slots__ = ("twice",)
    twice: list[str]


def _json_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    repeated = _KeysGivenTwice(obj)
    counts = Counter(key for key, _ in pairs)
    repeated.twice = [key for key, count in counts.items() if count > 1]
    return repeated


# one decoder for every row: `json.loads` with a hook builds a new one per call, which cost
# more than the parsing itself
_JSON_ROW = json.JSONDecoder(object_pairs_hook=_json_object)


def _json_fields(
    obj: dict[str, object],
    name_of: Callable[[str], str],
    escaped: bool,
    raw: _RawRecord,
    apart: str | None = None,
) -> Iterator[tuple[str, object]]:
    """An object's fields, each by the name it goes by. A value that cannot be taken as sent
    is rejected on `raw` (but field `apart`'s: its own reader checks it) and yielded all the
    same: its row is rejected anyway, and the text rules are safe on any string. A field whose
    own name is not Unicode is skipped: a rejection could not name it, so it is the row's."""
    twice = obj.twice if isinstance(obj, _KeysGivenTwice) else ()
    for key, value in obj.items():
        if escaped and _LONE_SURROGATE.search(key):
            raw.errors.append((None, _NAME_NOT_UNICODE))
            continue
        name = name_of(key)
        if key in twice:
            raw.errors.append((name, _GIVEN_TWICE))
        # a string is checked only in a line that escapes a surrogate: the common case is free
        checked = name != apart and (escaped or not isinstance(value, str))
        if checked and (problem := _value_problem(value, escaped)):
            raw.errors.append((name, problem))
        yield name, value


def _value_problem(value: object, escaped: bool) -> str | None:
    """Why a value, nested ones included, cannot be taken as sent, or None. A walk, not a
    recursion: json.loads nests as deep as the interpreter's recursion limit allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if escaped and _LONE_SURROGATE.search(item):
                return _NOT_UNICODE
        elif isinstance(item, _KeysGivenTwice):
            return _TWICE_INSIDE
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _json_record(obj: dict[str, object], escaped: bool) -> _RawRecord:
    raw = _RawRecord({})
    # the attributes object is read apart: its values are checked under their own names
    for name, value in _json_fields(obj, _canonical, escaped, raw, apart=_RESERVED):
        if name == _RESERVED:
            _json_attributes(value, escaped, raw)
        elif name in raw.scalars or (name == "documents" and raw.documents is not None):
            raw.errors.append((name, _GIVEN_TWICE))
        elif name in SCALAR_FIELDS or name == "record_id":
            raw.scalars[name] = _json_scalar(name, value, raw)
        elif name == "documents":
            raw.documents = _json_documents(value, raw)
        elif value is not None and (text := _json_text(value)):
            _add_attribute(raw, name, text)
    return raw


def _add_attribute(raw: _RawRecord, name: str, text: str) -> None:
    """Keep an agency field, refusing a second value for it (at the top level and inside
    `attributes`, or under names equal once trimmed): one of them would be silently lost."""
    if name in raw.attributes:
        raw.errors.append((name, _GIVEN_TWICE))
    else:
        raw.attributes[name] = text


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


def _json_attributes(value: object, escaped: bool, raw: _RawRecord) -> None:
    if value is None:  # null is "no value" here as for every other field
        return
    if not isinstance(value, dict):
        raw.errors.append((_RESERVED, "must be an object"))
        return
    for name, item in _json_fields(value, str.strip, escaped, raw):
        if item is not None and (text := _json_text(item)):
            _add_attribute(raw, name, text)


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
