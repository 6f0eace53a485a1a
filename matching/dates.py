"""Birth dates as agencies send them: parsing `YYYY[-MM[-DD]]` in either calendar into a
Gregorian range, with Solar Hijri detection and placeholder (1 January) flagging."""

import datetime
import re
from dataclasses import dataclass
from typing import Literal

from matching.digits import to_ascii_digits
from matching.solar_hijri import (
    gregorian_to_solar_hijri,
    month_range,
    solar_hijri_to_gregorian,
    year_range,
)

__all__ = [
    "BirthDate",
    "Calendar",
    "Precision",
    "gregorian_to_solar_hijri",
    "parse_birth_date",
    "solar_hijri_to_gregorian",
]

Calendar = Literal["gregorian", "solar_hijri"]
Precision = Literal["year", "month", "day"]

# No living person was born before these years; a 13xx year can only be Solar Hijri.
EARLIEST_GREGORIAN_BIRTH_YEAR = 1880
SOLAR_HIJRI_BIRTH_YEARS = range(1259, 1500)  # 1259 SH = 1880; later years fail as "future"

_DATE_PATTERN = re.compile(r"(\d{4})(?:([-/.])(\d{1,2})(?:\2(\d{1,2}))?)?", re.ASCII)
_CALENDAR_NAMES: dict[str, Calendar | None] = {
    "": None,
    "gregorian": "gregorian",
    "solar_hijri": "solar_hijri",
    "solar hijri": "solar_hijri",
    "sh": "solar_hijri",
    "jalali": "solar_hijri",
    "shamsi": "solar_hijri",
    "persian": "solar_hijri",
}


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth as recorded, plus the Gregorian days it can denote."""

    raw: str  # as given
    calendar: Calendar  # calendar of year/month/day, after detection
    precision: Precision
    year: int
    month: int | None
    day: int | None
    earliest: datetime.date  # Gregorian range the recorded value denotes
    latest: datetime.date
    # Recorded as the first day of its year (1 January, or 1 Farvardin in Solar Hijri): the
    # usual placeholder for an unknown day, so only evidence of the year.
    january_first: bool

    @property
    def evidence_precision(self) -> Precision:
        """Precision the value is evidence for: a 1 January placeholder only proves the year."""
        return "year" if self.january_first else self.precision

    @property
    def evidence_range(self) -> tuple[datetime.date, datetime.date]:
        """Gregorian days consistent with the value, widened to the year for placeholders."""
        if self.january_first:
            return _year_range(self.calendar, self.year)
        return self.earliest, self.latest

    @property
    def label(self) -> str:
        """Human-readable form, e.g. `1370-05 SH` or `1991-08-13`."""
        return self.raw.strip() + (" SH" if self.calendar == "solar_hijri" else "")


# No parsed date spans more: a whole year, of either calendar (a Solar Hijri year runs from one
# Nowruz to the day before the next). Queries derive index bounds from it.
LONGEST_SPAN = datetime.timedelta(days=366)


def parse_birth_date(
    raw: str, calendar: str | None = None, *, today: datetime.date | None = None
) -> BirthDate:
    """Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (also `/` or `.` separators, Persian digits).

    `calendar` None means detect. A year in the Solar Hijri birth range is read as Solar Hijri
    even when labelled "gregorian", because the exchange format defaults the label to gregorian
    and such dates arrive unconverted. Raises ValueError naming the problem.
    """
    match = _DATE_PATTERN.fullmatch(to_ascii_digits(raw.strip()))
    if match is None:
        raise ValueError("date of birth must look like YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(match[1])
    month = int(match[3]) if match[3] else None
    day = int(match[4]) if match[4] else None
    resolved = _resolve_calendar(year, _calendar_name(calendar))
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month {month} is not 1-12")
    earliest, latest = _range(resolved, year, month, day)
    if earliest > (today or datetime.date.today()):
        raise ValueError("date of birth is in the future")
    precision: Precision = "day" if day is not None else "month" if month is not None else "year"
    return BirthDate(
        raw=raw,
        calendar=resolved,
        precision=precision,
        year=year,
        month=month,
        day=day,
        earliest=earliest,
        latest=latest,
        january_first=month == 1 and day == 1,
    )


def _calendar_name(calendar: str | None) -> Calendar | None:
    if calendar is None:
        return None
    try:
        return _CALENDAR_NAMES[calendar.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown calendar {calendar!r}") from None


def _resolve_calendar(year: int, declared: Calendar | None) -> Calendar:
    if declared == "solar_hijri":
        if year not in SOLAR_HIJRI_BIRTH_YEARS:
            raise ValueError(f"year {year} is not a plausible Solar Hijri birth year")
        return "solar_hijri"
    if year in SOLAR_HIJRI_BIRTH_YEARS:
        return "solar_hijri"
    if year < EARLIEST_GREGORIAN_BIRTH_YEAR:
        raise ValueError(f"year {year} is not a plausible birth year")
    return "gregorian"


def _range(
    calendar: Calendar, year: int, month: int | None, day: int | None
) -> tuple[datetime.date, datetime.date]:
    if day is not None:
        assert month is not None  # the pattern only captures a day after a month
        exact = _exact_date(calendar, year, month, day)
        return exact, exact
    if month is not None:
        return _month_range(calendar, year, month)
    return _year_range(calendar, year)


def _exact_date(calendar: Calendar, year: int, month: int, day: int) -> datetime.date:
    if calendar == "solar_hijri":
        return solar_hijri_to_gregorian(year, month, day)
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(f"day {day} does not exist in {year}-{month:02d}") from None


def _month_range(calendar: Calendar, year: int, month: int) -> tuple[datetime.date, datetime.date]:
    if calendar == "solar_hijri":
        return month_range(year, month)
    first = datetime.date(year, month, 1)
    next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
    return first, next_month - datetime.timedelta(days=1)


def _year_range(calendar: Calendar, year: int) -> tuple[datetime.date, datetime.date]:
    if calendar == "solar_hijri":
        return year_range(year)
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
