"""The one policy table: which scope and agency may perform each operation, see which fields,
and for which purposes. Routes are looked up here by name; a route without an entry is denied."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.encounters import EncounterEvent
from schemas.vocabulary import RECORD_FIELDS, AgencyKind, ListKind, Purpose, Scope

ALL_PURPOSES = frozenset(Purpose)
DATA_HOLDERS = frozenset({AgencyKind.US_MISSION, AgencyKind.UNHCR, AgencyKind.GOP})
ALL_AGENCIES = frozenset(AgencyKind)


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    """What an operation demands of its caller. `public` operations authenticate in their own way
    (OAuth endpoints) or disclose nothing (health, discovery)."""

    scopes: frozenset[Scope] = frozenset()
    agencies: frozenset[AgencyKind] = frozenset()
    personal_data: bool = False
    purposes: frozenset[Purpose] = frozenset()
    public: bool = False


def _op(
    *scopes: Scope,
    agencies: frozenset[AgencyKind] = DATA_HOLDERS,
    personal_data: bool = False,
    purposes: frozenset[Purpose] = frozenset(),
) -> OperationPolicy:
    return OperationPolicy(frozenset(scopes), agencies, personal_data, purposes)


_PUBLIC = OperationPolicy(public=True)
_READ_PURPOSES = ALL_PURPOSES - {Purpose.AUDIT}
_VERIFY_PURPOSES = frozenset({Purpose.PROTECTION_VERIFICATION, Purpose.HOTLINE_ASSISTANCE})
_AUDIT_ONLY = frozenset({Purpose.AUDIT})
_RECONCILE = frozenset({Purpose.RECONCILIATION})
_MISSION = frozenset({AgencyKind.US_MISSION})
_GOP = frozenset({AgencyKind.GOP})
_CLAIMANTS = frozenset({AgencyKind.UNHCR, AgencyKind.GOP})

OPERATIONS: dict[str, OperationPolicy] = {
    # discovery, health and the OAuth endpoints (they authenticate the client themselves)
    "openapi": _PUBLIC,
    "swagger_ui_html": _PUBLIC,
    "swagger_ui_redirect": _PUBLIC,
    "redoc_html": _PUBLIC,
    "healthz": _PUBLIC,
    "readyz": _PUBLIC,
    "oauth_metadata": _PUBLIC,
    "jwks": _PUBLIC,
    "issue_token": _PUBLIC,
    "introspect_token": _PUBLIC,
    "revoke_token": _PUBLIC,
    # lists and agreements: metadata, no personal data
    "create_list": _op(Scope.LISTS_WRITE),
    "list_lists": _op(Scope.LISTS_READ),
    "get_list": _op(Scope.LISTS_READ),
    "create_agreement": _op(Scope.AGREEMENTS_WRITE),
    "list_agreements": _op(Scope.LISTS_READ),
    "terminate_agreement": _op(Scope.AGREEMENTS_WRITE),
    # records: personal data
    "import_records": _op(Scope.RECORDS_WRITE, personal_data=True, purposes=_READ_PURPOSES),
    "list_records": _op(Scope.RECORDS_READ, personal_data=True, purposes=_READ_PURPOSES),
    "search_records": _op(Scope.RECORDS_READ, personal_data=True, purposes=_READ_PURPOSES),
    "get_record": _op(Scope.RECORDS_READ, personal_data=True, purposes=_READ_PURPOSES),
    "record_history": _op(Scope.RECORDS_READ, personal_data=True, purposes=_READ_PURPOSES),
    "update_record": _op(Scope.RECORDS_WRITE, personal_data=True, purposes=_READ_PURPOSES),
    "withdraw_record": _op(Scope.RECORDS_WRITE, personal_data=True, purposes=_READ_PURPOSES),
    "create_verification": _op(Scope.VERIFY, personal_data=True, purposes=_VERIFY_PURPOSES),
    # audit: reveals who saw which record id, so it is purpose-bound too
    "list_audit_events": _op(
        Scope.AUDIT_READ, agencies=ALL_AGENCIES, personal_data=True, purposes=_AUDIT_ONLY
    ),
    "list_audit_disclosures": _op(
        Scope.AUDIT_READ, agencies=ALL_AGENCIES, personal_data=True, purposes=_AUDIT_ONLY
    ),
    # transparency log: hashes and signatures only, so they stay up when the log falls behind
    "get_latest_checkpoint": _op(Scope.AUDIT_READ, agencies=ALL_AGENCIES),
    "get_checkpoint": _op(Scope.AUDIT_READ, agencies=ALL_AGENCIES),
    "get_inclusion_proof": _op(Scope.AUDIT_READ, agencies=ALL_AGENCIES),
    "get_consistency_proof": _op(Scope.AUDIT_READ, agencies=ALL_AGENCIES),
    "add_cosignature": _op(Scope.AUDIT_READ, agencies=ALL_AGENCIES),  # the agency's witness
    "list_witnesses": _op(Scope.AUDIT_READ, agencies=ALL_AGENCIES),
    "register_witness": _op(Scope.ADMIN, agencies=ALL_AGENCIES),
    "revoke_witness": _op(Scope.ADMIN, agencies=ALL_AGENCIES),
    # reconciliation: links between lists and the records behind them
    "create_reconciliation": _op(Scope.RECONCILE_RUN, personal_data=True, purposes=_RECONCILE),
    "get_reconciliation": _op(Scope.RECONCILE_RUN, personal_data=True, purposes=_RECONCILE),
    "list_reconciliation_links": _op(Scope.RECONCILE_RUN, personal_data=True, purposes=_RECONCILE),
    "list_reconciliation_discrepancies": _op(
        Scope.RECONCILE_RUN, personal_data=True, purposes=_RECONCILE
    ),
    "list_reconciliation_conflicts": _op(
        Scope.RECONCILE_RUN, personal_data=True, purposes=_RECONCILE
    ),
    "reconciliation_report": _op(Scope.RECONCILE_RUN, personal_data=True, purposes=_RECONCILE),
    "decide_link": _op(Scope.RECONCILE_REVIEW, personal_data=True, purposes=_RECONCILE),
    # administration of the caller's own agency
    "create_client": _op(Scope.ADMIN, agencies=ALL_AGENCIES),
    "list_clients": _op(Scope.ADMIN, agencies=ALL_AGENCIES),
    "disable_client": _op(Scope.ADMIN, agencies=ALL_AGENCIES),
    # protection letters: the mission issues for its own pipeline records
    "issue_letter": _op(
        Scope.LETTERS_WRITE, agencies=_MISSION, personal_data=True, purposes=_READ_PURPOSES
    ),
    "get_letter": _op(
        Scope.LETTERS_READ, agencies=_MISSION, personal_data=True, purposes=_READ_PURPOSES
    ),
    "get_letter_pdf": _op(
        Scope.LETTERS_READ, agencies=_MISSION, personal_data=True, purposes=_READ_PURPOSES
    ),
    "revoke_letter": _op(
        Scope.LETTERS_WRITE, agencies=_MISSION, personal_data=True, purposes=_READ_PURPOSES
    ),
    "letter_verifier": _PUBLIC,  # a static page with public keys only
    # encounters: Pakistan's officials report; the record's owner reads its status
    "report_encounter": _op(
        Scope.ENCOUNTERS_WRITE, agencies=_GOP, personal_data=True, purposes=_VERIFY_PURPOSES
    ),
    "record_status": _op(Scope.RECORDS_READ, personal_data=True, purposes=_READ_PURPOSES),
    # the agencies a pipeline record is shared with state their own status of the person
    "claim_status": _op(
        Scope.STATUS_WRITE, agencies=_CLAIMANTS, personal_data=True, purposes=_READ_PURPOSES
    ),
    # change feed and webhooks: events name records (encounters describe a detention)
    "list_changes": _op(Scope.CHANGES_READ, personal_data=True, purposes=_READ_PURPOSES),
    "get_change": _op(Scope.CHANGES_READ, personal_data=True, purposes=_READ_PURPOSES),
    "acknowledge_change": _op(Scope.CHANGES_READ, personal_data=True, purposes=_READ_PURPOSES),
    # a webhook delivers the feed: whoever subscribes must be one who may read it
    "create_subscription": _op(
        Scope.SUBSCRIPTIONS_WRITE, Scope.CHANGES_READ, personal_data=True, purposes=_READ_PURPOSES
    ),
    "list_subscriptions": _op(Scope.CHANGES_READ),
    "disable_subscription": _op(Scope.SUBSCRIPTIONS_WRITE),
    "list_deliveries": _op(Scope.CHANGES_READ),
    "replay_deliveries": _op(Scope.SUBSCRIPTIONS_WRITE, Scope.CHANGES_READ),
}

# The most an agency of each kind may ever be shown of another agency's record, whatever an
# agreement says: Pakistan's officials never see program, stage, contacts or free attributes
# (employer, vulnerability flags travel there), see domain.md.
_PERSONAL_MINIMUM = frozenset(
    {"given_name", "family_name", "father_name", "name_native", "dob", "dob_calendar", "sex"}
)
FIELD_CEILING: dict[AgencyKind, frozenset[str]] = {
    AgencyKind.US_MISSION: frozenset(RECORD_FIELDS),
    AgencyKind.UNHCR: frozenset(RECORD_FIELDS) - {"phone"},
    AgencyKind.GOP: _PERSONAL_MINIMUM
    | {"nationality", "documents", "group_id", "relationship", "province", "district"}
    | {"letter_id", "status"},
    AgencyKind.OVERSIGHT: frozenset(),
}

# Purposes an agency may give when it works on its own lists (no agreement is involved).
OWNER_PURPOSES: dict[AgencyKind, frozenset[Purpose]] = {
    AgencyKind.US_MISSION: _READ_PURPOSES,
    AgencyKind.UNHCR: _READ_PURPOSES,
    AgencyKind.GOP: frozenset({Purpose.PROTECTION_VERIFICATION, Purpose.RECONCILIATION}),
    AgencyKind.OVERSIGHT: frozenset(),
}

# Kinds of list an agency of each kind may create. A `pipeline` list is the US resettlement
# pipeline: a checkpoint's verification answers `in_pipeline` (and a letter's validity) from
# the pipeline lists it owns or receives, so only the mission may hold one (domain.md).
LIST_KINDS: dict[AgencyKind, frozenset[ListKind]] = {
    AgencyKind.US_MISSION: frozenset(ListKind),
    AgencyKind.UNHCR: frozenset(ListKind) - {ListKind.PIPELINE},
    AgencyKind.GOP: frozenset(ListKind) - {ListKind.PIPELINE},
    AgencyKind.OVERSIGHT: frozenset(),
}

# Scopes a client of each kind of agency may be granted at all.
_LETTER_SCOPES = frozenset({Scope.LETTERS_READ, Scope.LETTERS_WRITE})
SCOPE_CEILING: dict[AgencyKind, frozenset[Scope]] = {
    AgencyKind.US_MISSION: frozenset(Scope) - {Scope.ENCOUNTERS_WRITE, Scope.STATUS_WRITE},
    AgencyKind.UNHCR: frozenset(Scope) - _LETTER_SCOPES - {Scope.ENCOUNTERS_WRITE},
    AgencyKind.GOP: frozenset(Scope) - _LETTER_SCOPES,
    AgencyKind.OVERSIGHT: frozenset({Scope.AUDIT_READ, Scope.ADMIN}),
}

# Statuses each kind of agency may claim of a person (POST .../status-claims): Pakistan what
# its documents, police and border record; UNHCR its registration; both a departure they
# saw. The US mission states its own in the record (program, stage).
_DEPARTED = frozenset({"departed_third_country"})
CLAIMABLE_STATUSES: dict[AgencyKind, frozenset[str]] = {
    AgencyKind.GOP: frozenset(EncounterEvent.__args__)  # type: ignore[attr-defined]
    | {"documented", "document_expired", "verified"}
    | _DEPARTED,
    AgencyKind.UNHCR: frozenset({"registered", "registration_expired"}) | _DEPARTED,
}

# Agencies whose auditors see every agency's events (joint oversight).
OVERSIGHT_AGENCIES = frozenset({AgencyKind.OVERSIGHT})


def policy_for(operation: str) -> OperationPolicy | None:
    return OPERATIONS.get(operation)


def visible_fields(agency_kind: AgencyKind, agreement_fields: frozenset[str]) -> frozenset[str]:
    """Fields a recipient sees: what the agreement grants, cut to the agency's ceiling."""
    return agreement_fields & FIELD_CEILING[agency_kind]
