"""A checkpoint's claim about a person (name, father's name, date of birth) scored against
candidate pipeline records with the reconciliation engine, so that `Shafiq son of Abdul
Ghafoor, 1984` finds `Shafeeq s/o Abdul Ghafur, 1363 SH`. The caller fetches candidates (by any
broad key) and decides what to answer; this module only scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconcile.assignment import DECISIONS
from reconcile.engine import link_tables
from reconcile.explain import evidence, reason
from reconcile.parameters import ModelParameters
from reconcile.table import RecordTable

CLAIM_ID = "claim"


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    record_id: str  # the candidate's `record_id` as given
    probability: float
    decision: str  # accepted | review
    reason: str  # quotes names: never log it


def score_person_claim(
    claim: Mapping[str, str | None],
    candidates: Sequence[Mapping[str, object]],
    searched_records: int,
    parameters: ModelParameters | None = None,
) -> list[ScoredCandidate]:
    """Candidates at or above the review threshold, most probable first (at most one of them
    `accepted`). `claim` has exchange fields (given_name, father_name, dob, dob_calendar,
    family_name, ...); `candidates` are exchange rows with a `record_id`; `searched_records` is
    the size of the lists they were drawn from (it sets the prior odds of a chance match)."""
    if not candidates:
        return []
    left = RecordTable.from_rows([{**claim, "record_id": CLAIM_ID}])
    right = RecordTable.from_rows(candidates)
    result = link_tables(
        left, right, parameters, population=(1, max(searched_records, len(candidates)))
    )
    links = result.links
    scored = [
        ScoredCandidate(
            record_id=right.record_ids[int(links.right[k])],
            probability=float(links.probability[k]),
            decision=DECISIONS[int(links.decision[k])],
            reason=reason(evidence(result, k)),
        )
        for k in range(len(links))
    ]
    return sorted(scored, key=lambda c: -c.probability)
