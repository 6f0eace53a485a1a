"""Identity documents: number normalisation per type and exact / near-miss comparison."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from matching.digits import to_ascii_digits
from matching.evidence import DocumentLevel, FieldComparison

DOCUMENT_LABELS = {
    "passport": "passport",
    "tazkira": "tazkira",
    "por": "PoR",
    "acc": "ACC",
    "unhcr": "UNHCR individual",
    "visa": "visa",
}
# A one-character slip in a number shorter than this is as likely another person's number.
MIN_LENGTH_FOR_NEAR_MISS = 5

_NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Z]+")
_NOT_DIGIT = re.compile(r"[^0-9]+")
# Card numbers are often written with their type in front: "PoR-1234567", "ACC 123".
_TYPE_PREFIX = {"por": "POR", "acc": "ACC"}


@dataclass(frozen=True, slots=True)
class Document:
    type: str  # lowercase type as sent: passport, tazkira, por, acc, unhcr, visa, or other
    number: str  # normalised number, the comparison key


def normalize_document_number(document_type: str, number: str) -> str:
    """Comparison key of a number: no separators, upper case, ASCII digits.

    UNHCR individual numbers keep digits only, so the old `123-45C67890` and the new
    `123-45-67890` formats of the same digits compare equal; an e-tazkira `1400-0101-12345`
    becomes `1400010112345`.
    """
    ascii_number = to_ascii_digits(number).upper()
    kind = document_type.strip().lower()
    if kind == "unhcr":
        return _NOT_DIGIT.sub("", ascii_number)
    compact = _NOT_ALPHANUMERIC.sub("", ascii_number)
    prefix = _TYPE_PREFIX.get(kind)
    if prefix and compact.startswith(prefix) and compact[len(prefix) :].isdigit():
        return compact[len(prefix) :]
    return compact


def parse_documents(raw: str | None) -> tuple[Document, ...]:
    """Parse the exchange field `type:number;type:number`; entries without a number are dropped."""
    documents = []
    for entry in (raw or "").split(";"):
        kind, separator, number = entry.partition(":")
        normalized = normalize_document_number(kind, number) if separator else ""
        if normalized:
            documents.append(Document(kind.strip().lower(), normalized))
    return tuple(documents)


def document_number_level(a: str, b: str) -> DocumentLevel:
    """EXACT, NEAR (one substitution, adjacent transposition, insertion or deletion), or not."""
    if not a or not b:
        return DocumentLevel.MISSING
    if a == b:
        return DocumentLevel.EXACT
    if min(len(a), len(b)) >= MIN_LENGTH_FOR_NEAR_MISS and OSA.distance(a, b, score_cutoff=1) <= 1:
        return DocumentLevel.NEAR
    return DocumentLevel.DIFFERENT


def describe_near_miss(a: str, b: str) -> str:
    """What kind of one-character slip separates two numbers, for explanations."""
    if len(a) != len(b):
        return "has one character missing or extra"
    differing = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    involved = "".join(a[i] + b[i] for i in differing)
    noun = "digit" if involved.isdigit() else "character"
    if len(differing) == 2:
        return f"has two adjacent {noun}s swapped"
    return f"differs by one {noun}"


def compare_documents(a: Iterable[Document], b: Iterable[Document]) -> tuple[FieldComparison, ...]:
    """One comparison per document type both sides hold, the best pair of numbers winning."""
    numbers_b: dict[str, list[str]] = {}
    for document in b:
        numbers_b.setdefault(document.type, []).append(document.number)
    best: dict[str, tuple[DocumentLevel, str, str]] = {}
    for document in a:
        for other in numbers_b.get(document.type, ()):
            level = document_number_level(document.number, other)
            current = best.get(document.type)
            if current is None or _RANK[level] < _RANK[current[0]]:
                best[document.type] = (level, document.number, other)
    return tuple(_comparison(kind, *outcome) for kind, outcome in best.items())


_RANK = {level: rank for rank, level in enumerate(DocumentLevel)}


def _comparison(kind: str, level: DocumentLevel, a: str, b: str) -> FieldComparison:
    label = DOCUMENT_LABELS.get(kind, kind)
    if level is DocumentLevel.EXACT:
        phrase = f"{label} number agrees"
    elif level is DocumentLevel.NEAR:
        phrase = f"{label} number {describe_near_miss(a, b)}"
    else:
        phrase = f"{label} number differs"
    return FieldComparison(f"document:{kind}", level, phrase)
