"""`sanad import LIST_ID FILE --client-id C --purpose P`: import an exchange-format file (CSV or
NDJSON) into a list on the server host, through the very service `POST /v1/lists/{list_id}/imports`
runs (`exchange.import_service.import_records`), as a named client of the list's owner.

The command stands in for what the HTTP path does around that service, and nothing more:
instead of a token, the client is looked up in the database (unknown or disabled: refused as an
unauthenticated request is) and its registered scopes, cut to its agency's ceiling as at token
issuance, are checked against the route's policy entry (`auth.access.authorize_operation`);
instead of the audit middleware, every outcome is written as one audit event with the route's
template, allowed or denied, so an auditor finds a command-line import where an HTTP one would
be (its request id starts `cli-`). Parsing, validation, ownership, idempotency and the
all-or-nothing commit are the service's. The report is JSON: `imported` with the counts,
`rejected` with each rejected row's number, field and reason (never its value), or `refused`."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from audit.context import AuditContext, spell_target
from audit.writer import commit_with_audit
from auth import repository as auth_repository
from auth.access import AccessContext, authorize_operation, check_purpose_code
from auth.oauth_server import SanadClient
from auth.principal import Principal
from config.settings import Settings
from database.engine import make_async_engine
from exchange.exchange_format import ExchangeFormat
from exchange.import_service import MAX_IMPORT_BYTES, import_records
from problems import ProblemError
from schemas.types import utcnow
from schemas.vocabulary import AgencyKind

OPERATION = "import_records"  # the HTTP route's name: it selects the same policy entry
ROUTE = "/v1/lists/{list_id}/imports"  # its template, under which the audit files the event
ISSUER = "sanad-cli"  # the principal was vouched for by the operator's shell, not a token
# the media types the route documents for the two formats
MEDIA_TYPES: dict[ExchangeFormat, str] = {"csv": "text/csv", "ndjson": "application/x-ndjson"}
_EXTENSIONS: dict[str, ExchangeFormat] = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
_UTF8_BOM = b"\xef\xbb\xbf"
_READ_CHUNK = 1 << 20
_Report = dict[str, object]


def detect_format(path: Path, body: bytes) -> ExchangeFormat:
    """By the file's extension; failing that, by its content: every NDJSON record is a JSON
    object, while a CSV file starts with its header row, whose column names are not `{`."""
    by_name = _EXTENSIONS.get(path.suffix.lower())
    if by_name is not None:
        return by_name
    start = body[: 64 * 1024].removeprefix(_UTF8_BOM).lstrip()
    return "ndjson" if start.startswith(b"{") else "csv"


def run_import(
    settings: Settings,
    list_id: str,
    path: Path,
    client_id: str,
    idempotency_key: str | None = None,
    purpose: str | None = None,
    quiet: bool = False,
) -> _Report:
    """Import `path` into `list_id` as `client_id`, all or nothing, audited; the JSON report.
    The idempotency key defaults to the file's SHA-256, so running it again replays."""
    return asyncio.run(_run(settings, list_id, path, client_id, idempotency_key, purpose, quiet))


async def _run(
    settings: Settings,
    list_id: str,
    path: Path,
    client_id: str,
    idempotency_key: str | None,
    purpose: str | None,
    quiet: bool,
) -> _Report:
    engine = make_async_engine(settings.database_url, pool_size=2)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    audit = AuditContext(
        request_id=f"cli-{uuid.uuid4().hex}",
        method="POST",
        route=ROUTE,
        occurred_at=utcnow(),
        target=spell_target([("list_id", list_id)]),  # as the route's event names its list
    )
    # on stderr, so that stdout carries the JSON report alone
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=Console(stderr=True), disable=quiet) as bar:
            steps = _Steps(sessions, audit, bar)
            report = await _audited(
                sessions,
                audit,
                lambda: steps.run(list_id, path, client_id, idempotency_key, purpose),
            )
            status = report.pop("status")
            if steps.stage is not None:  # the bar's last line says how it ended
                done = int(status == "imported")
                bar.update(steps.stage, description=str(status), total=1, completed=done)
    finally:
        await engine.dispose()
    return {"status": status, "list_id": list_id, **report, "request_id": audit.request_id}


class _Steps:
    """The steps of the HTTP path in its order: authenticate, authorise, read the body, call
    the service. Each refusal is a `ProblemError`, as the route's would be."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], audit: AuditContext, bar: Progress
    ) -> None:
        self._sessions, self._audit, self._bar = sessions, audit, bar
        self.stage: TaskID | None = None  # the bar's line of the step under way

    async def run(
        self,
        list_id: str,
        path: Path,
        client_id: str,
        idempotency_key: str | None,
        purpose: str | None,
    ) -> _Report:
        access = await self._authorize(client_id, purpose)
        body, file_hash = self._read(path)
        fmt = detect_format(path, body)
        key = idempotency_key or file_hash
        # the service's work (parse, check, store, commit) reports no progress: a pulsing line
        self.stage = self._bar.add_task("importing", total=None)
        async with self._sessions() as session:
            # a rejected file raises here; closing the session rolls its transaction back
            report = await import_records(
                session, access, self._audit, list_id, body, MEDIA_TYPES[fmt], key
            )
        return {
            "status": "imported",
            **report.model_dump(mode="json", exclude={"status", "rejected"}),
            "format": fmt,
            "idempotency_key": key,
        }

    async def _authorize(self, client_id: str, purpose: str | None) -> AccessContext:
        async with self._sessions() as session:
            client = await session.run_sync(_enabled_client, client_id)
        self._audit.principal = Principal(
            client_id=client.client_id,
            subject=client.subject,
            agency_id=client.row.agency_id,
            agency_kind=client.agency_kind,
            # as a token of this client would carry them: registered, cut to the ceiling
            scopes=client.granted_scopes,
            token_jti="",
            issuer=ISSUER,
            expires_at=0,
        )
        # noted before the check, as the route does, so a refused purpose is audited too
        if purpose:
            check_purpose_code(purpose)
        self._audit.purpose = purpose or None
        access = authorize_operation(self._audit.principal, OPERATION, purpose)
        self._audit.purpose = access.purpose.value if access.purpose else None
        # The route's last precondition, a transparency log keeping up, is not checked: it
        # keeps personal data from leaving the API unlogged, and this report carries none;
        # the server's sequencer takes this command's audit event in like any other.
        return access

    def _read(self, path: Path) -> tuple[bytes, str]:
        """The file and its SHA-256, read in steps the bar shows, within the route's limit."""
        size = path.stat().st_size
        too_large = ProblemError(
            "payload-too-large", f"imports are limited to {MAX_IMPORT_BYTES} bytes"
        )
        if size > MAX_IMPORT_BYTES:
            raise too_large
        self.stage = self._bar.add_task("reading", total=size)
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        with path.open("rb") as handle:
            while chunk := handle.read(_READ_CHUNK):
                digest.update(chunk)
                chunks.append(chunk)
                self._bar.advance(self.stage, len(chunk))
        body = b"".join(chunks)
        if len(body) > MAX_IMPORT_BYTES:  # it grew while being read
            raise too_large
        return body, digest.hexdigest()


def _enabled_client(session: Session, client_id: str) -> SanadClient:
    """The client as the token endpoint admits one. Unknown or disabled, it is refused as a
    request without a valid token is: a 401 whose audit event names no caller."""
    row = auth_repository.get_client(session, client_id)
    if row is None or row.disabled_at is not None:
        reason = "no such client" if row is None else "the client is disabled"
        raise ProblemError("unauthenticated", f"{reason}: {client_id}")
    agency = auth_repository.get_agency(session, row.agency_id)
    if agency is None:
        raise ProblemError("unauthenticated", f"the client's agency is missing: {client_id}")
    return SanadClient(row, AgencyKind(agency.kind))


async def _audited(
    sessions: async_sessionmaker[AsyncSession],
    audit: AuditContext,
    work: Callable[[], Awaitable[_Report]],
) -> _Report:
    """Run `work` and audit its outcome once, as the audit middleware does for a request: the
    service commits a new import with its event (201); a replay, a refusal (the problem's
    status, its slug as the reason) and a failure (500) are written here, in a transaction
    of their own."""
    try:
        report = await work()
        status = 201
    except ProblemError as problem:
        audit.reason = audit.reason or problem.slug
        report, status = _problem_report(problem), problem.kind.status
    except Exception:
        audit.reason = "internal-error"
        await _commit_event(sessions, audit, 500)
        raise
    await _commit_event(sessions, audit, status)
    return report


async def _commit_event(
    sessions: async_sessionmaker[AsyncSession], audit: AuditContext, status: int
) -> None:
    if audit.written_with_status is not None:  # committed with the import itself
        return
    async with sessions() as session:
        await commit_with_audit(session, audit, status)


def _problem_report(problem: ProblemError) -> _Report:
    if problem.slug == "import-rejected":
        # list id, counts and every rejected row's number, field and reason: no values
        return {"status": "rejected", "detail": problem.detail, **problem.extensions}
    report: _Report = {
        "status": "refused",
        "problem": problem.slug,
        "title": problem.kind.title,
        "detail": problem.detail,
    }
    if problem.invalid_params:
        report["invalid_params"] = problem.invalid_params
    return report
