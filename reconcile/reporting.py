"""Gathers what the report shows (reconcile/report.py) for the run's owner: the run's counts,
its links per probability band and decision as they stand now, the lists as the caller sees
them now, and the statuses of the records found where the caller's view shows `status`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import AccessContext
from exchange.service import load_view
from exchange.visibility import ListView
from problems import ProblemError
from reconcile import repository, service
from reconcile.report import ReportList, render_report
from reconcile.report_chart import PROBABILITY_BANDS, Bands


async def report(session: AsyncSession, access: AccessContext, run_id: str) -> str:
    """The run's report as HTML (404 problem for a run of another agency)."""
    run = await service.get(session, access, run_id)
    rows = await repository.probability_bands(session, run.id, PROBABILITY_BANDS)
    lists = [await _report_list(session, access, run.id, list_id) for list_id in run.list_ids]
    return render_report(run, lists, Bands.of(rows, PROBABILITY_BANDS))


async def _report_list(
    session: AsyncSession, access: AccessContext, run_id: str, list_id: str
) -> ReportList:
    view = await _view(session, access, list_id)
    if view is None:
        return ReportList(list_id, None)
    statuses = None
    if "status" in view.fields:
        statuses = await repository.statuses_linked(session, run_id, list_id)
    listed = view.list
    return ReportList(list_id, listed.name, listed.kind, listed.owner_agency_id, statuses)


async def _view(session: AsyncSession, access: AccessContext, list_id: str) -> ListView | None:
    """The caller's view for this purpose; without its fields when the purpose does not allow
    them; None when the list is no longer shared with the caller."""
    for personal_data in (True, False):
        try:
            return await load_view(session, access, list_id, personal_data=personal_data)
        except ProblemError:
            continue
    return None
