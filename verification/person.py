"""A checkpoint's claim by name + father's name + date of birth, decided by the same scorer that
links lists (`reconcile.verification`): `Shafiq s/o Abdul Ghafoor, 1984` finds `Shafeeq s/o
Abdul Ghafur, 1363 SH`. Candidates are the reachable pipeline records born near the claimed
date as the caller's view shows it, each scored on that view alone (`verification.views`);
names weigh by their rarity in the whole lists searched, as in a run; the scorer's competition
keeps namesakes from being resolved by a guess."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass

from auth.access import AccessContext
from database.prepared import DriverChannel
from exchange.field_rules import safe_date_reason
from exchange.visibility import shape_values
from matching.dates import LONGEST_SPAN, parse_birth_date
from problems import ProblemError
from reconcile.name_counts import NameCounts
from reconcile.table import RecordTable
from reconcile.verification import score_person_claim
from schemas.verification import PersonClaim
from verification import repository
from verification.repository import MAX_PERSON_CANDIDATES, PERSON_FIELDS
from verification.views import VisibleRecord, list_views

# a year either side of the claimed span still counts as (weak) evidence in the scorer
_WIDENING = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class PersonAnswer:
    """The records the answer rests on, and whether the claim fits more than one person."""

    records: dict[str, VisibleRecord]
    ambiguous: bool


def birth_span(person: PersonClaim) -> tuple[dt.date, dt.date]:
    try:
        born = parse_birth_date(person.dob, person.dob_calendar)
    except ValueError as exc:
        reason = safe_date_reason(str(exc))  # the claimed date's digits stay out of the answer
        raise ProblemError(
            "validation-failed",
            f"person.dob: {reason}",
            invalid_params=[{"name": "person.dob", "reason": reason}],
        ) from None
    earliest, latest = born.evidence_range
    return earliest - _WIDENING, latest + _WIDENING


def _candidate_row(visible: VisibleRecord) -> dict[str, object]:
    """The names and birth date the caller's view shows, coarsened as it shows them."""
    record = visible.record
    stored = dict(zip(PERSON_FIELDS, record.extra[: len(PERSON_FIELDS)], strict=True))
    shown = shape_values(stored, visible.fields, visible.coarsen, PERSON_FIELDS)
    return {"record_id": record.record_id, **{k: v for k, v in shown.items() if v is not None}}


def _born_in(visible: VisibleRecord, earliest: dt.date, latest: dt.date) -> bool:
    """Whether the birth the view shows may fall in [earliest, latest]: a date cut to its year
    spans the year (`dob_year_*`), so the answer never turns on a day the view hides."""
    spans = visible.record.extra[len(PERSON_FIELDS) :]
    first, last = spans[2:] if "dob" in visible.coarsen else spans[:2]
    return first is None or (first <= latest and last >= earliest)


class _ListNames:
    """Name counts of the pipeline lists claims are searched in, each kept until its list
    changes (counting 25,000 records' names takes about a third of a second); the most recently
    used CAPACITY lists. Counts only: no name is kept with a record."""

    CAPACITY = 16

    def __init__(self) -> None:
        self._counts: OrderedDict[str, tuple[tuple[int, int], NameCounts]] = OrderedDict()
        # the last merge, by the lists and states merged: most claims search the same lists
        self._merged: tuple[object, NameCounts] | None = None

    async def of(self, driver: DriverChannel, lists: list[repository.SearchedList]) -> NameCounts:
        parts = []
        for searched in lists:
            held = self._counts.get(searched.list_id)
            if held is None or held[0] != searched.state:
                rows = await repository.list_names(driver, searched.list_id)
                counted = await asyncio.to_thread(NameCounts.of, RecordTable.from_rows(rows))
                held = self._counts[searched.list_id] = (searched.state, counted)
            self._counts.move_to_end(searched.list_id)
            parts.append(held[1])
        while len(self._counts) > self.CAPACITY:
            self._counts.popitem(last=False)
        key = sorted((searched.list_id, searched.state) for searched in lists)
        if self._merged is None or self._merged[0] != key:
            self._merged = (key, NameCounts.merged(parts))
        return self._merged[1]


_NAME_COUNTS = _ListNames()


async def match_person(
    driver: DriverChannel,
    access: AccessContext,
    person: PersonClaim,
    now: dt.datetime,
) -> PersonAnswer:
    """The accepted record alone; or, when the best candidates need a person's judgement, all
    of them with `ambiguous` set (the officer is told to verify by letter or document)."""
    earliest, latest = birth_span(person)
    agency_id = access.principal.agency_id
    grants = await repository.reachable_grants(driver, agency_id, now)
    views = list_views(access, ((grant.list_id, grant.grant) for grant in grants))
    # A list whose view shows no birth date cannot be searched by one: a claim it may hold is
    # sent to a letter or document ("ambiguous"), never answered "not in the pipeline".
    dated = {list_id: view for list_id, view in views.items() if "dob" in view.fields}
    unsearchable = len(dated) < len(views)
    # a year-only view spans at most LONGEST_SPAN around the stored date: fetch that much more
    wider = (
        LONGEST_SPAN if any("dob" in view.coarsen for view in dated.values()) else dt.timedelta()
    )
    params = repository.person_params(earliest - wider, latest + wider)
    found = await repository.reachable_records(driver, agency_id, now, repository.BY_PERSON, params)
    if len(found) > MAX_PERSON_CANDIDATES:  # a date this common cannot single anyone out
        return PersonAnswer({}, ambiguous=True)
    shown = (
        VisibleRecord(record, view.fields, view.coarsen)
        for record in found
        if (view := dated.get(record.list_id)) is not None
    )
    candidates = {v.record.record_id: v for v in shown if _born_in(v, earliest, latest)}
    if not candidates:
        return PersonAnswer({}, ambiguous=unsearchable)
    searched = await repository.reachable_lists(driver, agency_id, now)
    names = await _NAME_COUNTS.of(driver, searched)
    claim = person.model_dump(exclude_none=True)
    rows = [_candidate_row(candidate) for candidate in candidates.values()]
    size = sum(found.size for found in searched)
    # numpy work of a few milliseconds: off the event loop
    scored = await asyncio.to_thread(score_person_claim, claim, rows, size, None, names)
    if scored and scored[0].decision == "accepted":
        best = scored[0].record_id
        return PersonAnswer({best: candidates[best]}, ambiguous=False)
    return PersonAnswer(
        {s.record_id: candidates[s.record_id] for s in scored},
        ambiguous=bool(scored) or unsearchable,
    )
