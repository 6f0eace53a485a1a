"""Birth-date parsing, Solar Hijri conversion and date comparison levels."""

import datetime

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from matching.compare_dates import birth_date_level, compare_birth_dates
from matching.dates import LONGEST_SPAN, BirthDate, gregorian_to_solar_hijri, parse_birth_date
from matching.evidence import DateLevel
from matching.solar_hijri import (
    FIRST_SUPPORTED_YEAR,
    LAST_SUPPORTED_YEAR,
    is_leap_year,
    month_length,
    solar_hijri_to_gregorian,
)

TODAY = datetime.date(2026, 11, 27)
EXTENDED_ARABIC_INDIC_DIGITS = str.maketrans(
    "0123456789", "".join(chr(0x06F0 + d) for d in range(10))
)

# Published Nowruz dates and the brief's anchors (1403 is a leap year, 1404 is not).
ANCHORS = [
    ((1370, 1, 1), datetime.date(1991, 3, 21)),
    ((1375, 12, 30), datetime.date(1997, 3, 20)),
    ((1399, 12, 30), datetime.date(2021, 3, 20)),
    ((1400, 1, 1), datetime.date(2021, 3, 21)),
    ((1403, 1, 1), datetime.date(2024, 3, 20)),
    ((1403, 12, 30), datetime.date(2025, 3, 20)),
    ((1404, 1, 1), datetime.date(2025, 3, 21)),
    ((1357, 7, 1), datetime.date(1978, 9, 23)),
    ((1300, 1, 1), datetime.date(1921, 3, 21)),
]


@pytest.mark.parametrize(("solar_hijri", "gregorian"), ANCHORS)
def test_anchor_dates_convert_both_ways(
    solar_hijri: tuple[int, int, int], gregorian: datetime.date
) -> None:
    assert solar_hijri_to_gregorian(*solar_hijri) == gregorian
    assert gregorian_to_solar_hijri(gregorian) == solar_hijri


def test_every_day_of_1300_to_1450_round_trips_and_days_are_consecutive() -> None:
    expected = solar_hijri_to_gregorian(1300, 1, 1)
    for year in range(1300, 1451):
        assert sum(month_length(year, m) for m in range(1, 13)) == (
            366 if is_leap_year(year) else 365
        )
        for month in range(1, 13):
            for day in range(1, month_length(year, month) + 1):
                gregorian = solar_hijri_to_gregorian(year, month, day)
                assert gregorian == expected
                assert gregorian_to_solar_hijri(gregorian) == (year, month, day)
                expected += datetime.timedelta(days=1)


@given(
    st.dates(
        min_value=solar_hijri_to_gregorian(FIRST_SUPPORTED_YEAR, 1, 1),
        max_value=solar_hijri_to_gregorian(LAST_SUPPORTED_YEAR, 12, 29),
    )
)
def test_gregorian_round_trips_through_solar_hijri(date: datetime.date) -> None:
    assert solar_hijri_to_gregorian(*gregorian_to_solar_hijri(date)) == date


def test_year_only_solar_hijri_denotes_nowruz_to_nowruz() -> None:
    parsed = parse_birth_date("1370", today=TODAY)
    assert parsed == BirthDate(
        raw="1370",
        calendar="solar_hijri",
        precision="year",
        year=1370,
        month=None,
        day=None,
        earliest=datetime.date(1991, 3, 21),
        latest=datetime.date(1992, 3, 20),
        january_first=False,
    )


@pytest.mark.parametrize(
    ("raw", "calendar", "expected_calendar", "earliest", "latest"),
    [
        ("1991", None, "gregorian", datetime.date(1991, 1, 1), datetime.date(1991, 12, 31)),
        (
            "1991-02",
            "gregorian",
            "gregorian",
            datetime.date(1991, 2, 1),
            datetime.date(1991, 2, 28),
        ),
        ("1992-02", None, "gregorian", datetime.date(1992, 2, 1), datetime.date(1992, 2, 29)),
        ("1991-12", None, "gregorian", datetime.date(1991, 12, 1), datetime.date(1991, 12, 31)),
        ("1370-05", None, "solar_hijri", datetime.date(1991, 7, 23), datetime.date(1991, 8, 22)),
        (
            "1370-05-12",
            "solar_hijri",
            "solar_hijri",
            datetime.date(1991, 8, 3),
            datetime.date(1991, 8, 3),
        ),
        # Mislabelled: the exchange format defaults to gregorian, a 13xx year cannot be Gregorian.
        (
            "1370",
            "gregorian",
            "solar_hijri",
            datetime.date(1991, 3, 21),
            datetime.date(1992, 3, 20),
        ),
        (
            "1370/05/12".translate(EXTENDED_ARABIC_INDIC_DIGITS),
            "",
            "solar_hijri",
            datetime.date(1991, 8, 3),
            datetime.date(1991, 8, 3),
        ),
        (" 1990.7.4 ", None, "gregorian", datetime.date(1990, 7, 4), datetime.date(1990, 7, 4)),
    ],
)
def test_parse_ranges(
    raw: str,
    calendar: str | None,
    expected_calendar: str,
    earliest: datetime.date,
    latest: datetime.date,
) -> None:
    parsed = parse_birth_date(raw, calendar, today=TODAY)
    assert (parsed.calendar, parsed.earliest, parsed.latest) == (
        expected_calendar,
        earliest,
        latest,
    )
    assert parsed.raw == raw


@pytest.mark.parametrize(
    ("raw", "calendar"), [("1990-01-01", None), ("1370-01-01", None), ("1370-1-1", "solar_hijri")]
)
def test_first_of_year_is_only_year_evidence(raw: str, calendar: str | None) -> None:
    parsed = parse_birth_date(raw, calendar, today=TODAY)
    assert parsed.precision == "day"
    assert parsed.january_first
    assert parsed.evidence_precision == "year"
    first, last = parsed.evidence_range
    assert first == parsed.earliest
    assert (last - first).days in (364, 365)


@pytest.mark.parametrize(
    ("raw", "calendar", "problem"),
    [
        ("", None, "YYYY"),
        ("12/05/1990", None, "YYYY"),
        ("1990-05-12T00:00", None, "YYYY"),
        ("1990-13", None, "month 13"),
        ("1370-13-01", None, "month 13"),
        ("1990-04-31", None, "day 31"),
        ("1990-02-29", None, "day 29"),
        ("1402-12-30", None, "day 30"),
        ("1370-07-31", None, "day 31"),
        ("2027", None, "future"),
        ("2026-11-28", None, "future"),
        ("1406", None, "future"),
        ("1990", "solar_hijri", "Solar Hijri"),
        ("1650", None, "plausible"),
        ("1990", "julian", "calendar"),
    ],
)
def test_parse_rejects_with_a_named_problem(raw: str, calendar: str | None, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_birth_date(raw, calendar, today=TODAY)


def test_today_is_accepted() -> None:
    assert parse_birth_date("2026-11-27", today=TODAY).latest == TODAY


@given(st.text(), st.sampled_from([None, "gregorian", "solar_hijri", "x"]))
def test_parse_returns_or_raises_value_error_on_any_text(raw: str, calendar: str | None) -> None:
    try:
        parsed = parse_birth_date(raw, calendar)
    except ValueError:
        return
    assert parsed.earliest <= parsed.latest <= parsed.earliest + LONGEST_SPAN
    assert parsed.earliest <= datetime.date.today()


@given(
    st.from_regex(r"\A[0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?\Z"),
    st.sampled_from([None, "solar_hijri"]),
)
def test_parse_returns_or_raises_value_error_on_date_shaped_text(
    raw: str, calendar: str | None
) -> None:
    try:
        parsed = parse_birth_date(raw, calendar)
    except ValueError:
        return
    assert parsed.earliest <= parsed.latest <= parsed.earliest + LONGEST_SPAN
    assert parsed.precision == ("year", "month", "day")[raw.count("-")]


@given(st.integers(1300, 2026), st.sampled_from([None, "gregorian", "solar_hijri"]))
def test_no_year_spans_more_than_the_longest_span(year: int, calendar: str | None) -> None:
    """Verification by name bounds its index range with LONGEST_SPAN: a longer span would
    lose candidates."""
    try:
        parsed = parse_birth_date(str(year), calendar, today=TODAY)
    except ValueError:
        reject()  # not a plausible birth year in that calendar
    assert parsed.latest - parsed.earliest <= LONGEST_SPAN
    assert parsed.evidence_range[1] - parsed.evidence_range[0] <= LONGEST_SPAN


def _date(raw: str, calendar: str | None = None) -> BirthDate:
    return parse_birth_date(raw, calendar, today=TODAY)


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("1991-05-12", "1991-05-12", DateLevel.EXACT),
        ("1991-05-12", "1991-12-05", DateLevel.SWAPPED),
        ("1991-05-12", "1991-05-20", DateLevel.SAME_MONTH),
        ("1991-05", "1991-05-20", DateLevel.SAME_MONTH),
        ("1991-05", "1991-05", DateLevel.SAME_MONTH),
        ("1991", "1991-05-20", DateLevel.YEAR_ONLY),
        ("1991", "1991", DateLevel.YEAR_ONLY),
        ("1991-01-01", "1991-05-20", DateLevel.YEAR_ONLY),
        ("1991-01-01", "1991-01-01", DateLevel.YEAR_ONLY),  # placeholder on both sides
        ("1991-03-01", "1991-05-20", DateLevel.SAME_YEAR),
        ("1991-05-12", "1992-05-12", DateLevel.NEAR_YEAR_SAME_DAY),
        ("1991-05-12", "1992-05-13", DateLevel.NEAR_YEAR),
        ("1991-01-01", "1992-01-01", DateLevel.NEAR_YEAR),  # placeholders: only the years
        ("1990", "1991-01-01", DateLevel.NEAR_YEAR),
        ("1990", "1994", DateLevel.DIFFERENT),
        # Across calendars: exact days convert, coarser values compare by Gregorian range.
        ("1370-05-12", "1991-08-03", DateLevel.EXACT),
        ("1370-05-12", "1991-08-04", DateLevel.SAME_MONTH),
        ("1370-05", "1991-08-03", DateLevel.SAME_MONTH),
        ("1370", "1991-06-01", DateLevel.YEAR_ONLY),
        ("1370", "1992-02-01", DateLevel.YEAR_ONLY),  # SH 1370 runs into March 1992
        ("1370", "1992", DateLevel.YEAR_ONLY),
        ("1370-01-01", "1991-07-01", DateLevel.YEAR_ONLY),  # 1 Farvardin is a placeholder too
        ("1370", "1993", DateLevel.NEAR_YEAR),
        ("1370", "1989", DateLevel.DIFFERENT),
        ("1370-05", "1991-12", DateLevel.SAME_YEAR),
        ("1370", "1370-05-12", DateLevel.YEAR_ONLY),
        ("1370-05-12", "1370-12-05", DateLevel.SWAPPED),
        ("1370-05-12", "1371-05-12", DateLevel.NEAR_YEAR_SAME_DAY),
    ],
)
def test_birth_date_levels(a: str, b: str, level: DateLevel) -> None:
    assert birth_date_level(_date(a), _date(b)) is level
    assert birth_date_level(_date(b), _date(a)) is level


def test_missing_dates() -> None:
    assert birth_date_level(None, _date("1990")) is DateLevel.MISSING
    assert compare_birth_dates(None, None).phrase == "DOB missing"


def test_date_phrases() -> None:
    assert compare_birth_dates(_date("1370"), _date("1991-06-01")).phrase == (
        "DOB year agrees (1370 SH~1991-06-01)"
    )
    assert compare_birth_dates(_date("1991-05-12"), _date("1991-12-05")).phrase == (
        "DOB day and month swapped (1991-05-12~1991-12-05)"
    )


@given(st.dates(min_value=datetime.date(1921, 3, 21), max_value=TODAY))
def test_a_day_matches_itself_in_both_calendars(day: datetime.date) -> None:
    year, month, day_of_month = gregorian_to_solar_hijri(day)
    gregorian = _date(day.isoformat())
    solar_hijri = _date(f"{year}-{month:02d}-{day_of_month:02d}")
    expected = (
        DateLevel.YEAR_ONLY
        if (day.month, day.day) == (1, 1) or month == day_of_month == 1
        else DateLevel.EXACT
    )
    assert birth_date_level(gregorian, solar_hijri) is expected
    assert birth_date_level(solar_hijri, gregorian) is expected


date_texts = st.builds(
    "{}{}".format,
    st.sampled_from(["1365", "1370", "1371", "1989", "1990", "1991", "1992"]),
    st.sampled_from(["", "-01", "-05", "-12"]).flatmap(
        lambda month: (
            st.sampled_from([month, month + "-01", month + "-05", month + "-12"])
            if month
            else st.just("")
        )
    ),
)


@given(date_texts, date_texts)
def test_date_levels_are_symmetric(a: str, b: str) -> None:
    assert birth_date_level(_date(a), _date(b)) is birth_date_level(_date(b), _date(a))
