"""Record routes: bulk import, search, read with ETag, correct under If-Match, withdraw, history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response

from api.deps import Access, AuditDep, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from exchange import import_service, record_service
from exchange.record_service import MAX_PAGE, RecordQuery, ShownRecord
from problems import ProblemError
from schemas.records import (
    PRINTABLE_PATTERN,
    ImportReport,
    RecordHistory,
    RecordPage,
    RecordPublic,
    RecordUpdate,
    RecordWithdrawal,
)
from schemas.vocabulary import DocumentType

router = APIRouter(prefix="/lists/{list_id}", tags=["records"], route_class=ProtocolRoute)

ListId = Annotated[str, Path(max_length=36, pattern=PRINTABLE_PATTERN)]
RecordId = Annotated[str, Path(max_length=128, pattern=PRINTABLE_PATTERN)]


def _text(max_length: int, description: str | None = None) -> Any:
    return Query(max_length=max_length, pattern=PRINTABLE_PATTERN, description=description)


IfMatch = Annotated[
    str | None, Header(alias="If-Match", description="ETag of the version being changed")
]
_ETAG_HEADER = {"ETag": {"description": "Version of the record", "schema": {"type": "string"}}}
_EXCHANGE_BODY = {"schema": {"type": "string", "description": "exchange format, see domain.md"}}
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": _EXCHANGE_BODY, "application/x-ndjson": _EXCHANGE_BODY},
    }
}


def _with_etag(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {200: {"headers": _ETAG_HEADER}, **problem_responses(*statuses)}


def _shown(result: ShownRecord, response: Response) -> dict[str, object]:
    response.headers["ETag"] = result.etag
    return result.body


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    # a header may carry any Latin-1 character: `²` passes str.isdigit() but not int()
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ProblemError("payload-too-large", f"imports are limited to {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProblemError("payload-too-large", f"imports are limited to {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/imports",
    name="import_records",
    status_code=201,
    response_model=ImportReport,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    openapi_extra=_IMPORT_BODY,
)
async def import_records(
    list_id: ListId,
    request: Request,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="required; 1-200 characters")
    ] = None,
) -> ImportReport:
    body = await _read_body(request, import_service.MAX_IMPORT_BYTES)
    media_type = request.headers.get("content-type", "")
    return await import_service.import_records(
        session, access, audit, list_id, body, media_type, idempotency_key
    )


@router.get(
    "/records",
    name="search_records",
    response_model=RecordPage,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422),
)
async def search_records(
    list_id: ListId,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    document: Annotated[str | None, _text(64)] = None,
    document_type: DocumentType | None = None,
    given_name: Annotated[str | None, _text(200)] = None,
    family_name: Annotated[str | None, _text(200)] = None,
    father_name: Annotated[str | None, _text(200)] = None,
    name: Annotated[str | None, _text(200, "any name field the caller may see")] = None,
    dob: Annotated[str | None, _text(10, "YYYY, YYYY-MM or YYYY-MM-DD")] = None,
    dob_calendar: Literal["gregorian", "solar_hijri"] | None = None,
    group_id: Annotated[str | None, _text(64)] = None,
    letter_id: Annotated[str | None, _text(64)] = None,
    include_withdrawn: bool = False,
    cursor: Annotated[str | None, _text(1000)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = record_service.DEFAULT_PAGE,
) -> dict[str, object]:
    query = RecordQuery(
        document=document,
        document_type=document_type.value if document_type else None,
        given_name=given_name,
        family_name=family_name,
        father_name=father_name,
        name=name,
        dob=dob,
        dob_calendar=dob_calendar,
        group_id=group_id,
        letter_id=letter_id,
        include_withdrawn=include_withdrawn,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = await record_service.search_records(session, access, audit, list_id, query)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/records/{record_id}",
    name="get_record",
    response_model=RecordPublic,
    response_model_exclude_unset=True,
    responses=_with_etag(401, 403, 404),
)
async def get_record(
    list_id: ListId,
    record_id: RecordId,
    response: Response,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
) -> dict[str, object]:
    result = await record_service.get_record(session, access, audit, list_id, record_id)
    return _shown(result, response)


@router.patch(
    "/records/{record_id}",
    name="update_record",
    response_model=RecordPublic,
    response_model_exclude_unset=True,
    responses=_with_etag(401, 403, 404, 409, 412, 422, 428),
)
async def update_record(
    list_id: ListId,
    record_id: RecordId,
    body: RecordUpdate,
    response: Response,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    if_match: IfMatch = None,
) -> dict[str, object]:
    result = await record_service.update_record(
        session, access, audit, list_id, record_id, body, if_match
    )
    return _shown(result, response)


@router.post(
    "/records/{record_id}/withdrawal",
    name="withdraw_record",
    response_model=RecordPublic,
    response_model_exclude_unset=True,
    responses=_with_etag(401, 403, 404, 409, 412, 422),
)
async def withdraw_record(
    list_id: ListId,
    record_id: RecordId,
    body: RecordWithdrawal,
    response: Response,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    if_match: IfMatch = None,
) -> dict[str, object]:
    result = await record_service.withdraw_record(
        session, access, audit, list_id, record_id, body, if_match
    )
    return _shown(result, response)


@router.get(
    "/records/{record_id}/versions",
    name="record_history",
    response_model=RecordHistory,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404),
)
async def record_history(
    list_id: ListId, record_id: RecordId, access: Access, session: SessionDep, audit: AuditDep
) -> RecordHistory:
    return await record_service.record_history(session, access, audit, list_id, record_id)
