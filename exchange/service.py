"""Lists and sharing agreements: create and read lists, give, list and terminate agreements,
and resolve a caller's view of one list. No web framework here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext, require_list_kind
from auth.policy import FIELD_CEILING
from exchange import repository
from exchange.visibility import ListView, require_owner, resolve_view
from problems import ProblemError
from schemas.lists import (
    ExchangeList,
    ExchangeListCreate,
    ExchangeListPage,
    ExchangeListPublic,
    SharingAgreement,
    SharingAgreementCreate,
    SharingAgreementPage,
    SharingAgreementPublic,
)
from schemas.types import utcnow
from schemas.vocabulary import COARSENABLE_FIELDS, RECORD_FIELDS, Coarsening


async def load_view(
    session: AsyncSession, access: AccessContext, list_id: str, *, personal_data: bool
) -> ListView:
    """The caller's view of a list for this request; 404/403 problems when refused."""
    exchange_list = await repository.get_list(session, list_id)
    agreements = (
        await repository.live_agreements(session, [list_id], access.principal.agency_id, utcnow())
        if exchange_list is not None and exchange_list.owner_agency_id != access.principal.agency_id
        else []
    )
    return resolve_view(access, exchange_list, agreements, personal_data=personal_data)


def _list_public(exchange_list: ExchangeList, count: int | None) -> ExchangeListPublic:
    return ExchangeListPublic(
        id=exchange_list.id,
        name=exchange_list.name,
        kind=exchange_list.kind,
        owner_agency_id=exchange_list.owner_agency_id,
        created_at=exchange_list.created_at,
        record_count=count,
    )


async def create_list(
    session: AsyncSession, access: AccessContext, audit: AuditContext, data: ExchangeListCreate
) -> ExchangeListPublic:
    require_list_kind(access.principal, data.kind)
    exchange_list = ExchangeList(
        name=data.name,
        kind=data.kind,
        owner_agency_id=access.principal.agency_id,
        created_by_client_id=access.principal.client_id,
    )
    repository.add(session, exchange_list)
    await session.flush()
    public = _list_public(exchange_list, 0)  # before the commit, which may expire the row
    audit.names(list_id=exchange_list.id)
    await commit_with_audit(session, audit, 201)
    return public


async def list_lists(session: AsyncSession, access: AccessContext) -> ExchangeListPage:
    lists = await repository.visible_lists(session, access.principal.agency_id, utcnow())
    counts = await repository.active_record_counts(session, [lst.id for lst in lists])
    return ExchangeListPage(items=[_list_public(lst, counts.get(lst.id, 0)) for lst in lists])


async def get_list(
    session: AsyncSession, access: AccessContext, list_id: str
) -> ExchangeListPublic:
    view = await load_view(session, access, list_id, personal_data=False)
    counts = await repository.active_record_counts(session, [list_id])
    return _list_public(view.list, counts.get(list_id, 0))


def _agreement_public(
    agreement: SharingAgreement, exchange_list: ExchangeList, caller_agency_id: str
) -> SharingAgreementPublic:
    owner = exchange_list.owner_agency_id == caller_agency_id
    return SharingAgreementPublic(
        id=agreement.id,
        list_id=agreement.list_id,
        owner_agency_id=exchange_list.owner_agency_id,
        recipient_agency_id=agreement.recipient_agency_id,
        fields=list(agreement.fields),
        coarsen=dict(agreement.coarsen),
        purposes=list(agreement.purposes),
        valid_from=agreement.valid_from,
        valid_until=agreement.valid_until,
        created_at=agreement.created_at,
        terminated_at=agreement.terminated_at,
        created_by_client_id=agreement.created_by_client_id if owner else None,
        terminated_by_client_id=agreement.terminated_by_client_id if owner else None,
    )


def _invalid(name: str, reason: str) -> dict[str, str]:
    return {"name": name, "reason": reason}


async def _agreement_problems(
    session: AsyncSession, view: ListView, data: SharingAgreementCreate
) -> list[dict[str, str]]:
    """Everything wrong with a proposed agreement, each naming the offending field."""
    problems: list[dict[str, str]] = []
    kind = await repository.agency_kind(session, data.recipient_agency_id)
    if kind is None:
        problems.append(_invalid("recipient_agency_id", "no such agency"))
    elif data.recipient_agency_id == view.list.owner_agency_id:
        problems.append(_invalid("recipient_agency_id", "the owner needs no agreement"))
    # a name we know is quoted back; anything else (of any length) is named by its position
    for index, name in enumerate(data.fields):
        if name not in RECORD_FIELDS:
            problems.append(_invalid(f"fields.{index}", "not a field of the exchange format"))
        elif kind is not None and name not in FIELD_CEILING[kind]:
            problems.append(_invalid(f"fields.{name}", f"a {kind.value} agency may never see it"))
    for name, how in data.coarsen.items():
        allowed = COARSENABLE_FIELDS.get(name, frozenset())
        if name not in RECORD_FIELDS:
            problems.append(_invalid("coarsen", "names a field not of the exchange format"))
        elif how not in {c.value for c in allowed}:
            problems.append(_invalid(f"coarsen.{name}", "this field cannot be coarsened so"))
        elif name not in data.fields:
            problems.append(_invalid(f"coarsen.{name}", "coarsens a field the agreement omits"))
    if data.valid_until <= utcnow():
        problems.append(_invalid("valid_until", "is in the past"))
    return problems


async def create_agreement(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    data: SharingAgreementCreate,
) -> SharingAgreementPublic:
    view = await load_view(session, access, data.list_id, personal_data=False)
    require_owner(view)
    problems = await _agreement_problems(session, view, data)
    if problems:
        raise ProblemError(
            "validation-failed",
            "invalid: " + ", ".join(p["name"] for p in problems),
            invalid_params=problems,
        )
    agreement = SharingAgreement(
        list_id=data.list_id,
        recipient_agency_id=data.recipient_agency_id,
        fields=list(dict.fromkeys(data.fields)),
        coarsen={name: Coarsening(how).value for name, how in data.coarsen.items()},
        purposes=list(dict.fromkeys(data.purposes)),
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        created_by_client_id=access.principal.client_id,
    )
    repository.add(session, agreement)
    await session.flush()
    public = _agreement_public(agreement, view.list, access.principal.agency_id)
    audit.names(agreement_id=agreement.id)
    await commit_with_audit(session, audit, 201)
    return public


async def list_agreements(
    session: AsyncSession, access: AccessContext, list_id: str | None
) -> SharingAgreementPage:
    agency_id = access.principal.agency_id
    pairs = await repository.agreements_of_agency(session, agency_id, list_id)
    return SharingAgreementPage(items=[_agreement_public(a, lst, agency_id) for a, lst in pairs])


async def terminate_agreement(
    session: AsyncSession, access: AccessContext, audit: AuditContext, agreement_id: str
) -> SharingAgreementPublic:
    found = await repository.get_agreement(session, agreement_id)
    agency_id = access.principal.agency_id
    if found is None or agency_id not in (found[1].owner_agency_id, found[0].recipient_agency_id):
        raise ProblemError("not-found", "no such agreement is visible to the caller")
    agreement, exchange_list = found
    if exchange_list.owner_agency_id != agency_id:
        raise ProblemError("agency-not-entitled", "only the list's owner may end an agreement")
    at, by = utcnow(), access.principal.client_id
    if not await repository.end_agreement(session, agreement_id, at, by):
        raise ProblemError("conflict", "the agreement is already terminated")
    # as stored by that update: the commit must not write them a second time
    set_committed_value(agreement, "terminated_at", at)
    set_committed_value(agreement, "terminated_by_client_id", by)
    public = _agreement_public(agreement, exchange_list, agency_id)
    await commit_with_audit(session, audit, 200)
    return public
