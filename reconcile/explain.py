"""Explanations of links: per field the level reached, its weight in bits and a phrase a
reviewer can read, and a one-line reason from the weightiest fields, e.g. `father name agrees
(Shafiq≈Shafeeq), DOB year agrees (1984~1984-03-12), PoR number differs by one digit`.
Phrases quote names and dates as written: they are personal data (never log them)."""

from __future__ import annotations

from dataclasses import dataclass

from matching.compare import compare_birth_dates, compare_documents, compare_names
from matching.documents import parse_documents
from reconcile.comparison import FIELD_LEVELS, PLACE_LEVELS, SEX_LEVELS
from reconcile.engine import LinkResult
from reconcile.parameters import FAMILY_LEVELS
from reconcile.rerank_features import GAP_CAP

REASON_FIELDS = 4  # phrases in the one-line reason
# A link's lead over its best rival, in bits, from which it reads as a clear lead: 6 bits make
# the link 64 times likelier than any other candidate of either record on the evidence.
CLEAR_LEAD = 6.0
# Evidence that quotes no record's values (a margin in bits, a link through the third list):
# shown whatever the caller's view.
DERIVED_FIELDS = frozenset({"competition", "transitive", "conflict"})
# The record field each evidence field reads: shown only where the caller may see it.
SOURCE_FIELDS = {
    "given": ("given_name", "name_native"),
    "family": ("family_name",),
    "father": ("father_name",),
    "dob": ("dob",),
    "documents": ("documents",),
    "sex": ("sex",),
    "place": ("district", "province"),
    "family_context": ("group_id", "district", "family_name"),
}


@dataclass(frozen=True, slots=True)
class Evidence:
    field: str
    level: str
    weight: float
    phrase: str

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "level": self.level,
            "weight": self.weight,
            "phrase": self.phrase,
        }


def _phrase(result: LinkResult, field: str, level: str, a: int, b: int) -> str:
    left, right = result.left.table, result.right.table
    names = result.spaces.names.keys
    if field == "given":
        if level == "swapped":
            ka, kb = names[result.left.full[a]], names[result.right.full[b]]
            return f"given and family names swapped ({ka.text}~{kb.text})"
        # the straight reading, the whole name, then a one-sided swap (comparison.py)
        readings = (("given", "given"), ("full", "full"), ("family", "given"), ("given", "family"))
        phrases = []
        for form_a, form_b in readings:
            ka = names[getattr(result.left, form_a)[a]]
            kb = names[getattr(result.right, form_b)[b]]
            found = compare_names("name", ka, kb)
            if found.level.value == level:
                return found.phrase
            phrases.append(found.phrase)
        return phrases[1]
    if field in ("family", "father"):
        label = "family name" if field == "family" else "father name"
        ka = names[getattr(result.left, field)[a]]
        kb = names[getattr(result.right, field)[b]]
        return compare_names(label, ka, kb).phrase
    if field == "dob":
        dates = result.spaces.dates.dates
        return compare_birth_dates(dates[result.left.dob[a]], dates[result.right.dob[b]]).phrase
    if field == "documents":
        compared = compare_documents(
            parse_documents(left.value("documents", a)),
            parse_documents(right.value("documents", b)),
        )
        order = list(FIELD_LEVELS["documents"])
        ranked = sorted(compared, key=lambda c: order.index(c.level.value))
        return ranked[0].phrase if ranked else "no document of the same type"
    if field == "sex":
        sexes = (left.value("sex", a), right.value("sex", b))
        return {"agree": "sex agrees", "disagree": "sex differs ({}≠{})".format(*sexes)}.get(
            level, "sex unknown on one side"
        )
    if field == "place":
        places = (left.value("district", a), right.value("district", b))
        return {
            PLACE_LEVELS[0]: f"same district ({places[0]})",
            PLACE_LEVELS[1]: "same province, other district",
            PLACE_LEVELS[2]: "different district ({}≠{})".format(*places),
        }.get(level, "place unknown on one side")
    return {
        FAMILY_LEVELS[2]: "another member of the group links into the same group",
        FAMILY_LEVELS[3]: "two or more other members of the group link into the same group",
        FAMILY_LEVELS[1]: "no other member of the group links into the same group",
        FAMILY_LEVELS[4]: "shares neither district nor family name with the case's other links",
        FAMILY_LEVELS[5]: "same family name as a relative's linked record",
        FAMILY_LEVELS[6]: "same district as a relative's linked record",
        FAMILY_LEVELS[7]: "same district and family name as a relative's linked record",
    }.get(level, "no group on one side")


_LEVEL_NAMES = {**FIELD_LEVELS, "family_context": FAMILY_LEVELS}
_QUIET = {"missing", "no group on one side", SEX_LEVELS[2], PLACE_LEVELS[3], FAMILY_LEVELS[0]}


def competition(lead: float) -> Evidence:
    """How the link stands against the other candidates of its two records. It adds no weight
    of its own (the fields did), but says why weak evidence may still make a link: a birth
    year and a father's name that nobody else in the lists shares."""
    if lead >= GAP_CAP:
        return Evidence("competition", "alone", 0.0, "no other candidate for either record")
    if lead >= CLEAR_LEAD:
        return Evidence("competition", "clear lead", 0.0, f"no rival within {lead:.1f} bits")
    if lead >= 0:
        return Evidence("competition", "narrow lead", 0.0, f"a rival within {lead:.1f} bits")
    return Evidence("competition", "behind", 0.0, f"a rival {-lead:.1f} bits stronger")


def field_evidence(result: LinkResult, k: int) -> list[Evidence]:
    """Evidence of each field for the k-th link of the result, weightiest first."""
    links = result.links
    a, b = int(links.left[k]), int(links.right[k])
    items = []
    for field, codes in links.levels.items():
        level = _LEVEL_NAMES[field][int(codes[k])]
        weight = round(float(links.weights[field][k]), 2) if field in links.weights else 0.0
        items.append(Evidence(field, level, weight, _phrase(result, field, level, a, b)))
    return sorted(items, key=lambda e: -abs(e.weight))


def evidence(result: LinkResult, k: int) -> list[Evidence]:
    """Evidence for the k-th link of the result, weightiest first, then its competition."""
    return [*field_evidence(result, k), competition(float(result.links.lead[k]))]


def through_third_list(first: float, second: float) -> Evidence:
    """A link two others imply (three_way.implied_links): both records are linked to one
    record of the third list, with these probabilities. It quotes no record's values."""
    return Evidence(
        "transitive",
        "through third list",
        0.0,
        f"both linked to one record of the third list ({first:.2f} and {second:.2f})",
    )


def held_by_conflict() -> Evidence:
    """A link accepted on its evidence that a three-way conflict holds for review
    (implied.hold_in_conflict): why a strong link waits for a person."""
    return Evidence("conflict", "held", 0.0, "held for review by a three-way conflict")


def reason(items: list[Evidence]) -> str:
    """The one-line reason: the phrases of the weightiest informative fields, then how the link
    stands against its rivals: `father name agrees (Shafiq≈Shafeeq), DOB year agrees (1984);
    no rival within 9.3 bits`."""
    fields = [e for e in items if e.field not in DERIVED_FIELDS]
    shown = [e.phrase for e in fields if e.level not in _QUIET and e.weight != 0][:REASON_FIELDS]
    text = ", ".join(shown) if shown else "no informative field"
    standing = [e.phrase for e in items if e.field in DERIVED_FIELDS]
    return "; ".join([text, *standing])
