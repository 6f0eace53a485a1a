"""Document number normalisation and exact / near-miss comparison."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from matching.documents import (
    Document,
    compare_documents,
    document_number_level,
    normalize_document_number,
    parse_documents,
)
from matching.evidence import DocumentLevel

EXTENDED_ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x06F0 + d) for d in range(10)))


@pytest.mark.parametrize(
    ("kind", "raw", "normalized"),
    [
        ("tazkira", "1400-0101-12345", "1400010112345"),
        ("tazkira", " 1400 0101 12345 ", "1400010112345"),
        ("tazkira", "1400-0101-12345".translate(EXTENDED_ARABIC_INDIC), "1400010112345"),
        ("unhcr", "123-45C67890", "1234567890"),
        ("unhcr", "123-45-67890", "1234567890"),
        ("UNHCR", "123 45c67890", "1234567890"),
        ("passport", "p01234567", "P01234567"),
        ("passport", "P-0123 4567", "P01234567"),
        ("por", "PoR-1234567", "1234567"),
        ("por", "por 1234567", "1234567"),
        ("acc", "ACC/000123", "000123"),
        ("acc", "ACCX12", "ACCX12"),  # a letter prefix that is not the type stays
        ("visa", "pk-2023/998", "PK2023998"),
    ],
)
def test_numbers_normalise_per_type(kind: str, raw: str, normalized: str) -> None:
    assert normalize_document_number(kind, raw) == normalized


kinds = st.sampled_from(["passport", "tazkira", "por", "acc", "unhcr", "visa", "exit_permit"])


@given(kinds, st.text())
def test_normalisation_is_idempotent(kind: str, raw: str) -> None:
    once = normalize_document_number(kind, raw)
    assert normalize_document_number(kind, once) == once
    assert once == once.upper()
    assert once.isascii()


def test_exchange_field_parses_into_documents() -> None:
    parsed = parse_documents("passport: p0123456 ; Tazkira:1400-0101-12345;acc:;visa;por:PoR 77")
    assert parsed == (
        Document("passport", "P0123456"),
        Document("tazkira", "1400010112345"),
        Document("por", "77"),
    )
    assert parse_documents(None) == ()


@given(st.text())
def test_parse_documents_never_crashes(raw: str) -> None:
    for document in parse_documents(raw):
        assert document.number


numbers = st.text(alphabet="0123456789", min_size=5, max_size=13)


@given(numbers, st.data())
def test_one_slip_is_a_near_miss(number: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(number) - 1))
    slip = data.draw(st.sampled_from(["substitute", "transpose", "insert", "delete"]))
    if slip == "substitute":
        digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != number[position]))
        mistyped = number[:position] + digit + number[position + 1 :]
    elif slip == "transpose":
        assume(position + 1 < len(number) and number[position] != number[position + 1])
        mistyped = (
            number[:position] + number[position + 1] + number[position] + number[position + 2 :]
        )
    elif slip == "insert":
        mistyped = number[:position] + data.draw(st.sampled_from("0123456789")) + number[position:]
    else:
        assume(len(number) > 5)
        mistyped = number[:position] + number[position + 1 :]
    assume(mistyped != number)
    assert document_number_level(number, mistyped) is DocumentLevel.NEAR
    assert document_number_level(mistyped, number) is DocumentLevel.NEAR


@given(numbers)
def test_identical_numbers_agree_and_two_far_slips_do_not(number: str) -> None:
    assert document_number_level(number, number) is DocumentLevel.EXACT
    flipped = {"0": "1"}
    first = flipped.get(number[0], "0")
    last = flipped.get(number[-1], "0")
    twice_mistyped = first + number[1:-1] + last
    assume(len(number) >= 5)
    assert document_number_level(number, twice_mistyped) is DocumentLevel.DIFFERENT


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("", "1234567", DocumentLevel.MISSING),
        ("1234", "1243", DocumentLevel.DIFFERENT),  # too short for a near miss to mean much
        ("12345", "12354", DocumentLevel.NEAR),
        ("P0123456", "PO123456", DocumentLevel.NEAR),
    ],
)
def test_number_levels(a: str, b: str, level: DocumentLevel) -> None:
    assert document_number_level(a, b) is level


def test_documents_compare_per_type_with_phrases() -> None:
    a = parse_documents(
        "por:1234567;unhcr:123-45C67890;passport:P0123456;tazkira:1400-0101-12345;acc:998877"
    )
    b = parse_documents(
        "por:1234576;unhcr:123-45-67890;passport:P012345;tazkira:1400-0101-12845;visa:1;"
        "acc:112233;acc:998878"
    )
    phrases = {outcome.field: outcome.phrase for outcome in compare_documents(a, b)}
    assert phrases == {
        "document:por": "PoR number has two adjacent digits swapped",
        "document:unhcr": "UNHCR individual number agrees",
        "document:passport": "passport number has one character missing or extra",
        "document:tazkira": "tazkira number differs by one digit",
        "document:acc": "ACC number differs by one digit",  # the closer of the two numbers
    }


def test_no_shared_document_type_gives_no_comparison() -> None:
    assert compare_documents(parse_documents("por:1234567"), parse_documents("acc:1234567")) == ()
