"""The column-wise fast path of imports accepts exactly what the row path accepts, with the same
values and the same plan; anything it does not accept goes to the row path, which reports it."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.afghan_lists import write_pipeline_csv
from exchange import import_plan
from exchange.exchange_format import ExchangeRow, ParseResult, iter_exchange, parse_exchange
from exchange.import_plan import ImportPlan, PlanContext, plan_import, plan_new_records
from exchange.repository import _copy_text
from schemas.types import utcnow


def _comparable(rows: list[ExchangeRow]) -> list[tuple[object, ...]]:
    # field order matters: it is the key order of each version's stored snapshot
    return [
        (
            r.row,
            r.record_id,
            list(r.values.fields.items()),
            r.values.documents,
            list(r.values.attributes.items()),
            r.values.dob_range,
        )
        for r in rows
    ]


def _row_path(data: bytes) -> ParseResult:
    """The same file checked row by row: a repeat of its first record id at its end sends its
    only chunk down the row path, and is one more rejection (the last)."""
    header, first = list(csv.reader(io.StringIO(data.decode(), newline="")))[:2]
    repeat = ",".join([first[header.index("record_id")], *[""] * (len(header) - 1)])
    result = parse_exchange(data + f"{repeat}\n".encode(), "csv")
    assert result.columns is None
    assert result.rejected[-1].field == "record_id"
    return result


@pytest.fixture(scope="module")
def pipeline_csv(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("lists") / "pipeline.csv"
    return write_pipeline_csv(path, 3000, seed=7).read_bytes()


def _counted_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """New record ids that repeat from one plan to the next (they are random otherwise)."""
    counter = itertools.count()
    monkeypatch.setattr(
        import_plan, "time_ordered_ids", lambda n: [f"id-{next(counter)}" for _ in range(n)]
    )


def test_a_valid_file_is_checked_column_wise_with_the_row_paths_values(pipeline_csv: bytes) -> None:
    [chunk] = list(iter_exchange(pipeline_csv, "csv", 10_000))
    assert chunk.columns is not None and chunk.rejected == []
    assert _comparable(chunk.rows) == _comparable(_row_path(pipeline_csv).rows)


def _plans_equal(a: ImportPlan, b: ImportPlan) -> None:
    assert a.new_records == b.new_records
    assert a.documents == b.documents
    assert a.versions == b.versions
    assert (a.updates, a.replaced_document_owners, a.unchanged) == ([], [], 0)
    assert (b.updates, b.replaced_document_owners, b.unchanged) == ([], [], 0)
    # and the COPY text the bulk path writes is the same
    assert _copy_text(a.new_records) == _copy_text(b.new_records)


def test_the_column_plan_equals_the_row_plan(
    pipeline_csv: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    context = PlanContext("list-1", "client-1", now, now.isoformat(sep=" "))
    [chunk] = list(iter_exchange(pipeline_csv, "csv", 10_000))
    assert chunk.columns is not None
    _counted_ids(monkeypatch)
    by_columns = plan_new_records(chunk.columns, context)
    _counted_ids(monkeypatch)
    _plans_equal(by_columns, plan_import(chunk.rows, {}, context))


@pytest.mark.parametrize(
    ("cell", "column"),
    [
        ("x" * 201, "given_name"),
        ("M\x07", "given_name"),
        ("Q", "sex"),
        ("1990-13-01", "dob"),
        ("nope:123", "documents"),
        ("passport:---", "documents"),
        ("", "record_id"),
        ("a" * 1001, "employer"),
    ],
)
def test_a_bad_cell_sends_its_chunk_to_the_row_path(cell: str, column: str) -> None:
    header = ["record_id", "given_name", "sex", "dob", "documents", "employer"]
    rows = [[f"R{i}", "Mohammad", "M", "1984", "passport:P1", "ACME"] for i in range(5)]
    rows[3][header.index(column)] = cell
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    chunks = list(iter_exchange(out.getvalue().encode(), "csv", 2))
    # rows 3-4 are the second chunk: only it is checked row by row, and row 4 is named
    assert [c.columns is not None for c in chunks] == [True, False, True]
    assert [r.row for c in chunks for r in c.rejected] == [4]
    assert len([row for c in chunks for row in c.rows]) == 4


def test_duplicates_across_chunks_are_found() -> None:
    data = b"record_id,given_name\nA,x\nB,y\nA,z\n"
    chunks = list(iter_exchange(data, "csv", 2))
    assert chunks[0].columns is not None
    [rejection] = chunks[1].rejected
    assert rejection.row == 3 and "first at row 1" in rejection.reason


_cell = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", " a ", "Ab", "\u0645\u062d\u0645\u062f", "x\ty"]),
            st.sampled_from(["", "m", "F ", "x", "Z"]),
            st.sampled_from(["", "1984", "1362", " 2001-02-03", "1984-02-30", "3000"]),
            st.sampled_from(["", "solar_hijri", "GREGORIAN", "julian"]),
            st.sampled_from(["", "passport:P1", "tazkira:1400-01;por:9", "x:1", "passport"]),
            _cell,
        ),
        min_size=1,
        max_size=6,
    )
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_both_paths_agree_on_any_grid(cells: list[tuple[str, ...]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["record_id", "given_name", "sex", "dob", "dob_calendar", "documents", "x"])
    writer.writerows([f"R{i}", *row] for i, row in enumerate(cells))
    data = out.getvalue().encode()
    fast = parse_exchange(data, "csv")
    slow = _row_path(data)
    assert _comparable(fast.rows) == _comparable(slow.rows)
    assert fast.rejected == slow.rejected[:-1]


def test_bench_lists_take_the_fast_path(tmp_path: Path) -> None:
    data = write_pipeline_csv(tmp_path / "p.csv", 500, seed=1).read_bytes()
    chunks = [chunk for chunk in iter_exchange(data, "csv", 100) if chunk.received]
    assert len(chunks) == 5 and all(chunk.columns is not None for chunk in chunks)
