"""Validation of one record's exchange-format fields, shared by bulk import and corrections.

Values arrive as text (CSV cells, JSON strings); each rule returns the stored form or raises
`FieldError` with a reason that never repeats the value (it is personal data)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from exchange.countries import NATIONALITY_CODES
from exchange.keys import SEARCH_KEYS, document_key
from matching.dates import parse_birth_date
from schemas.vocabulary import RECORD_FIELDS, DocumentType, Relationship, Sex

PROGRAMS = frozenset({"SIV", "P1", "P2", "IV", "FTJ", "HP", "USC", "ASY"})
CALENDARS = frozenset({"gregorian", "solar_hijri"})
DOCUMENT_TYPES = frozenset(t.value for t in DocumentType)
MAX_DOCUMENTS = 20
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 64
MAX_ATTRIBUTE_VALUE = 1000
MAX_RECORD_ID = 128

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# free text of attributes may hold line breaks and tabs, nothing else below the space
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGIT = re.compile(r"\d")


class FieldError(ValueError):
    """A field's value is invalid; `reason` is safe to show (it never contains the value)."""


class BirthSpan(NamedTuple):
    """Gregorian days a recorded birth date may denote, and the days of its whole year (in its
    own calendar): views that show the year only are searched by the year's span."""

    earliest: dt.date
    latest: dt.date
    year_earliest: dt.date
    year_latest: dt.date


@dataclass(slots=True)
class RecordValues:
    """One record's validated exchange fields: only fields with a value are present."""

    fields: dict[str, str] = field(default_factory=dict)
    documents: list[tuple[str, str]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    dob_range: BirthSpan | None = None


def _text(max_length: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > max_length:
            raise FieldError(f"longer than {max_length} characters")
        if CONTROL.search(value):
            raise FieldError("contains control characters")
        return value

    return check


def _choice(allowed: frozenset[str], label: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        upper = value.upper()
        if upper not in allowed:
            raise FieldError(f"must be one of {label}")
        return upper

    return check


def _nationality(value: str) -> str:
    upper = value.upper()
    if upper not in NATIONALITY_CODES:
        raise FieldError("must be an ISO 3166-1 alpha-3 code")
    return upper


def _calendar(value: str) -> str:
    lower = value.lower()
    if lower not in CALENDARS:
        raise FieldError("must be gregorian or solar_hijri")
    return lower


_PHONE_TEXT = _text(32)


def _phone(value: str) -> str:
    value = _PHONE_TEXT(value)
    if not _DIGIT.search(value):
        raise FieldError("has no digits")
    return value


_RECORD_ID_TEXT = _text(MAX_RECORD_ID)
# A record is named by its id in URLs (`…/records/{record_id}`), where a `/`, even sent as
# %2F, splits the path: such a record could be imported but never read, corrected or withdrawn.
NO_SLASH = "must not contain '/': a record is named by its id in URLs"


def check_record_id(value: str) -> str:
    value = _RECORD_ID_TEXT(value)
    if "/" in value:
        raise FieldError(NO_SLASH)
    return value


# Free-text exchange fields and their maximum lengths (checked inline: the hot path of imports).
TEXT_LIMITS: dict[str, int] = {
    "given_name": 200,
    "family_name": 200,
    "father_name": 200,
    "name_native": 200,
    "dob": 10,
    "group_id": 64,
    "province": 100,
    "district": 100,
    "stage": 64,
    "letter_id": 64,
    "status": 64,
}
# Names stored with a search key (`keys.SEARCH_KEYS`) in a column as long as the name's limit.
# Folding can lengthen non-ASCII text ("ß" -> "ss", NFKC expands ligatures), so such a name
# must fit once folded too: PostgreSQL refuses a longer key (SQLite would store it).
KEYED_NAMES = frozenset(SEARCH_KEYS)
MAX_DOCUMENT_NUMBER = 64  # also the length of record_document.number, which holds its key
LONG_ONCE_NORMALISED = "longer than {} characters once normalised for search"


def key_too_long(name: str, value: str, limit: int) -> bool:
    """Whether a keyed name's search key would not fit its column. Only NFKC and casefolding
    lengthen a key (every other step of `SEARCH_KEYS` removes or replaces one for one), so
    text already in NFKC whose casefold fits needs no key computed: an import of a million
    distinct native names would otherwise compute each key twice."""
    if name not in KEYED_NAMES or value.isascii():
        return False
    if unicodedata.is_normalized("NFKC", value) and len(value.casefold()) <= limit:
        return False
    return len(SEARCH_KEYS[name](value)) > limit


# Fields with a closed vocabulary or a shape, and how each is checked and normalised.
SHAPED_RULES: dict[str, Callable[[str], str]] = {
    "dob_calendar": _calendar,
    "sex": _choice(frozenset(s.value for s in Sex), "M, F, X, U"),
    "nationality": _nationality,
    "relationship": _choice(frozenset(r.value for r in Relationship), "PA, SP, CH, OT"),
    "phone": _phone,
    "program": _choice(PROGRAMS, ", ".join(sorted(PROGRAMS))),
}
# Scalar exchange fields: everything but record_id and documents, in exchange-format order.
SCALAR_FIELDS: tuple[str, ...] = tuple(
    name for name in RECORD_FIELDS if name in TEXT_LIMITS or name in SHAPED_RULES
)
# Every column name the exchange format defines; anything else is an agency attribute.
KNOWN_COLUMNS = frozenset(SCALAR_FIELDS) | {"record_id", "documents"}


@lru_cache(maxsize=65536)
def birth_range(raw: str, calendar: str | None) -> BirthSpan:
    """The span of a recorded birth date; cached because lists repeat dates massively."""
    try:
        parsed = parse_birth_date(raw, calendar)
        year_earliest, year_latest = _whole_year(parsed.year, parsed.calendar)
    except ValueError as exc:
        # matching.dates' messages name numbers from the value: keep only the kind of problem
        raise FieldError(safe_date_reason(str(exc))) from None
    return BirthSpan(parsed.earliest, parsed.latest, year_earliest, year_latest)


@lru_cache(maxsize=4096)
def _whole_year(year: int, calendar: str) -> tuple[dt.date, dt.date]:
    # a list holds a few dozen birth years, so each date's first sight parses its own text only
    whole_year = parse_birth_date(str(year), calendar)
    return whole_year.earliest, whole_year.latest


def safe_date_reason(message: str) -> str:
    """What is wrong with a birth date, in words that never quote the date's digits."""
    if "future" in message:
        return "is in the future"
    if "look like" in message:
        return "must look like YYYY, YYYY-MM or YYYY-MM-DD"
    if "Solar Hijri" in message and "year" in message:
        return "year is not a plausible Solar Hijri birth year"
    if "plausible" in message:
        return "year is not a plausible birth year"
    return "is not a valid date"


# A validated document: its type, the number as sent (trimmed) and the number's search key.
KeyedDocument = tuple[str, str, str]


def parse_documents_text(text: str) -> list[tuple[str, str]]:
    """`type:number;type:number` as in a CSV cell."""
    return [(doc_type, number) for doc_type, number, _ in parse_documents_keyed(text)]


def parse_documents_keyed(text: str) -> list[KeyedDocument]:
    """`parse_documents_text` with each number's search key, which validation computes anyway
    (an import stores the key; computing it twice cost about a second per million records)."""
    pairs: list[tuple[str, str]] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        doc_type, sep, number = part.partition(":")
        if not sep:
            raise FieldError("each document must be written type:number")
        pairs.append((doc_type, number))
    return check_documents_keyed(pairs)


def check_documents(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(doc_type, number) for doc_type, number, _ in check_documents_keyed(pairs)]


def check_documents_keyed(pairs: list[tuple[str, str]]) -> list[KeyedDocument]:
    if len(pairs) > MAX_DOCUMENTS:
        raise FieldError(f"more than {MAX_DOCUMENTS} documents")
    checked: list[KeyedDocument] = []
    for raw_type, raw_number in pairs:
        doc_type = raw_type.strip().lower()
        number = raw_number.strip()
        if doc_type not in DOCUMENT_TYPES:
            raise FieldError("document type must be one of " + ", ".join(sorted(DOCUMENT_TYPES)))
        # `isprintable` first: it is much cheaper than the regex, and a control character is
        # never printable (the regex decides for other unprintable characters)
        printable = number.isprintable() or not CONTROL.search(number)
        if not number or len(number) > MAX_DOCUMENT_NUMBER or not printable or ";" in number:
            raise FieldError("document number must be 1-64 printable characters, no ';'")
        key = document_key(doc_type, number)
        if not key:
            raise FieldError("document number has no letters or digits")
        if len(key) > MAX_DOCUMENT_NUMBER:
            raise FieldError(
                "document number is " + LONG_ONCE_NORMALISED.format(MAX_DOCUMENT_NUMBER)
            )
        checked.append((doc_type, number, key))
    return checked


class AttributeNameError(FieldError):
    """An agency field's name the format refuses. Name the field `attributes`, never by the
    refused name: a name that long or that odd is more likely a value sent without its key."""


def check_attribute(key: str, value: str) -> None:
    if not key or len(key) > MAX_ATTRIBUTE_KEY or CONTROL.search(key):
        raise AttributeNameError(
            f"attribute names must be 1-{MAX_ATTRIBUTE_KEY} printable characters"
        )
    if len(value) > MAX_ATTRIBUTE_VALUE:
        raise FieldError(f"longer than {MAX_ATTRIBUTE_VALUE} characters")
    if CONTROL_IN_TEXT.search(value):
        raise FieldError("contains control characters")


def attribute_problems(
    attributes: Mapping[str, str], value_field: str = "{}"
) -> list[tuple[str, str]]:
    """(field, reason) for each refused attribute: a refused name as `attributes`, never
    quoted; a refused value under its name spelled by `value_field` (`attributes.{}` where
    the attributes travel in their own object)."""
    problems: list[tuple[str, str]] = []
    for key, value in attributes.items():
        try:
            check_attribute(key, value)
        except AttributeNameError as exc:
            problems.append(("attributes", str(exc)))
        except FieldError as exc:
            problems.append((value_field.format(key), str(exc)))
    return problems


def check_dob(values: RecordValues) -> None:
    """Compute the Gregorian range of `dob` in its declared calendar (default gregorian)."""
    raw = values.fields.get("dob")
    if raw is None:
        values.dob_range = None
        return
    values.dob_range = birth_range(raw, values.fields.get("dob_calendar") or "gregorian")


def validate_scalars(
    raw: Mapping[str, str | None], errors: list[tuple[str, str]]
) -> dict[str, str]:
    """Check each scalar field present; empty values mean "no value". Errors are appended."""
    out: dict[str, str] = {}
    for name, value in raw.items():
        if not value or not (value := value.strip()):
            continue
        limit = TEXT_LIMITS.get(name)
        if limit is None:
            try:
                out[name] = SHAPED_RULES[name](value)
            except FieldError as exc:
                errors.append((name, str(exc)))
        elif len(value) > limit:
            errors.append((name, f"longer than {limit} characters"))
        elif key_too_long(name, value, limit):
            errors.append((name, LONG_ONCE_NORMALISED.format(limit)))
        else:
            out[name] = value
    # one scan per row (the import's hot path); the fields are named only when one fails
    if CONTROL.search("".join(out.values())):
        for name in [name for name, value in out.items() if CONTROL.search(value)]:
            del out[name]
            errors.append((name, "contains control characters"))
    return out
