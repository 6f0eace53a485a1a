"""ASGI middleware that makes every request's audit event a precondition of its response.

The response is held back until the event (and its disclosures) is committed; if the audit
write fails, the held response is dropped and a 503 problem without data is sent instead.
This runs around the whole app, so 401/403/404/422 responses produced anywhere are audited."""

from __future__ import annotations

import json
import re
import time
import traceback
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.route_index import route_target, route_template
from audit.bulk_reads import BLOCKED_STATUS, REQUEST_DETECTOR, BulkReadDetector, alert_events
from audit.context import AuditContext
from audit.writer import AuditWriteError, AuditWriter
from problems import PROBLEM_KINDS
from schemas.types import utcnow

log = structlog.get_logger("sanad.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _frames(exc: BaseException) -> list[str]:
    """Where an error happened, without its message: database errors quote the statement's
    parameters, which are names and document numbers."""
    return [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(exc.__traceback__)]


def _inbound_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


def _problem_messages(slug: str, request_id: str) -> list[Message]:
    kind = PROBLEM_KINDS[slug]
    body = json.dumps(
        {
            "type": kind.type_uri,
            "title": kind.title,
            "status": kind.status,
            "request_id": request_id,
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    return [
        {"type": "http.response.start", "status": kind.status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


class AuditMiddleware:
    def __init__(self, app: ASGIApp, writer_of: object, bulk_reads_of: object = None) -> None:
        self.app = app
        # resolved lazily: the writer lives in app state, created in the lifespan
        self._writer_of = writer_of
        self._bulk_reads_of = bulk_reads_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _inbound_request_id(scope)
        ctx = AuditContext(
            request_id=request_id,
            method=scope["method"],
            route="(unmatched)",
            occurred_at=utcnow(),
        )
        scope.setdefault("state", {})["audit"] = ctx
        held: list[Message] = []
        status = 500
        started = time.perf_counter()

        async def hold(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            held.append(message)

        detector: BulkReadDetector | None = (
            self._bulk_reads_of(scope) if self._bulk_reads_of is not None else None  # type: ignore[operator]
        )
        # lent to the writes the request commits, which are reviewed before their commit
        lent = REQUEST_DETECTOR.set(detector)
        try:
            await self.app(scope, receive, hold)
        except Exception as exc:
            log.error(
                "unhandled_error",
                request_id=request_id,
                error=type(exc).__name__,
                frames=_frames(exc),
            )
            held.clear()
            status = 500
            ctx.reason = "internal-error"
        finally:
            REQUEST_DETECTOR.reset(lent)
        ctx.route, ctx.target = route_template(scope), route_target(scope)
        writer: AuditWriter = self._writer_of(scope)  # type: ignore[operator]
        try:
            # a write that committed its own event was reviewed then (`commit_with_audit`)
            if ctx.written_with_status is None and detector is not None:
                status, held = await self._review_bulk_reads(detector, ctx, status, held, writer)
            if ctx.written_with_status != status:
                if ctx.written_with_status is not None:
                    ctx.event_id = str(uuid.uuid4())
                    ctx.reason = "response-failed-after-commit"
                await writer.write(ctx, status)
        except AuditWriteError:
            for message in _problem_messages("audit-unavailable", request_id):
                await send(message)
            self._log(ctx, 503, started)
            return
        if not held:
            held = _problem_messages("internal-error", request_id)
        for message in held:
            await send(message)
        self._log(ctx, status, started)

    @staticmethod
    async def _review_bulk_reads(
        detector: BulkReadDetector,
        ctx: AuditContext,
        status: int,
        held: list[Message],
        writer: AuditWriter,
    ) -> tuple[int, list[Message]]:
        """Count what the response discloses; on crossing a daily limit write an alert event,
        and when blocking is on send a 429 problem instead of the data."""
        verdict = await detector.review(ctx, status)
        for alert, alert_status in alert_events(ctx, verdict, status):
            await writer.write(alert, alert_status)
        if not verdict.blocked:
            return status, held
        ctx.reason = "bulk-read-limit"
        return BLOCKED_STATUS, _problem_messages("bulk-read-limit", ctx.request_id)

    @staticmethod
    def _log(ctx: AuditContext, status: int, started: float) -> None:
        # ids only: never a name, number or any other field of a record
        log.info(
            "request",
            request_id=ctx.request_id,
            method=ctx.method,
            route=ctx.route,
            status=status,
            client_id=ctx.principal.client_id if ctx.principal else None,
            audit_event_id=ctx.event_id,
            disclosures=len(ctx.disclosures),
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
