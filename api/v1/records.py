"""Record routes: bulk import, listing, search (identifying filters only in a body), read with
an ETag, correct under If-Match, withdraw, history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response

from api.deps import Access, AuditDep, SessionDep
from api.protocol import ProtocolRoute, refused_in_query
from api.responses import problem_responses
from exchange import import_service, record_service
from exchange.record_service import ShownRecord
from problems import ProblemError
from schemas.records import (
    PRINTABLE_PATTERN,
    RECORD_PAGE_DEFAULT,
    RECORD_PAGE_MAX,
    ImportReport,
    RecordHistory,
    RecordPage,
    RecordPublic,
    RecordSearch,
    RecordUpdate,
    RecordWithdrawal,
)

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


_PAGING = ("include_withdrawn", "cursor", "limit")
# every filter of a search but paging: each names or identifies a person
_IDENTIFYING_FILTERS = tuple(name for name in RecordSearch.model_fields if name not in _PAGING)


@router.get(
    "/records",
    name="list_records",
    response_model=RecordPage,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422),
    description="Pages through a list's records as the caller may see them. Filters that "
    "identify a person (names, birth date, documents, case or letter) are not taken in the "
    "URL, where proxies log them: POST them to `records:search`.",
)
@refused_in_query(
    _IDENTIFYING_FILTERS,
    "identifying filters are not taken in URLs; POST them to /v1/lists/{list_id}/records:search",
)
async def list_records(
    list_id: ListId,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    include_withdrawn: bool = False,
    cursor: Annotated[str | None, _text(1000)] = None,
    limit: Annotated[int, Query(ge=1, le=RECORD_PAGE_MAX)] = RECORD_PAGE_DEFAULT,
) -> dict[str, object]:
    query = RecordSearch(include_withdrawn=include_withdrawn, cursor=cursor, limit=limit)
    return await _page(session, access, audit, list_id, query)


@router.post(
    "/records:search",
    name="search_records",
    response_model=RecordPage,
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def search_records(
    list_id: ListId, body: RecordSearch, access: Access, session: SessionDep, audit: AuditDep
) -> dict[str, object]:
    """Records matching every filter given, a page at a time (`cursor` from `next_cursor`)."""
    return await _page(session, access, audit, list_id, body)


async def _page(
    session: SessionDep, access: Access, audit: AuditDep, list_id: str, query: RecordSearch
) -> dict[str, object]:
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
