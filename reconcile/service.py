"""Reconciliation as the API offers it: start a run over lists the caller may use for
reconciliation, read its status, page through its links and discrepancies (each record shown
cut to the caller's current view, a withdrawn one as a tombstone to another agency, and
disclosed to the audit; evidence only where it quotes no more than that), and record people's
decisions."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from exchange import repository as exchange_repository
from exchange.record_service import shape_record
from exchange.service import load_view
from exchange.visibility import ListView, disclosed, shape_fields
from problems import ProblemError
from problems.catalogue import invalid_field
from reconcile import repository
from reconcile.assignment import LINKED_DECISIONS
from reconcile.discrepancies import FAMILY_SUPPORT_NONE, discrepancy_kinds
from reconcile.explain import held_by_conflict, reason
from reconcile.visible import narrowed_fields, view_spec, visible_evidence
from schemas.reconciliation import (
    ConflictPublic,
    DiscrepancyPublic,
    LinkDecision,
    LinkDecisionCreate,
    LinkEvidence,
    LinkPublic,
    LinkReview,
    Reconciliation,
    ReconciliationCreate,
    ReconciliationLink,
    ReconciliationPublic,
)
from schemas.types import utcnow

MAX_PAGE = 200
_NOT_VISIBLE = "no such reconciliation is visible to the caller"


class Runner(Protocol):
    def submit(self, run_id: str, agency_id: str, views: list[ListView]) -> None: ...


def public(run: Reconciliation) -> ReconciliationPublic:
    return ReconciliationPublic(
        id=run.id,
        status=run.status,  # type: ignore[arg-type]
        stage=run.stage,
        progress=round(run.progress, 3),
        list_ids=list(run.list_ids),
        counts=dict(run.counts),
        conflicts=list(run.conflicts),
        created_at=run.created_at,
        finished_at=run.finished_at,
        error=run.error,
    )


async def start(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    body: ReconciliationCreate,
    runner: Runner,
) -> ReconciliationPublic:
    """Queue a run over 2-3 distinct lists the caller owns or may use for reconciliation."""
    if len(set(body.list_ids)) != len(body.list_ids):
        raise ProblemError(
            "validation-failed",
            "invalid: list_ids",
            invalid_params=[{"name": "list_ids", "reason": "a list appears twice"}],
        )
    views = [
        await load_view(session, access, list_id, personal_data=True) for list_id in body.list_ids
    ]
    run = Reconciliation(
        owner_agency_id=access.principal.agency_id,
        created_by_client_id=access.principal.client_id,
        list_ids=list(body.list_ids),
        views={view.list_id: view_spec(view) for view in views},
    )
    repository.add(session, run)
    await session.flush()
    audit.names(reconciliation_id=run.id)
    await commit_with_audit(session, audit, 202)
    runner.submit(run.id, access.principal.agency_id, views)
    return public(run)


async def _own_run(session: AsyncSession, access: AccessContext, run_id: str) -> Reconciliation:
    run = await repository.get_run(session, run_id)
    if run is None or run.owner_agency_id != access.principal.agency_id:
        raise ProblemError("not-found", _NOT_VISIBLE)
    return run


async def get(session: AsyncSession, access: AccessContext, run_id: str) -> ReconciliationPublic:
    run = await _own_run(session, access, run_id)
    if run.status == "completed":
        run.counts = {**run.counts, **await _counts_now(session, run)}
    return public(run)


async def _counts_now(session: AsyncSession, run: Reconciliation) -> dict[str, object]:
    """The counts people's decisions change, as they stand now: a record whose every link in
    the run has been rejected since is unmatched (the run's own figure went stale at the first
    rejection). Records the incremental linker adds later are not counted here."""
    counts = await repository.decision_counts(session, run.id)
    found_unmatched = run.counts.get("unmatched")
    rejected = await repository.records_only_rejected(session, run.id)
    now: dict[str, object] = {
        "linked": counts.get("accepted", 0) + counts.get("confirmed", 0),
        "needs_review": counts.get("review", 0),
        "held_for_conflict": counts.get("held_for_conflict", 0),
        "rejected": counts.get("rejected", 0),
    }
    if isinstance(found_unmatched, dict):
        now["unmatched"] = {
            list_id: int(count) + rejected.get(list_id, 0)
            for list_id, count in found_unmatched.items()
        }
    return now


@dataclass(frozen=True, slots=True)
class _RunViews:
    """The caller's views of a run's lists now, and per list the fields the run read wider than
    those views show (hidden or coarsened since): the run's evidence quotes them as it read
    them."""

    lists: dict[str, ListView]
    narrowed: dict[str, frozenset[str]]

    def evidence(
        self, link: ReconciliationLink, left: Mapping[str, object], right: Mapping[str, object]
    ) -> list[dict[str, object]]:
        """The link's evidence that quotes no more than its records as shown (a tombstone shows
        no field) and the caller's views show now."""
        left_view, right_view = self.lists[link.left_list_id], self.lists[link.right_list_id]
        return visible_evidence(
            list(link.evidence),
            left_view.fields.intersection(left),
            right_view.fields.intersection(right),
            self.narrowed[link.left_list_id] | self.narrowed[link.right_list_id],
        )


async def _views(session: AsyncSession, access: AccessContext, run: Reconciliation) -> _RunViews:
    """The caller's views of the run's lists now (an ended agreement hides a list's records)."""
    lists = {lid: await load_view(session, access, lid, personal_data=True) for lid in run.list_ids}
    narrowed = {
        lid: narrowed_fields(run.views.get(lid, {}), view.fields, view.coarsen)
        for lid, view in lists.items()
    }
    return _RunViews(lists, narrowed)


async def _record_rows(session: AsyncSession, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    """The links' records by internal id, with the columns the engine reads; a withdrawn one
    read whole (its version and withdrawal too), to be shown as exchange shows it."""
    rows: dict[str, Mapping[str, Any]] = dict(await repository.records_by_ids(session, ids))
    withdrawn: dict[str, list[str]] = {}
    for row in rows.values():
        if row["withdrawn_at"] is not None:
            withdrawn.setdefault(row["list_id"], []).append(row["record_key"])
    for list_id, keys in withdrawn.items():
        whole = await exchange_repository.records_by_keys(session, list_id, keys)
        rows.update({row["id"]: row for row in whole.values()})
    return rows


def _shaped(row: Mapping[str, Any] | None, view: ListView) -> dict[str, object]:
    """A link's record as the caller may see it; a withdrawn one as every other response shows
    it (`shape_record`): to another agency a tombstone, to its owner with its withdrawal."""
    if row is None:
        return {}
    if row["withdrawn_at"] is not None:
        return shape_record(row, view)
    return {"record_id": row["record_key"], "list_id": row["list_id"], **shape_fields(row, view)}


def _disclose(
    audit: AuditContext, row: Mapping[str, Any] | None, view: ListView, shown: Mapping[str, object]
) -> None:
    if row is not None:
        audit.disclose(
            list_id=row["list_id"],
            record_id=row["id"],
            record_key=row["record_key"],
            owner_agency_id=view.list.owner_agency_id,
            fields=disclosed(shown, view),
        )


def _shown_record(
    row: Mapping[str, Any] | None, view: ListView, audit: AuditContext
) -> dict[str, object]:
    shown = _shaped(row, view)
    _disclose(audit, row, view, shown)
    return shown


def _encode(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _bad_cursor() -> ProblemError:
    return ProblemError(
        "validation-failed",
        "invalid: cursor",
        invalid_params=[{"name": "cursor", "reason": "not a cursor this service issued"}],
    )


def _decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise _bad_cursor() from None


def encode_cursor(probability: float, link_id: str) -> str:
    return _encode([probability, link_id])


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        probability, link_id = _decode(cursor)
        return float(probability), str(link_id)
    except (ValueError, TypeError):
        raise _bad_cursor() from None


async def _shown_links(
    session: AsyncSession,
    audit: AuditContext,
    views: _RunViews,
    links: list[ReconciliationLink],
) -> list[tuple[ReconciliationLink, dict[str, object], dict[str, object], list[dict[str, object]]]]:
    rows = await _record_rows(
        session, [x for link in links for x in (link.left_record_id, link.right_record_id)]
    )
    shown = []
    for link in links:
        left_view, right_view = views.lists[link.left_list_id], views.lists[link.right_list_id]
        left = _shown_record(rows.get(link.left_record_id), left_view, audit)
        right = _shown_record(rows.get(link.right_record_id), right_view, audit)
        shown.append((link, left, right, views.evidence(link, left, right)))
    return shown


async def links(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    run_id: str,
    *,
    decision: str | None,
    min_probability: float | None,
    max_probability: float | None,
    cursor: str | None,
    limit: int,
    held_for_conflict: bool | None = None,
    status: str | None = None,
) -> tuple[list[LinkPublic], str | None]:
    low, high = min_probability, max_probability
    if low is not None and high is not None and low > high:
        raise invalid_field("min_probability", "above max_probability: no link is in between")
    run = await _own_run(session, access, run_id)
    views = await _views(session, access, run)
    page = await repository.links_page(
        session,
        run.id,
        decision=decision,
        min_probability=min_probability,
        max_probability=max_probability,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
        held_for_conflict=held_for_conflict,
        status=None if status is None else _status_filter(run, views.lists, status),
    )
    more = len(page) > limit
    page = page[:limit]
    items = [
        link_public(link, left, right, shown)
        for link, left, right, shown in await _shown_links(session, audit, views, page)
    ]
    next_cursor = encode_cursor(page[-1].probability, page[-1].id) if more and page else None
    return items, next_cursor


def _status_filter(
    run: Reconciliation, views: dict[str, ListView], status: str
) -> repository.StatusFilter:
    """Only the statuses the caller sees: a filter on a status it may not see would tell it,
    link by link, what it was not shown. A run links each pair of its lists in its order
    (`runs.reconcile_lists`, `three_way.LIST_PAIRS`), so a list is the left side of its links
    to later lists and the right side of those to earlier ones."""
    last = len(run.list_ids) - 1
    sides = tuple(
        (list_id, side)
        for position, list_id in enumerate(run.list_ids)
        if "status" in views[list_id].fields
        for side, stands in (("left", position < last), ("right", position > 0))
        if stands
    )
    if not sides:
        raise invalid_field("status", "no list of this run shows you a status")
    return repository.StatusFilter(status, sides)


def link_public(
    link: ReconciliationLink,
    left: dict[str, object],
    right: dict[str, object],
    items: list[dict[str, object]],
) -> LinkPublic:
    if link.held_for_conflict:
        items = [*items, held_by_conflict().as_dict()]
    return LinkPublic(
        link_id=link.id,
        decision=cast(LinkDecision, link.decision),
        probability=link.probability,
        reason=reason_of(items),
        evidence=[LinkEvidence.model_validate(item) for item in items],
        left=left,
        right=right,
        incremental=link.incremental,
        held_for_conflict=link.held_for_conflict,
    )


def reason_of(items: list[dict[str, object]]) -> str:
    from reconcile.explain import Evidence

    evidence = [
        Evidence(str(i["field"]), str(i["level"]), float(i["weight"]), str(i["phrase"]))  # type: ignore[arg-type]
        for i in items
    ]
    return reason(evidence)


async def discrepancies(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    run_id: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[DiscrepancyPublic], str | None]:
    """Linked records whose fields disagree (DOB, documents, sex, family composition, status)."""
    run = await _own_run(session, access, run_id)
    views = await _views(session, access, run)
    after = decode_cursor(cursor) if cursor else None
    found: list[DiscrepancyPublic] = []
    last: ReconciliationLink | None = None
    surplus = False  # one more found past the page: the next page holds at least it
    while len(found) < limit:
        page = await repository.links_page(
            session,
            run.id,
            decision=None,
            min_probability=None,
            max_probability=None,
            after=after,
            limit=MAX_PAGE,
        )
        linked = [link for link in page if link.decision in LINKED_DECISIONS]
        rows = await _record_rows(
            session, [x for link in linked for x in (link.left_record_id, link.right_record_id)]
        )
        sizes = await repository.group_sizes(session, _groups(linked, rows))
        for link in linked:
            left_view, right_view = views.lists[link.left_list_id], views.lists[link.right_list_id]
            left_row, right_row = rows.get(link.left_record_id), rows.get(link.right_record_id)
            left, right = _shaped(left_row, left_view), _shaped(right_row, right_view)
            # of the records as shown, not as stored: a detail quotes nothing the caller is not
            # shown (a tombstone's status, a field hidden or coarsened since the run)
            items = views.evidence(link, left, right)
            groups = (_group(left_row), _group(right_row))
            lone = all(sizes.get(group, 0) <= 1 for group in groups if group is not None)
            kinds, details = discrepancy_kinds(items, left, right, left_view, right_view, lone)
            if not kinds:
                continue
            if len(found) == limit:
                surplus = True
                break
            _disclose(audit, left_row, left_view, left)
            _disclose(audit, right_row, right_view, right)
            found.append(
                DiscrepancyPublic(
                    link_id=link.id, kinds=kinds, details=details, left=left, right=right
                )
            )
            last = link
        if surplus or len(page) < MAX_PAGE:
            break
        after = (page[-1].probability, page[-1].id)
    # a full page ending at the last link read may still be followed: offer the cursor then
    more = surplus or (len(found) == limit and len(page) == MAX_PAGE)
    next_cursor = encode_cursor(last.probability, last.id) if more and last is not None else None
    return found, next_cursor


def _group(row: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """A record's (list id, group id), None without a group."""
    return (row["list_id"], row["group_id"]) if row and row["group_id"] else None


def _groups(
    links: Sequence[ReconciliationLink], rows: Mapping[str, Mapping[str, Any]]
) -> set[tuple[str, str]]:
    """The groups of the records of links whose family context found no other member linked
    likewise: only where a group has another member is that a discrepancy. The evidence is
    shown only while the caller sees both group ids (`visible_evidence`)."""
    unsupported = [
        link
        for link in links
        if any(
            item.get("field") == "family_context" and item.get("level") == FAMILY_SUPPORT_NONE
            for item in link.evidence
        )
    ]
    ends = (
        rows.get(x) for link in unsupported for x in (link.left_record_id, link.right_record_id)
    )
    return {group for row in ends if (group := _group(row)) is not None}


def _conflict_key(conflict: Mapping[str, Any]) -> list[str]:
    return [str(record) for record in conflict["records"]]


async def conflicts(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    run_id: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[ConflictPublic], str | None]:
    """A run's conflicts, each with the links among its records: the agency's record ids,
    cut to the caller's view and disclosed like any link, so a reviewer can decide them."""
    run = await _own_run(session, access, run_id)
    views = await _views(session, access, run)
    stored = sorted(await repository.run_conflicts(session, run.id), key=_conflict_key)
    if cursor is not None:
        after = _decode(cursor)
        if not isinstance(after, list) or not all(isinstance(x, str) for x in after):
            raise _bad_cursor()
        stored = [conflict for conflict in stored if _conflict_key(conflict) > after]
    page = stored[:limit]
    conflict_of = {record: n for n, c in enumerate(page) for record in _conflict_key(c)}
    # a link that joins two conflicts (one a person rejected) belongs to neither: not shown
    links = [
        link
        for link in await repository.links_among(session, run.id, list(conflict_of))
        if conflict_of[link.left_record_id] == conflict_of[link.right_record_id]
    ]
    shown = await _shown_links(session, audit, views, links)
    items = [
        ConflictPublic(
            kind=conflict["kind"],
            links=[
                link_public(link, left, right, evidence)
                for link, left, right, evidence in shown
                if conflict_of[link.left_record_id] == n
            ],
        )
        for n, conflict in enumerate(page)
    ]
    more = len(stored) > limit
    return items, _encode(_conflict_key(page[-1])) if more else None


async def decide(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    link_id: str,
    body: LinkDecisionCreate,
) -> LinkPublic:
    """Confirm or reject a link; the decision holds for the pair in this run, in the runs
    stored after it (whichever run's queue the reviewer worked from) and in every later run."""
    link = await repository.get_link(session, link_id)
    run = await repository.get_run(session, link.reconciliation_id) if link else None
    if link is None or run is None or run.owner_agency_id != access.principal.agency_id:
        raise ProblemError("not-found", "no such link is visible to the caller")
    views = await _views(session, access, run)
    agency = access.principal.agency_id
    await repository.lock_decisions(session, agency)
    link.decision = "confirmed" if body.decision == "confirm" else "rejected"
    link.held_for_conflict = False  # a person decided: no conflict holds it any more
    session.add(link)
    # one row a pair, whichever list order this run had: a second row of the pair reversed
    # would leave later runs to read an older decision
    in_order = repository.review_pair(link.left_record_id, link.right_record_id)
    review = await repository.find_review(session, agency, *in_order)
    review = review or LinkReview(
        agency_id=agency,
        left_record_id=in_order[0],
        right_record_id=in_order[1],
        decision=link.decision,
        decided_by_client_id=access.principal.client_id,
    )
    review.decision, review.note = link.decision, body.note
    review.decided_by_client_id, review.decided_at = access.principal.client_id, utcnow()
    repository.add(session, review)
    await session.flush()
    pair = (link.left_record_id, link.right_record_id)
    changed = await repository.apply_decision_to_later_runs(
        session, agency, run.created_at, pair, link.decision
    )
    # the incremental linker holds each run's links between polls: tell it they changed
    for changed_run in sorted(changed | {run.id}):
        await repository.raise_links_version(session, changed_run)
    ((_, left, right, items),) = await _shown_links(session, audit, views, [link])
    await commit_with_audit(session, audit, 200)
    return link_public(link, left, right, items)
