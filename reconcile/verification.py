"""A checkpoint's claim about a person (name, father's name, date of birth) scored against
candidate pipeline records with the reconciliation engine, so that `Shafiq son of Abdul
Ghafoor, 1984` finds `Shafeeq s/o Abdul Ghafur, 1363 SH`. The caller fetches candidates (by any
broad key) and decides what to answer; this module only scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconcile.assignment import DECISIONS
from reconcile.engine import LinkResult, link_tables
from reconcile.explain import evidence, reason
from reconcile.name_counts import NameCounts
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
    name_counts: NameCounts | None = None,
) -> list[ScoredCandidate]:
    """Candidates at or above the review threshold, most probable first (at most one of them
    `accepted`); when none is accepted because several fit equally well, those too, as `review`
    with their probability as if alone. `claim` has exchange fields (given_name, father_name,
    dob, dob_calendar, family_name, ...); `candidates` are exchange rows with a `record_id`;
    `searched_records` is the size of the lists they were drawn from (it sets the prior odds of
    a chance match); `name_counts`, their names, by which the claim's names weigh (without
    them, every agreeing name weighs the average)."""
    if not candidates:
        return []
    left = RecordTable.from_rows([{**claim, "record_id": CLAIM_ID}])
    right = RecordTable.from_rows(candidates)
    result = link_tables(
        left,
        right,
        parameters,
        population=(1, max(searched_records, len(candidates))),
        keep_candidates=True,
        name_counts=name_counts,
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
    if not any(candidate.decision == "accepted" for candidate in scored):
        scored += _namesakes(result, right, {candidate.record_id for candidate in scored})
    return sorted(scored, key=lambda c: -c.probability)


def _namesakes(result: LinkResult, right: RecordTable, known: set[str]) -> list[ScoredCandidate]:
    """Candidates the claim fits well enough to be accepted alone, when two or more do: their
    competition leaves each too little probability to be listed, yet a checkpoint must hear
    "more than one person fits", never "nobody" (twins, a brother with the same name)."""
    assert result.candidate_pairs is not None
    _, right_index, log_odds = result.candidate_pairs
    alone = result.scorer.probability(log_odds)
    strong = alone >= result.scorer.parameters.thresholds.accept
    if int(strong.sum()) < 2:
        return []
    return [
        ScoredCandidate(
            record_id=right.record_ids[int(index)],
            probability=float(probability),
            decision="review",
            reason="fits more than one record as well as this one",
        )
        for index, probability in zip(right_index[strong], alone[strong], strict=True)
        if right.record_ids[int(index)] not in known
    ]
