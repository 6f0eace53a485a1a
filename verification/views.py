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
class View:
    """What the caller's agreements (or ownership) show of one list, for this request."""

    fields: frozenset[str]
    coarsen: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VisibleRecord:
    """A record the caller may use for this request, and what its view shows of it."""

    record: ReachableRecord
    fields: frozenset[str]
    coarsen: Mapping[str, str] = field(default_factory=dict)

    @property
    def shows_letter(self) -> bool:
        return "letter_id" in self.fields


def list_views(
    access: AccessContext, grants: Iterable[tuple[str, Grant | None]]
) -> dict[str, View]:
    """The caller's view of each list it reaches (by `(list_id, grant)`, a grant of None for its
    own lists, repeats allowed), leaving out lists no agreement allows for this purpose."""
    owned: set[str] = set()
    usable: dict[str, dict[object, Grant]] = {}
    for list_id, grant in grants:
        if grant is None:
            owned.add(list_id)
        elif access.purpose is not None and access.purpose.value in grant.purposes:
            # each record of a list comes with the same agreements: merge each agreement once
            identity = (grant.purposes, grant.fields, tuple(sorted(grant.coarsen.items())))
            usable.setdefault(list_id, {})[identity] = grant
    kind = access.principal.agency_kind
    views: dict[str, View] = {}
    if access.purpose in OWNER_PURPOSES[kind]:
        views.update((list_id, View(frozenset(RECORD_FIELDS))) for list_id in owned)
    for list_id, by_identity in usable.items():
        views[list_id] = View(*merge_agreements(by_identity.values(), kind))
    return views


def visible_records(
    access: AccessContext, reachable: Iterable[ReachableRecord]
) -> dict[str, VisibleRecord]:
    """The reachable records the request's purpose allows, by id, each with its list's view
    (a record reached through two agreements comes once)."""
    found = list(reachable)
    views = list_views(access, ((record.list_id, record.grant) for record in found))
    return {
        record.record_id: VisibleRecord(record, view.fields, view.coarsen)
        for record in found
        if (view := views.get(record.list_id)) is not None
    }
