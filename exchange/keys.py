"""Search keys stored beside a record: normalised names and document numbers. Verification and
search compute the same keys from what the caller sends, so both sides must use these."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from matching.arabic import join_particles, normalize_arabic

# Separators people type inside document numbers (`1400-0101-12345`, `AB 123/45`).
_DOC_SEPARATORS = re.compile(r"[\s\-/._:]+")
_ASCII_SEPARATORS = str.maketrans("", "", " -/._:")


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """Case-, width- and spacing-insensitive key of a name for exact search (cached: lists
    repeat the same names many thousand times)."""
    if not name.isascii():
        name = unicodedata.normalize("NFKC", name)
    return " ".join(name.split()).casefold()


def native_name_key(name: str) -> str:
    """`name_key` of a name in its own script, with what keyboards and writers vary folded
    away: Arabic and Persian letter forms (ي/ی, ك/ک), diacritics, tatweel, ZWNJ, and compounds
    written apart (عبد الرحمن / عبدالرحمن). Two people typing one Arabic-script name on a
    Dari, Urdu or Arabic keyboard get the same key. Not cached, unlike `name_key`: a
    native name is mostly a whole, distinct name, and a cache missing on each costs more than
    it saves (bulk callers key each distinct value once instead)."""
    if name.isascii():
        return name_key(name)
    # normalize_arabic applies NFKC itself, so name_key's own NFKC is not done twice
    return " ".join(join_particles(normalize_arabic(name).casefold().split()))


# The name fields stored with a search key in `<field>_key`, and how each key is made.
SEARCH_KEYS: dict[str, Callable[[str], str]] = {
    "given_name": name_key,
    "family_name": name_key,
    "father_name": name_key,
    "name_native": native_name_key,
}


def document_key(doc_type: str, number: str) -> str:
    """The searchable form of a document number: upper case, separators removed.

    The type is part of the signature so a type-specific rule (e.g. old UNHCR numbers) can be
    added without touching callers; today every type is normalised alike."""
    del doc_type
    if number.isascii() and number.isprintable():
        return number.translate(_ASCII_SEPARATORS).upper()  # the common case, without regex
    return _DOC_SEPARATORS.sub("", unicodedata.normalize("NFKC", number)).upper()
