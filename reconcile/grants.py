"""Whether a run may still read its lists as it read them: a run reads each list as its owner's
view was when it started (`Reconciliation.views`), and the incremental worker keeps it up to
date only while the owner's agreements still grant that much for the purpose `reconciliation`
(an ended agreement, or a narrower one in its place, would have it process what its owner may
no longer read)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from exchange import repository as exchange_repository
from exchange.visibility import merge_agreements
from reconcile.visible import narrowed_fields
from schemas.reconciliation import Reconciliation
from schemas.vocabulary import Purpose


def reads_within(
    spec: Mapping[str, object], fields: frozenset[str], coarsen: Mapping[str, str]
) -> bool:
    """Whether a run's view of a list (`spec`, as the run stored it) reads no more than a view
    granting `fields` with `coarsen`: every field it reads is granted, and a field the grant
    coarsens it read coarsened the same way."""
    return not narrowed_fields(spec, fields, coarsen)


async def still_granted(session: AsyncSession, run: Reconciliation, now: dt.datetime) -> bool:
    """Whether, at `now`, every list of the run is its owner's own or shared with it for
    reconciliation at least as widely as the run read it."""
    kind = await exchange_repository.agency_kind(session, run.owner_agency_id)
    for list_id in run.list_ids:
        exchange_list = await exchange_repository.get_list(session, list_id)
        if exchange_list is None or kind is None:
            return False
        if exchange_list.owner_agency_id == run.owner_agency_id:
            continue
        live = await exchange_repository.live_agreements(
            session, [list_id], run.owner_agency_id, now
        )
        usable = [a for a in live if Purpose.RECONCILIATION.value in a.purposes]
        if not usable:
            return False
        fields, coarsen = merge_agreements(usable, kind)
        if not reads_within(run.views.get(list_id, {}), fields, coarsen):
            return False
    return True
