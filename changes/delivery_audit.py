"""The audit context of a webhook delivery: data leaving the process outside any request is
audited like a response, committed before it is sent (fail-closed), one event per attempt, and
reviewed for bulk reads as a response is."""

from __future__ import annotations

from audit.context import AuditContext, spell_target
from auth.principal import Principal
from changes.service import disclose_events
from schemas.changes import ChangeEvent, WebhookDelivery, WebhookSubscription
from schemas.types import utcnow
from schemas.vocabulary import AgencyKind

ROUTE = "/webhooks/{subscription_id}"
REASON = "webhook-delivery"
STATUS = 200  # audited before it is sent, as a response about to leave


def delivery_context(
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    agency_kind: AgencyKind,
    event: ChangeEvent,
) -> AuditContext:
    """The attempt as the subscribing client's access: its purpose, the record it discloses."""
    principal = Principal(
        client_id=subscription.client_id,
        subject=subscription.client_id,
        agency_id=subscription.agency_id,
        agency_kind=agency_kind,
        scopes=frozenset(),
        token_jti="",
        issuer="sanad-webhooks",
        expires_at=0,
    )
    ctx = AuditContext(
        request_id=delivery.id,
        method="POST",
        route=ROUTE,
        occurred_at=utcnow(),
        principal=principal,
        purpose=subscription.purpose,
        reason=REASON,
        target=spell_target([("subscription_id", subscription.id)]),  # ROUTE's, as a request's
    )
    disclose_events(ctx, [event])
    return ctx
