"""Transitive linking across three lists: links A↔B, B↔C and A↔C should agree. Where they
do not (A↔B and B↔C but A↔C' or no A↔C), the conflict is surfaced for review, never resolved by
a guess."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Pairs = Mapping[str, str]  # left record id -> right record id (accepted or confirmed links)


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: str  # "different third record" | "missing third link"
    records: tuple[str, ...]  # a, b, c as linked through b, and c' when A links elsewhere

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "records": list(self.records)}


def transitive_conflicts(ab: Pairs, bc: Pairs, ac: Pairs) -> list[Conflict]:
    """Conflicts among the links of lists A, B and C (each map is left -> right)."""
    conflicts = []
    c_of_a_via_b = {a: bc[b] for a, b in ab.items() if b in bc}
    for a, c in sorted(c_of_a_via_b.items()):
        direct = ac.get(a)
        if direct is None:
            conflicts.append(Conflict("missing third link", (a, ab[a], c)))
        elif direct != c:
            conflicts.append(Conflict("different third record", (a, ab[a], c, direct)))
    return conflicts


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
