"""Transitive linking across three lists: links A↔B, B↔C and A↔C should agree. Two links
through one record of the third list imply the third link where that pair of lists has none
for either record (`implied_links`): UNHCR's registration links a pipeline member to a PoR
card that the pipeline record lacks. Where links disagree (A↔B and B↔C but A↔C' or no A↔C),
the conflict is surfaced for review, never resolved by a guess."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

Pairs = Mapping[str, str]  # left record id -> right record id (accepted or confirmed links)
Link = tuple[str, str]  # (left record id, right record id) as its pair of lists stores it
# the three pairs of lists A, B, C by position: (0, 1), (1, 2) and (0, 2)
LIST_PAIRS = ((0, 1), (1, 2), (0, 2))


@dataclass(frozen=True, slots=True)
class ImpliedLink:
    """`left` (of list pair[0]) and `right` (of list pair[1]) are both linked to `via`, a
    record of the third list: `legs` are those two links as (left id, right id) of their own
    pairs of lists, in the order left to via, via to right."""

    pair: tuple[int, int]
    left: str
    right: str
    via: str
    legs: tuple[Link, Link]


def _edge(links: Mapping[tuple[int, int], Pairs], x: int, y: int) -> dict[str, tuple[str, Link]]:
    """List x's records -> (the linked record of list y, the link as its pair stores it)."""
    if (x, y) in links:
        return {a: (b, (a, b)) for a, b in links[(x, y)].items()}
    return {b: (a, (a, b)) for a, b in links[(y, x)].items()}


def implied_links(links: Mapping[tuple[int, int], Pairs]) -> Iterator[ImpliedLink]:
    """For each pair of the three lists (keyed by LIST_PAIRS), the links that its records'
    links through the third list imply where that pair links neither record."""
    for i, j in LIST_PAIRS:
        k = 3 - i - j
        to_third, from_third = _edge(links, i, k), _edge(links, k, j)
        linked_left, linked_right = _edge(links, i, j), _edge(links, j, i)
        for left, (via, first) in sorted(to_third.items()):
            found = from_third.get(via)
            if found is None or left in linked_left or found[0] in linked_right:
                continue
            yield ImpliedLink((i, j), left, found[0], via, (first, found[1]))


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: str  # "different third record" | "missing third link"
    records: tuple[str, ...]  # the linked records, ordered by list (A, B, C), then by id

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "records": list(self.records)}


def transitive_conflicts(ab: Pairs, bc: Pairs, ac: Pairs) -> list[Conflict]:
    """Conflicts among the links of lists A, B and C (each map is left -> right): records
    linked together, directly or through others, that cannot be one person, whichever list
    they pass through. Two records of one list among them: "different third record"; one
    record of each list with only two of their three links: "missing third link"."""
    list_of = {x: 0 for x in (*ab, *ac)} | {x: 1 for x in (*ab.values(), *bc)}
    list_of |= {x: 2 for x in (*bc.values(), *ac.values())}
    conflicts = []
    for group in clusters(ab, bc, ac):
        lists = [list_of[x] for x in group]
        if len(set(lists)) < len(lists):
            kind = "different third record"
        elif len(group) == 3 and sum(_linked_within(group, links) for links in (ab, bc, ac)) < 3:
            kind = "missing third link"
        else:
            continue
        conflicts.append(Conflict(kind, tuple(sorted(group, key=lambda x: (list_of[x], x)))))
    return sorted(conflicts, key=lambda c: c.records)


def _linked_within(group: set[str], links: Pairs) -> int:
    return sum(1 for x in group if links.get(x) in group)


def clusters(ab: Pairs, bc: Pairs, ac: Pairs) -> list[set[str]]:
    """People across the three lists: connected records (a record id is unique across lists)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for links in (ab, bc, ac):
        for x, y in links.items():
            parent[find(x)] = find(y)
    groups: dict[str, set[str]] = {}
    for x in parent:
        groups.setdefault(find(x), set()).add(x)
    return list(groups.values())
