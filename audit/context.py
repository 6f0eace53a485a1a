"""What one request contributes to the audit: caller, purpose, outcome and records disclosed."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from auth.principal import Principal


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
        spelled as the routes that later name it do (`agreement_id=…`)."""
        more = urlencode(list(created.items()), quote_via=quote)
        self.target = f"{self.target}&{more}" if self.target else more


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
        "target": ctx.target,
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
