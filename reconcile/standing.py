"""The standing links of one run (those in effect: not rejected) as the incremental worker holds
them between polls, indexed by record, so that relinking a change reads and scans the links
around it instead of every link of the run.

Why: a full-size three-list run holds 709,512 links; reading them all from PostgreSQL took
3.3 to 4.7 s per change and scanning them in Python about 1.2 s more, where the records a change
touches have a handful. The worker (reconcile.worker) keeps one `StandingLinks` per run with the
run's `links_version` it was read at, reads it again when another writer raised that version,
and after storing a change replaces the links around the records it touched with what the
database then holds (`replace_around`), so the copy never drifts from the stored links.

Rows come and go as the dicts `repository.standing_links` reads, each a new dict (callers
that change a row, as the conflict steps of reconcile.implied do, change their own); they are
held as tuples, which take 40 % less memory."""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconcile.incremental import StandingLink

Row = dict[str, Any]
# a held link's values, in this order
_COLUMNS = (
    "id",
    "left_list_id",
    "left_record_id",
    "right_list_id",
    "right_record_id",
    "decision",
    "probability",
    "held_for_conflict",
)
_ID, _LEFT, _RIGHT = 0, 2, 4
# a few distinct values, each its own string per row as read: one copy of each saves about a
# fifth of a held link's memory
_FEW_VALUES = {1, 3, 5}
_Held = tuple[Any, ...]


def link_ends(row: Row) -> tuple[str, str]:
    """(left record id, right record id) of a link row."""
    return row["left_record_id"], row["right_record_id"]


def _row(held: _Held) -> Row:
    return dict(zip(_COLUMNS, held, strict=True))


def _held(row: Row) -> _Held:
    return tuple(
        sys.intern(row[key]) if k in _FEW_VALUES else row[key] for k, key in enumerate(_COLUMNS)
    )


class StandingLinks:
    """A run's standing link rows by id, and each record's links."""

    def __init__(self, version: int, rows: Iterable[Row]) -> None:
        self.version = version  # the run's links_version these rows were read at
        self._links: dict[str, _Held] = {}
        # record -> the ids of its links, as tuples: the garbage collector stops scanning a
        # tuple of strings, where it would scan a list for good (1.4 million of them made
        # building the copy of a full-size run's links take 4.1 s instead of 1.6 s)
        self._of_record: dict[str, tuple[str, ...]] = {}
        for row in rows:
            self._add(row)

    def __len__(self) -> int:
        return len(self._links)

    def rows(self) -> list[Row]:
        return [_row(held) for held in self._links.values()]

    def _add(self, row: Row) -> None:
        held = _held(row)
        link_id = held[_ID]
        self._links[link_id] = held
        for record in {held[_LEFT], held[_RIGHT]}:
            self._of_record[record] = (*self._of_record.get(record, ()), link_id)

    def _remove(self, link_id: str) -> None:
        held = self._links.pop(link_id)
        for record in {held[_LEFT], held[_RIGHT]}:
            ids = tuple(other for other in self._of_record[record] if other != link_id)
            if ids:
                self._of_record[record] = ids
            else:
                del self._of_record[record]

    def get(self, link_id: str) -> Row | None:
        held = self._links.get(link_id)
        return None if held is None else _row(held)

    def links_of(self, record: str) -> list[Row]:
        return [_row(self._links[link_id]) for link_id in self._of_record.get(record, ())]

    def of_records(self, records: Iterable[str]) -> list[Row]:
        """The links that join any of the records, each once."""
        found: dict[str, Row] = {}
        for record in records:
            found.update((row["id"], row) for row in self.links_of(record))
        return list(found.values())

    def near(self, records: Iterable[str], hops: int) -> list[Row]:
        """The links within `hops` links of the records (1: their own links)."""
        reached, frontier = set(records), set(records)
        found: dict[str, Row] = {}
        for _ in range(hops):
            links = self.of_records(frontier)
            found.update((row["id"], row) for row in links)
            frontier = {end for row in links for end in link_ends(row)} - reached
            reached |= frontier
        return list(found.values())

    def group(
        self, records: Iterable[str], without: Collection[str], added: Sequence[Row]
    ) -> list[Row]:
        """The links of the whole groups of linked records that hold any of the records, read
        over the standing links but those in `without` (link ids) and the rows `added` (which
        come back as they are): every link the three-way steps around a change can read
        (reconcile.implied only looks within such groups)."""
        added_of: dict[str, list[Row]] = {}
        for row in added:
            for end in set(link_ends(row)):
                added_of.setdefault(end, []).append(row)
        reached, frontier = set(records), set(records)
        found: dict[str, Row] = {}
        while frontier:
            links = [
                row
                for record in frontier
                for row in [*self.links_of(record), *added_of.get(record, ())]
                if row["id"] not in without
            ]
            found.update((row["id"], row) for row in links)
            frontier = {end for row in links for end in link_ends(row)} - reached
            reached |= frontier
        return list(found.values())

    def replace_around(self, records: Collection[str], rows: Iterable[Row]) -> None:
        """After a change is stored: drop the links that join any of the records and hold
        `rows` instead (what the database holds for them now)."""
        for link_id in {row["id"] for row in self.of_records(records)}:
            self._remove(link_id)
        for row in rows:
            if row["id"] in self._links:
                self._remove(row["id"])
            self._add(row)

    def pair(self, lists: tuple[str, str], without: Collection[str]) -> PairPartners:
        """The standing links of one pair of lists but those in `without` (link ids), looked up
        by record (reconcile.incremental.PairContext)."""
        return PairPartners(self, lists, frozenset(without))


@dataclass(frozen=True, slots=True)
class PairPartners:
    """One pair's standing links by the record at either end (incremental.StandingPair)."""

    links: StandingLinks
    lists: tuple[str, str]
    without: frozenset[str]

    def by_left(self) -> Mapping[str, StandingLink]:
        return _Partners(self, is_left=True)

    def by_right(self) -> Mapping[str, StandingLink]:
        return _Partners(self, is_left=False)

    def of(self, record: str, is_left: bool) -> StandingLink | None:
        """The record's link in this pair, on the side given; of several, the last read."""
        end = "left_record_id" if is_left else "right_record_id"
        found = None
        for row in self.links.links_of(record):
            if (
                row[end] == record
                and (row["left_list_id"], row["right_list_id"]) == self.lists
                and row["id"] not in self.without
            ):
                found = StandingLink(
                    row["id"],
                    row["left_record_id"],
                    row["right_record_id"],
                    row["decision"] == "confirmed",
                )
        return found


class _Partners(Mapping[str, StandingLink]):
    """A record -> its standing link, computed per lookup (relinking looks up a few records)."""

    def __init__(self, pair: PairPartners, is_left: bool) -> None:
        self._pair, self._is_left = pair, is_left

    def __getitem__(self, record: str) -> StandingLink:
        found = self._pair.of(record, self._is_left)
        if found is None:
            raise KeyError(record)
        return found

    def _records(self) -> set[str]:
        end = "left_record_id" if self._is_left else "right_record_id"
        pair = self._pair
        return {
            row[end]
            for row in pair.links.rows()
            if (row["left_list_id"], row["right_list_id"]) == pair.lists
            and row["id"] not in pair.without
        }

    def __iter__(self) -> Iterator[str]:
        return iter(self._records())

    def __len__(self) -> int:
        return len(self._records())
