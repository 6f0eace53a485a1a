"""What the reconciliation report's two queries cost at full size: the run's links per
probability band and decision, and the statuses of a 1.3-million-record Pakistani list with
how many of each the run linked; and a page of links of every decision, of the review queue's
detained people (`…/links?decision=review&status=detained`), and of a status no record has, and
the records whose links people have all rejected (the run status's live `unmatched`). Rows are
written straight into a fresh database built by the migrations (a pipeline list, a status list,
one run and its links), then each query is timed (median of three) through the repository.

    python -m bench.report_bench [--records 1300000] [--links 20000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import random
import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bench.query_timing import Query, analyse_if_postgresql, time_on_each_backend
from database.engine import make_sync_engine
from reconcile import repository
from reconcile.report_chart import PROBABILITY_BANDS
from schemas.identity import Agency
from schemas.lists import ExchangeList
from schemas.reconciliation import Reconciliation, ReconciliationLink
from schemas.records import Record
from schemas.types import utcnow

STATUSES = ("documented", "expired", "listed for repatriation", "detained", "deported")
BATCH = 20_000
REJECTED_SHARE = 0.01  # people reject a few links in a hundred at most (the review queue)
Row = dict[str, object]


def _record(list_id: str, key: str, status: str | None) -> Row:
    now = utcnow()
    return {
        "id": str(uuid.uuid4()), "list_id": list_id, "record_key": key, "version": 1,
        "documents": [], "attributes": {}, "status": status,
        "created_at": now, "updated_at": now,
    }  # fmt: skip


def load(url: str, records: int, links: int, seed: int) -> tuple[str, str]:
    """(the run's id, the status list's id)."""
    rng = random.Random(seed)
    engine = make_sync_engine(url)
    pipeline, status_list, run_id = (str(uuid.uuid4()) for _ in range(3))
    with engine.begin() as conn:
        conn.execute(insert(Agency), [{"id": "us", "name": "US", "kind": "us_mission",
                                       "created_at": utcnow()},
                                      {"id": "gop", "name": "GoP", "kind": "gop",
                                       "created_at": utcnow()}])  # fmt: skip
        conn.execute(insert(ExchangeList), [
            {"id": pipeline, "name": "pipeline", "kind": "pipeline", "owner_agency_id": "us",
             "created_by_client_id": "bench", "created_at": utcnow()},
            {"id": status_list, "name": "statuses", "kind": "status", "owner_agency_id": "gop",
             "created_by_client_id": "bench", "created_at": utcnow()},
        ])  # fmt: skip
        left = [_record(pipeline, f"P{i}", None) for i in range(links)]
        conn.execute(insert(Record), left)
        right_ids: list[str] = []
        for start in range(0, records, BATCH):
            batch = [
                _record(status_list, f"G{i}", rng.choice(STATUSES))
                for i in range(start, min(start + BATCH, records))
            ]
            conn.execute(insert(Record), batch)
            right_ids += [str(row["id"]) for row in batch]
        conn.execute(insert(Reconciliation), [{
            "id": run_id, "owner_agency_id": "us", "created_by_client_id": "bench",
            "list_ids": [pipeline, status_list], "status": "completed", "stage": "completed",
            "progress": 1.0, "counts": {}, "conflicts": [], "views": {}, "created_at": utcnow(),
        }])  # fmt: skip
        chosen = rng.sample(right_ids, links)
        rows = [
            {
                "id": str(uuid.uuid4()), "reconciliation_id": run_id,
                "left_list_id": pipeline, "left_record_id": left[i]["id"],
                "right_list_id": status_list, "right_record_id": chosen[i],
                "probability": rng.random(),
                "decision": "rejected"
                if rng.random() < REJECTED_SHARE
                else rng.choice(("accepted", "accepted", "review", "confirmed")),
                "evidence": [], "incremental": False, "held_for_conflict": False,
                "created_at": utcnow(),
            }
            for i in range(links)
        ]  # fmt: skip
        for start in range(0, links, BATCH):
            conn.execute(insert(ReconciliationLink), rows[start : start + BATCH])
    analyse_if_postgresql(engine)
    engine.dispose()
    return run_id, status_list


def queries(run_id: str, status_list: str) -> dict[str, Query]:
    return {
        "links per band and decision": lambda s: repository.probability_bands(
            s, run_id, PROBABILITY_BANDS
        ),
        "statuses of the list, and of them linked": lambda s: repository.statuses_linked(
            s, run_id, status_list
        ),
        "records whose links people all rejected (the status's unmatched)": lambda s: (
            repository.records_only_rejected(s, run_id)
        ),
        "a page of every decision": lambda s: _links_page(s, run_id, None, None),
        "a page of the detained in review": lambda s: _links_page(
            s, run_id, "review", repository.StatusFilter("detained", ((status_list, "right"),))
        ),
        "a page of a status nobody has": lambda s: _links_page(
            s, run_id, "review", repository.StatusFilter("nobody", ((status_list, "right"),))
        ),
    }


async def _links_page(
    session: AsyncSession,
    run_id: str,
    decision: str | None,
    status: repository.StatusFilter | None,
) -> list[ReconciliationLink]:
    """A first page of `GET …/links` (51 rows: 50 and one to tell there are more)."""
    return await repository.links_page(
        session,
        run_id,
        decision=decision,
        min_probability=None,
        max_probability=None,
        after=None,
        limit=51,
        status=status,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_300_000)
    parser.add_argument("--links", type=int, default=20_000)
    parser.add_argument("--backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = time_on_each_backend(
        args.backends,
        lambda url: queries(*load(url, args.records, args.links, seed=5)),
        args.repeats,
    )
    summary = ", ".join(f"{b} {sum(figures.values()):.0f} ms" for b, figures in results.items())
    print(
        f"report bench ({args.records:,} records, {args.links:,} links): the queries take {summary}"
    )


if __name__ == "__main__":
    main()
