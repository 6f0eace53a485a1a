"""Exact Solar Hijri (Afghan/Iranian civil calendar) <-> Gregorian conversion for birth dates.

Hand-written rather than taken from jdatetime/persiantools: it is a few lines with no dependency.
The arithmetic 33-year rule (leap when year mod 33 is in LEAP_REMAINDERS) equals the astronomical
calendar for 1210-1501 SH (1831-2123), checked day by day against jdatetime and persiantools'
ICU4X-corrected table; the 2820-year rule would wrongly make 1403 a common year.
"""

import datetime

LEAP_REMAINDERS = frozenset({1, 5, 9, 13, 17, 22, 26, 30})
FIRST_SUPPORTED_YEAR = 1210
LAST_SUPPORTED_YEAR = 1501
MONTH_LENGTHS = (31, 31, 31, 31, 31, 31, 30, 30, 30, 30, 30, 29)

_ANCHOR_YEAR = 1400
_ANCHOR_NOWRUZ = datetime.date(2021, 3, 21).toordinal()  # 1 Farvardin 1400
_LEAPS_PER_CYCLE = len(LEAP_REMAINDERS)


def _check_year(year: int) -> None:
    if not FIRST_SUPPORTED_YEAR <= year <= LAST_SUPPORTED_YEAR:
        raise ValueError(
            f"Solar Hijri year {year} outside supported "
            f"{FIRST_SUPPORTED_YEAR}-{LAST_SUPPORTED_YEAR}"
        )


def is_leap_year(year: int) -> bool:
    """True when Esfand of this Solar Hijri year has 30 days."""
    return year % 33 in LEAP_REMAINDERS


def _leap_years_before(year: int) -> int:
    cycles, remainder = divmod(year, 33)
    return cycles * _LEAPS_PER_CYCLE + sum(1 for r in LEAP_REMAINDERS if r < remainder)


def _nowruz_ordinal(year: int) -> int:
    """Proleptic Gregorian ordinal of 1 Farvardin of `year`."""
    leap_days = _leap_years_before(year) - _leap_years_before(_ANCHOR_YEAR)
    return _ANCHOR_NOWRUZ + 365 * (year - _ANCHOR_YEAR) + leap_days


def month_length(year: int, month: int) -> int:
    if month == 12 and is_leap_year(year):
        return 30
    return MONTH_LENGTHS[month - 1]


def solar_hijri_to_gregorian(year: int, month: int, day: int) -> datetime.date:
    """Gregorian date of a Solar Hijri date; ValueError if it does not exist."""
    _check_year(year)
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not 1-12")
    if not 1 <= day <= month_length(year, month):
        raise ValueError(f"day {day} does not exist in Solar Hijri {year}-{month:02d}")
    days_before_month = sum(MONTH_LENGTHS[: month - 1])
    return datetime.date.fromordinal(_nowruz_ordinal(year) + days_before_month + day - 1)


def gregorian_to_solar_hijri(date: datetime.date) -> tuple[int, int, int]:
    """(year, month, day) in the Solar Hijri calendar for a Gregorian date."""
    ordinal = date.toordinal()
    year = date.year - 621  # Nowruz falls on 19-22 March, so this is right from Nowruz onwards
    if ordinal < _nowruz_ordinal(year):
        year -= 1
    _check_year(year)
    day_of_year = ordinal - _nowruz_ordinal(year)
    month = 1
    while month < 12 and day_of_year >= MONTH_LENGTHS[month - 1]:
        day_of_year -= MONTH_LENGTHS[month - 1]
        month += 1
    return year, month, day_of_year + 1


def year_range(year: int) -> tuple[datetime.date, datetime.date]:
    """First and last Gregorian day of a Solar Hijri year."""
    _check_year(year)
    last = _nowruz_ordinal(year + 1) - 1
    return datetime.date.fromordinal(_nowruz_ordinal(year)), datetime.date.fromordinal(last)


def month_range(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    """First and last Gregorian day of a Solar Hijri month."""
    first = solar_hijri_to_gregorian(year, month, 1)
    return first, first + datetime.timedelta(days=month_length(year, month) - 1)
