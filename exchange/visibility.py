"""Which lists and record fields a caller may see: the owner agency sees its own lists whole;
another agency only through a live sharing agreement for the request's purpose of use, cut to
its agency kind's ceiling and coarsened as the agreement says. Pure functions, no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from auth.access import AccessContext
from auth.policy import OWNER_PURPOSES, visible_fields
from problems import ProblemError
from schemas.lists import ExchangeList, SharingAgreement
from schemas.vocabulary import RECORD_FIELDS, AgencyKind, Coarsening

NAME_FIELDS = ("given_name", "family_name", "father_name", "name_native")
# Every caller who may see a record sees these; they carry no personal data.
METADATA_KEYS = ("record_id", "list_id", "version", "withdrawn")
_NOT_VISIBLE = "no such list is visible to the caller"


@dataclass(frozen=True, slots=True)
class ListView:
    """What one caller may see of one list, for the purpose of the current request."""

    list: ExchangeList
    is_owner: bool
    fields: frozenset[str]
    coarsen: Mapping[str, str] = field(default_factory=dict)

    @property
    def list_id(self) -> str:
        return self.list.id


def is_live(agreement: SharingAgreement, now: dt.datetime) -> bool:
    return agreement.terminated_at is None and agreement.valid_from <= now < agreement.valid_until


def resolve_view(
    access: AccessContext,
    exchange_list: ExchangeList | None,
    live_agreements: Iterable[SharingAgreement],
    *,
    personal_data: bool,
) -> ListView:
    """The caller's view of a list, or the problem that refuses it (404 when not visible)."""
    if exchange_list is None:
        raise ProblemError("not-found", _NOT_VISIBLE)
    principal = access.principal
    if exchange_list.owner_agency_id == principal.agency_id:
        if personal_data and access.purpose not in OWNER_PURPOSES[principal.agency_kind]:
            raise ProblemError(
                "purpose-not-allowed",
                "your agency may not use its own records for this purpose",
                invalid_params=[{"name": "Purpose-Of-Use", "reason": "not allowed here"}],
            )
        return ListView(exchange_list, True, frozenset(RECORD_FIELDS))
    agreements = list(live_agreements)
    if not agreements:
        raise ProblemError("not-found", _NOT_VISIBLE)
    if not personal_data:
        return ListView(exchange_list, False, frozenset())
    usable = [a for a in agreements if access.purpose in a.purposes]
    if not usable:
        raise ProblemError(
            "purpose-not-allowed",
            "no sharing agreement for this list allows this purpose of use",
            invalid_params=[{"name": "Purpose-Of-Use", "reason": "not in the agreement"}],
        )
    fields, coarsen = merge_agreements(usable, principal.agency_kind)
    return ListView(exchange_list, False, fields, coarsen)


class AgreementTerms(Protocol):
    """What an agreement grants, as `merge_agreements` reads it (a stored agreement, or the
    columns of one a lookup selected)."""

    @property
    def fields(self) -> Sequence[str]: ...

    @property
    def coarsen(self) -> Mapping[str, str]: ...


def merge_agreements(
    agreements: Iterable[AgreementTerms], agency_kind: AgencyKind
) -> tuple[frozenset[str], dict[str, str]]:
    """Fields granted by any usable agreement; a field stays coarsened only if every agreement
    granting it coarsens it (the most generous agreement wins, never beyond the ceiling)."""
    fields: set[str] = set()
    full: set[str] = set()
    coarse: dict[str, str] = {}
    for agreement in agreements:
        granted = visible_fields(agency_kind, frozenset(agreement.fields))
        fields |= granted
        for name in granted:
            if name in agreement.coarsen:
                coarse.setdefault(name, agreement.coarsen[name])
            else:
                full.add(name)
    return frozenset(fields), {k: v for k, v in coarse.items() if k not in full}


def require_owner(view: ListView) -> None:
    if not view.is_owner:
        raise ProblemError("agency-not-entitled", "only the agency that owns the list may do this")


def _coarsened(name: str, value: object, coarsen: Mapping[str, str]) -> object:
    if value is None or name not in coarsen:
        return value
    if coarsen[name] == Coarsening.YEAR_ONLY:
        return str(value)[:4]
    return None  # an unknown coarsening shows nothing rather than too much


def shape_fields(data: Mapping[str, object], view: ListView) -> dict[str, object]:
    """The personal fields of `data` the view allows, every allowed field present (maybe null)."""
    return shape_values(data, view.fields, view.coarsen)


def shape_values(
    data: Mapping[str, object],
    fields: frozenset[str],
    coarsen: Mapping[str, str],
    names: Iterable[str] = RECORD_FIELDS,
) -> dict[str, object]:
    """`shape_fields` for a view given by its fields and coarsening alone (of `names` only)."""
    shaped: dict[str, object] = {}
    for name in names:
        if name in fields:
            shaped[name] = _coarsened(name, data.get(name), coarsen)
    if "documents" in shaped and shaped["documents"] is None:
        shaped["documents"] = []
    if "attributes" in shaped and shaped["attributes"] is None:
        shaped["attributes"] = {}
    return shaped


def disclosed(shaped: Mapping[str, object], view: ListView) -> tuple[str, ...]:
    """Names of the personal fields a response actually shows, for the audit disclosure row."""
    shown = []
    for name in RECORD_FIELDS:
        if name in shaped and shaped[name] not in (None, [], {}):
            shown.append(f"{name}:{view.coarsen[name]}" if name in view.coarsen else name)
    return tuple(shown)


# Search filter -> the record field it reads; `name` reads the visible name fields only.
FILTER_FIELDS: dict[str, str] = {
    "document": "documents",
    "document_type": "documents",
    "given_name": "given_name",
    "family_name": "family_name",
    "father_name": "father_name",
    "name_native": "name_native",
    "dob": "dob",
    "dob_calendar": "dob",
    "group_id": "group_id",
    "letter_id": "letter_id",
}


def check_filters(
    filters: Mapping[str, object], view: ListView, dob_precision: str | None
) -> tuple[str, ...]:
    """Refuse filters on fields the caller may not see (no inference through search).
    Returns the name fields a `name` filter may read."""
    refused = [
        name
        for name, value in filters.items()
        if value is not None and name in FILTER_FIELDS and FILTER_FIELDS[name] not in view.fields
    ]
    name_fields = tuple(f for f in NAME_FIELDS if f in view.fields)
    if filters.get("name") is not None and not name_fields:
        refused.append("name")
    if (
        filters.get("dob") is not None
        and view.coarsen.get("dob") == Coarsening.YEAR_ONLY
        and dob_precision != "year"
        and "dob" not in refused
    ):
        refused.append("dob")
    if refused:
        raise ProblemError(
            "filter-not-allowed",
            "you may not filter on: " + ", ".join(refused),
            invalid_params=[
                {"name": name, "reason": "field not visible to you at this precision"}
                for name in refused
            ],
        )
    return name_fields
