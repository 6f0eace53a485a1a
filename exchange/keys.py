"""Search keys stored beside a record: normalised names and document numbers. Verification and
search compute the same keys from what the caller sends, so both sides must use these."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def document_key(doc_type: str, number: str) -> str:
    """The searchable form of a document number: upper case, separators removed.

    The type is part of the signature so a type-specific rule (e.g. old UNHCR numbers) can be
    added without touching callers; today every type is normalised alike."""
    del doc_type
    if number.isascii() and number.isprintable():
        return number.translate(_ASCII_SEPARATORS).upper()  # the common case, without regex
    return _DOC_SEPARATORS.sub("", unicodedata.normalize("NFKC", number)).upper()
