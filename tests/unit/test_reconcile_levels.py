"""The vectorised comparison levels equal `matching.compare` on random pairs (property tests),
the fast document parser equals `parse_documents`, and the record-level readings (one-sided
given/family swaps, a year slip that keeps the birthday) give the levels they should."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.compare import birth_date_level, name_level
from matching.documents import parse_documents
from reconcile.comparison import FIELD_LEVELS, PairLevels, compare_pairs
from reconcile.levels import DATE_CODES, NAME_CODES, date_levels, name_levels
from reconcile.prepare import DOCUMENT_TYPES, RunSpaces, document_numbers, prepare
from reconcile.spaces import DateSpace, NameSpace
from reconcile.synthetic_names import FAMILY, FEMALE, MALE
from reconcile.synthetic_noise import GOP_NOISE, arabic_spelling, latin_spelling, typo
from reconcile.table import RecordTable

_POOL = MALE[:60] + FEMALE[:30] + FAMILY[:20]


@st.composite
def names(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32)))
    parts = [rng.choice(_POOL) for _ in range(draw(st.integers(1, 3)))]
    text = " ".join(
        arabic_spelling(rng, p) if rng.random() < 0.3 else latin_spelling(rng, p, GOP_NOISE)
        for p in parts
    )
    return typo(rng, text) if rng.random() < 0.2 else text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names(), names()), min_size=1, max_size=40))
def test_name_levels_equal_the_scalar_comparison(pairs: list[tuple[str, str]]) -> None:
    space = NameSpace()
    a = np.asarray([space.intern(x) for x, _ in pairs])
    b = np.asarray([space.intern(y) for _, y in pairs])
    expected = [
        NAME_CODES[name_level(space.keys[x], space.keys[y])] for x, y in zip(a, b, strict=True)
    ]
    assert name_levels(space, a, b).tolist() == expected


def test_name_levels_on_shared_pairs() -> None:
    space = NameSpace()
    pairs = [
        ("Mohammad", "محمد"),
        ("Shafiq", "Shafeeq"),
        ("Abdul Rahman", "Abdulrahman"),
        ("Mohammad Nabi", "Nabi"),
        ("Rukhsana", "Rukhsaa"),
        ("", "Ali"),
        ("Gul", "Khan"),
    ]
    a = np.asarray([space.intern(x) for x, _ in pairs])
    b = np.asarray([space.intern(y) for _, y in pairs])
    levels = [list(NAME_CODES)[code].value for code in name_levels(space, a, b)]
    assert levels == [
        "cross_script",
        "variant",
        "variant",
        "partial",
        "similar",
        "missing",
        "different",
    ]


@st.composite
def dates(draw: st.DrawFn) -> tuple[str, str]:
    solar = draw(st.booleans())
    year = draw(st.integers(1340, 1402)) if solar else draw(st.integers(1960, 2023))
    precision = draw(st.sampled_from(["year", "month", "day"]))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    text = str(year) if precision == "year" else f"{year}-{month:02d}"
    if precision == "day":
        text += f"-{day:02d}"
    return text, draw(st.sampled_from(["", "solar_hijri"])) if solar else ""


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(dates(), dates()), min_size=1, max_size=40))
def test_date_levels_equal_the_scalar_comparison(
    pairs: list[tuple[tuple[str, str], tuple[str, str]]],
) -> None:
    space = DateSpace()
    a = np.asarray([space.intern(*x) for x, _ in pairs])
    b = np.asarray([space.intern(*y) for _, y in pairs])
    expected = [
        DATE_CODES[birth_date_level(space.dates[x], space.dates[y])]
        for x, y in zip(a, b, strict=True)
    ]
    assert date_levels(space, a, b).tolist() == expected


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["por", "acc", "unhcr", "tazkira", "passport", "x"]),
            st.text("0123456789-ACPORK ۱۲/", max_size=16),
        ),
        max_size=4,
    )
)
def test_fast_document_parser_equals_parse_documents(entries: list[tuple[str, str]]) -> None:
    raw = ";".join(f"{kind}:{number}" for kind, number in entries)
    assert document_numbers(raw) == [(d.type, d.number) for d in parse_documents(raw)]


def _levels_of(left_rows: list[dict[str, str]], right_rows: list[dict[str, str]]) -> PairLevels:
    spaces = RunSpaces.new()
    left = prepare(spaces, RecordTable.from_rows(left_rows))
    right = prepare(spaces, RecordTable.from_rows(right_rows))
    li = np.repeat(np.arange(len(left)), len(right))
    ri = np.tile(np.arange(len(right)), len(left))
    return compare_pairs(spaces, left, right, li, ri)


def test_a_given_name_written_as_the_family_name_agrees_across_a_one_sided_swap() -> None:
    pairs = _levels_of(
        [
            {"record_id": "a", "given_name": "Barakzai", "family_name": "Faariba"},
            {"record_id": "b", "given_name": "Madina"},
        ],
        [
            {"record_id": "x", "given_name": "Fariba"},
            {"record_id": "y", "given_name": "Sadat", "family_name": "Madeena"},
        ],
    )
    given = [FIELD_LEVELS["given"][code] for code in pairs.levels["given"]]
    family = [FIELD_LEVELS["family"][code] for code in pairs.levels["family"]]
    # a~x: Faariba (family field) ~ Fariba; b~y: Madina ~ Madeena (family field)
    assert given[0] == "variant" and family[0] == "missing"
    assert given[3] == "variant" and family[3] == "missing"
    assert given[1] not in ("exact", "variant", "cross_script", "skeleton")
    assert (pairs.agreed_skeleton["given"][[0, 3]] != 0).all()


def test_a_year_slip_that_keeps_the_birthday_has_its_own_level() -> None:
    space = DateSpace()
    a = np.asarray([space.intern("1991-04-26", ""), space.intern("1991-01-01", "")])
    b = np.asarray([space.intern("1992-04-26", ""), space.intern("1992-01-01", "")])
    levels = [list(DATE_CODES)[code].value for code in date_levels(space, a, b)]
    assert levels == ["near_year_same_day", "near_year"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["por", "acc", "unhcr", "tazkira", "passport", "visa", "x", ""]),
                st.text("0123456789-ACPORK pk./_:۱۲", max_size=16),
            ),
            max_size=3,
        ).map(lambda entries: ";".join(f"{kind}:{number}" for kind, number in entries)),
        min_size=1,
        max_size=30,
    )
)
def test_documents_read_in_bulk_equal_the_per_value_parser(values: list[str]) -> None:
    table = RecordTable.from_rows(
        [{"record_id": str(i), "documents": v} for i, v in enumerate(values)]
    )
    spaces = RunSpaces.new()
    found = prepare(spaces, table).documents
    numbers = np.asarray(spaces.documents.values, dtype=object)
    for row, value in zip(found.tolist(), values, strict=True):
        expected: dict[str, str] = {}
        for kind, number in document_numbers(value):
            if kind in DOCUMENT_TYPES:
                expected.setdefault(kind, number)
        got = {DOCUMENT_TYPES[i]: numbers[n] for i, n in enumerate(row) if n}
        assert got == expected, value
