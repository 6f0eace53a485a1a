"""Pages of rows in one order drawn from several parts of a table, no part read beyond the page.

An ordered index scan stops at the page's limit. A filter that is a union of conditions (an
`OR`) keeps the database from using one such scan: it reads every match and sorts it. So a page
over several parts is the first `limit` of the union of each part's first `limit` (the audit
pages, `audit.repository`; a run's links, `reconcile.repository.links_page`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Select, select, union
from sqlalchemy.sql.elements import ColumnElement

# a page's query: the rows it selects, and whatever it joins to them
Page = TypeVar("Page", bound=Select[Any])


def ordered_page(
    query: Page,
    row_id: Column[Any],
    order: Sequence[ColumnElement[Any]],
    parts: Sequence[Sequence[ColumnElement[bool]]],
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
) -> Page:
    """The first `limit` rows in `order` (which ends in `row_id`) of the union of `parts` under
    `conditions`. One part is one ordered scan that stops at the page; several are the first
    `limit` of the union of each part's first `limit`."""
    if len(parts) == 1:
        return query.where(*parts[0], *conditions).order_by(*order).limit(limit)
    firsts = [
        select(row_id).where(*part, *conditions).order_by(*order).limit(limit).subquery()
        for part in parts
    ]
    page = union(*(select(first.c[row_id.key]) for first in firsts)).subquery()
    return query.where(row_id.in_(select(page.c[row_id.key]))).order_by(*order).limit(limit)
