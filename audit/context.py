"""What one request contributes to the audit: caller, purpose, outcome and records disclosed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from auth.principal import Principal
from schemas.audit import TARGET_MAX


@dataclass(slots=True)
class Disclosure:
    list_id: str
    record_id: str
    record_key: str
    owner_agency_id: str
    fields: tuple[str, ...]


@dataclass(slots=True)
class AuditContext:
    """Filled in as the request is handled; written (fail-closed) before the response leaves."""

    request_id: str
    method: str
    route: str
    occurred_at: dt.datetime
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    principal: Principal | None = None
    purpose: str | None = None
    reason: str | None = None
    target: str | None = None
    # what the request made, named only if it was made (a refused request made nothing)
    created: list[tuple[str, str]] = field(default_factory=list)
    disclosures: list[Disclosure] = field(default_factory=list)
    written_with_status: int | None = None

    def disclose(
        self,
        *,
        list_id: str,
        record_id: str,
        record_key: str,
        owner_agency_id: str,
        fields: tuple[str, ...],
    ) -> None:
        self.disclosures.append(Disclosure(list_id, record_id, record_key, owner_agency_id, fields))

    def names(self, **created: str) -> None:
        """Adds to the event's target an object the request made (its id is in no path),
        spelled as the routes that later name it do (`agreement_id=…`). Only an event of the
        request's success names it: a change refused at its commit (a bulk-read limit, a
        conflict) is rolled back, and its event is written with the refusal's status."""
        self.created.extend(created.items())


def spell_target(names: Iterable[tuple[str, object]]) -> str | None:
    """Objects as an audit event's target: URL-encoded pairs in order (`list_id=…&record_id=…`),
    cut to the column; None when there are none."""
    spelled = urlencode(list(names), quote_via=quote)
    return spelled[:TARGET_MAX] or None


def outcome_for(status: int) -> str:
    if status < 400:
        return "allowed"
    if status < 500:
        return "denied"
    return "error"


def default_reason(status: int) -> str:
    return {
        200: "ok",
        201: "created",
        204: "ok",
        304: "not-modified",
        401: "unauthenticated",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        409: "conflict",
        412: "precondition-failed",
        422: "validation-failed",
    }.get(status, "ok" if status < 400 else f"status-{status}")


def _target(ctx: AuditContext, status: int) -> str | None:
    """The path's objects, then those the request made, when it was allowed (a success, or a
    response that failed after its change committed). A refused request names nothing: its
    path is whatever its sender typed, unauthenticated perhaps, a person's name perhaps, and
    the log keeps its entries for ever and shows them to every agency's auditors."""
    if status >= 400 and ctx.written_with_status is None:
        return None
    if not ctx.created:
        return ctx.target
    created = spell_target(ctx.created)
    return f"{ctx.target}&{created}"[:TARGET_MAX] if ctx.target else created


def event_row(ctx: AuditContext, status: int) -> dict[str, object]:
    p = ctx.principal
    return {
        "id": ctx.event_id,
        "occurred_at": ctx.occurred_at,
        "request_id": ctx.request_id,
        "client_id": p.client_id if p else None,
        "subject": p.subject if p else None,
        "agency_id": p.agency_id if p else None,
        "token_jti": p.token_jti if p else None,
        "scopes": " ".join(sorted(p.scopes)) if p else None,
        "purpose": ctx.purpose,
        "method": ctx.method,
        "route": ctx.route,
        "status": status,
        "outcome": outcome_for(status),
        "reason": ctx.reason or default_reason(status),
        "disclosure_count": len(ctx.disclosures) if status < 400 else 0,
        "target": _target(ctx, status),
    }


def disclosure_rows(ctx: AuditContext, status: int) -> list[dict[str, object]]:
    if status >= 400:
        return []
    p = ctx.principal
    return [
        {
            "id": str(uuid.uuid4()),
            "event_id": ctx.event_id,
            "occurred_at": ctx.occurred_at,
            "list_id": d.list_id,
            "record_id": d.record_id,
            "record_key": d.record_key,
            "owner_agency_id": d.owner_agency_id,
            "recipient_agency_id": p.agency_id if p else None,
            "client_id": p.client_id if p else None,
            "purpose": ctx.purpose,
            "fields": ",".join(d.fields),
        }
        for d in ctx.disclosures
    ]
