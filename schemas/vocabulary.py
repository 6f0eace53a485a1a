"""Closed vocabularies: agency kinds, list kinds, scopes, purposes, record fields."""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    US_MISSION = "us_mission"
    UNHCR = "unhcr"
    GOP = "gop"
    OVERSIGHT = "oversight"


class ListKind(StrEnum):
    PIPELINE = "pipeline"
    REGISTRATION = "registration"
    STATUS = "status"


class Scope(StrEnum):
    LISTS_READ = "lists:read"
    LISTS_WRITE = "lists:write"
    RECORDS_READ = "records:read"
    RECORDS_WRITE = "records:write"
    AGREEMENTS_WRITE = "agreements:write"
    VERIFY = "verify"
    AUDIT_READ = "audit:read"
    ADMIN = "admin"
    RECONCILE_RUN = "reconcile:run"
    RECONCILE_REVIEW = "reconcile:review"
    LETTERS_READ = "letters:read"
    LETTERS_WRITE = "letters:write"
    ENCOUNTERS_WRITE = "encounters:write"
    CHANGES_READ = "changes:read"
    SUBSCRIPTIONS_WRITE = "subscriptions:write"
    STATUS_WRITE = "status:write"


class Purpose(StrEnum):
    RESETTLEMENT_PROCESSING = "resettlement-processing"
    PROTECTION_VERIFICATION = "protection-verification"
    RECONCILIATION = "reconciliation"
    HOTLINE_ASSISTANCE = "hotline-assistance"
    AUDIT = "audit"


class ClientKind(StrEnum):
    SYSTEM = "system"
    LIAISON = "liaison"


class Sex(StrEnum):
    M = "M"
    F = "F"
    X = "X"
    U = "U"


class Relationship(StrEnum):
    PA = "PA"
    SP = "SP"
    CH = "CH"
    OT = "OT"


class DocumentType(StrEnum):
    PASSPORT = "passport"
    TAZKIRA = "tazkira"
    POR = "por"
    ACC = "acc"
    UNHCR = "unhcr"
    VISA = "visa"


class Coarsening(StrEnum):
    """How an agreement may blur a field instead of withholding it."""

    YEAR_ONLY = "year_only"


# Personal-data fields of a record, in exchange-format order. `record_id` (the agency's own
# id) and the record's lifecycle fields are metadata every recipient of a record sees.
RECORD_FIELDS: tuple[str, ...] = (
    "given_name",
    "family_name",
    "father_name",
    "name_native",
    "dob",
    "dob_calendar",
    "sex",
    "nationality",
    "documents",
    "group_id",
    "relationship",
    "province",
    "district",
    "phone",
    "program",
    "stage",
    "letter_id",
    "status",
    "attributes",
)

COARSENABLE_FIELDS: dict[str, frozenset[Coarsening]] = {
    "dob": frozenset({Coarsening.YEAR_ONLY}),
}
