"""Where two linked records disagree: date of birth, document numbers, sex, family composition,
and status (in the pipeline but detained or facing deportation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchange.visibility import ListView
from reconcile.parameters import FAMILY_LEVELS

FAMILY_SUPPORT_NONE = FAMILY_LEVELS[1]  # both grouped, no other member linked likewise
AGREEING_DOB = {"exact", "year_only", "missing"}
AT_RISK = {"detained", "deported", "listed for repatriation", "expired"}


def discrepancy_kinds(
    evidence: list[dict[str, object]],
    left: Mapping[str, Any] | None,
    right: Mapping[str, Any] | None,
    left_view: ListView,
    right_view: ListView,
    lone: bool = False,
) -> tuple[list[str], list[str]]:
    """(kinds, phrases) of the disagreements the caller may see: `evidence` as it may read it,
    `left` and `right` the records as shown to it (a tombstone shows no status). `lone`: each
    record is the only member of its group, so no other member linking into the same group is
    no disagreement about the family (a single-person case and a one-person household)."""
    kinds: list[str] = []
    details: list[str] = []
    for item in evidence:
        field, level, phrase = item.get("field"), item.get("level"), str(item.get("phrase"))
        if field == "dob" and level not in AGREEING_DOB:
            kinds.append("dob")
        elif field == "documents" and level in ("near", "different"):
            kinds.append("documents")
        elif field == "sex" and level == "disagree":
            kinds.append("sex")
        elif field == "family_context" and level == FAMILY_SUPPORT_NONE and not lone:
            kinds.append("family composition")
        else:
            continue
        details.append(phrase)
    for row, view, other in ((left, left_view, right_view), (right, right_view, left_view)):
        status = (row or {}).get("status")
        if "status" in view.fields and status in AT_RISK and other.list.kind == "pipeline":
            kinds.append("status")
            details.append(f"in the pipeline but {status}")
    return kinds, details
