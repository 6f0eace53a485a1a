"""Date-of-birth comparison levels, across calendars through the Gregorian ranges."""

import datetime

from matching.dates import BirthDate
from matching.evidence import DateLevel, FieldComparison

_PHRASES = {
    DateLevel.EXACT: "DOB agrees ({a})",
    DateLevel.SWAPPED: "DOB day and month swapped ({a}~{b})",
    DateLevel.NEAR_YEAR_SAME_DAY: "DOB day agrees, year differs by one ({a}~{b})",
    DateLevel.SAME_MONTH: "DOB month agrees ({a}~{b})",
    DateLevel.YEAR_ONLY: "DOB year agrees ({a}~{b})",
    DateLevel.SAME_YEAR: "DOB year agrees, month differs ({a}~{b})",
    DateLevel.NEAR_YEAR: "DOB year differs by one ({a}~{b})",
    DateLevel.DIFFERENT: "DOB differs ({a}≠{b})",
    DateLevel.MISSING: "DOB missing",
}


def _fields(date: BirthDate, gregorian: bool) -> tuple[int, int | None, int | None]:
    """(year, month, day) as evidence: a 1 January placeholder keeps only its year.

    With `gregorian`, a Solar Hijri value must be an exact day, which converts exactly.
    """
    if gregorian and date.calendar != "gregorian":
        return date.earliest.year, date.earliest.month, date.earliest.day
    if date.january_first:
        return date.year, None, None
    return date.year, date.month, date.day


def _year_span(date: BirthDate, gregorian: bool) -> tuple[int, int]:
    if gregorian and date.calendar != "gregorian":
        first, last = date.evidence_range
        return first.year, last.year
    return date.year, date.year


def _overlap(
    a: tuple[datetime.date, datetime.date], b: tuple[datetime.date, datetime.date]
) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def birth_date_level(a: BirthDate | None, b: BirthDate | None) -> DateLevel:
    """Agreement level of two dates of birth, possibly in different calendars."""
    if a is None or b is None:
        return DateLevel.MISSING
    precisions = a.evidence_precision, b.evidence_precision
    # Across calendars only exact days convert to comparable fields; coarser values compare
    # by the Gregorian days they can denote (SH 1370 overlaps both 1991 and 1992).
    gregorian = a.calendar != b.calendar
    if precisions == ("day", "day") or not gregorian:
        return _level_by_fields(a, b, gregorian)
    if "year" not in precisions and _overlap(a.evidence_range, b.evidence_range):
        return DateLevel.SAME_MONTH
    return _level_by_years(_year_span(a, True), _year_span(b, True), "year" in precisions)


def _level_by_fields(a: BirthDate, b: BirthDate, gregorian: bool) -> DateLevel:
    year_a, month_a, day_a = _fields(a, gregorian)
    year_b, month_b, day_b = _fields(b, gregorian)
    if year_a == year_b:
        if month_a is None or month_b is None:
            return DateLevel.YEAR_ONLY
        if month_a == month_b:
            exact = day_a is not None and day_a == day_b
            return DateLevel.EXACT if exact else DateLevel.SAME_MONTH
        if (month_a, day_a) == (day_b, month_b):
            return DateLevel.SWAPPED
        return DateLevel.SAME_YEAR
    # a slip of the year alone (a clerk's typo, a miscounted age) keeps the birthday, which a
    # namesake born a year apart shares only by a 1-in-365 chance
    same_day = None not in (month_a, day_a) and (month_a, day_a) == (month_b, day_b)
    if abs(year_a - year_b) == 1 and same_day:
        return DateLevel.NEAR_YEAR_SAME_DAY
    return _level_by_years((year_a, year_a), (year_b, year_b), year_only=False)


def _level_by_years(a: tuple[int, int], b: tuple[int, int], year_only: bool) -> DateLevel:
    gap = max(a[0] - b[1], b[0] - a[1])
    if gap <= 0:
        return DateLevel.YEAR_ONLY if year_only else DateLevel.SAME_YEAR
    return DateLevel.NEAR_YEAR if gap == 1 else DateLevel.DIFFERENT


def compare_birth_dates(a: BirthDate | None, b: BirthDate | None) -> FieldComparison:
    """Compare dates of birth; the phrase names both values, e.g. `DOB year agrees`."""
    level = birth_date_level(a, b)
    phrase = _PHRASES[level].format(a=a.label if a else "", b=b.label if b else "")
    return FieldComparison("dob", level, phrase)
