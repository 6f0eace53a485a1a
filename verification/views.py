"""What a verifying caller may use of each record a lookup reached: the owner its whole record
for its own purposes; a recipient the fields of its agreements that allow the request's purpose,
merged and coarsened as a list view is (`exchange.visibility`). A claim by name is scored on
these alone and a letter is named only where `letter_id` is among them; otherwise the answer
would read back, one yes or no at a time, what the agreement withholds (a birth day the view
cuts to the year, a family name it leaves out). Pure functions, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from auth.access import AccessContext
from auth.policy import OWNER_PURPOSES
from exchange.visibility import merge_agreements
from schemas.vocabulary import RECORD_FIELDS
from verification.repository import Grant, ReachableRecord


@dataclass(frozen=True, slots=True)
class VisibleRecord:
    """A record the caller may use for this request, and what its view shows of it."""

    record: ReachableRecord
    fields: frozenset[str]
    coarsen: Mapping[str, str] = field(default_factory=dict)

    @property
    def shows_letter(self) -> bool:
        return "letter_id" in self.fields


def visible_records(
    access: AccessContext, reachable: Iterable[ReachableRecord]
) -> dict[str, VisibleRecord]:
    """The reachable records the request's purpose allows, by id, each with its merged view
    (a record reached through two agreements comes once)."""
    grants: dict[str, list[Grant]] = {}
    owned: dict[str, ReachableRecord] = {}
    first: dict[str, ReachableRecord] = {}
    for record in reachable:
        first.setdefault(record.record_id, record)
        if record.grant is None:
            owned[record.record_id] = record
        elif access.purpose is not None and access.purpose.value in record.grant.purposes:
            grants.setdefault(record.record_id, []).append(record.grant)
    principal = access.principal
    visible: dict[str, VisibleRecord] = {}
    if access.purpose in OWNER_PURPOSES[principal.agency_kind]:
        for record_id, record in owned.items():
            visible[record_id] = VisibleRecord(record, frozenset(RECORD_FIELDS))
    for record_id, usable in grants.items():
        fields, coarsen = merge_agreements(usable, principal.agency_kind)
        visible[record_id] = VisibleRecord(first[record_id], fields, coarsen)
    return visible
