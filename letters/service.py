"""Issue, read, re-issue and revoke protection letters for pipeline records. The mission that
owns the pipeline list issues; every letter it shows is disclosed to the audit, and every issue
or revocation enters the change feed in the same transaction."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from changes import service as changes
from exchange import repository as records
from exchange.service import load_view
from exchange.visibility import ListView, require_owner
from i18n import text
from letters import keys, repository
from letters.claims import CredentialTooLargeError, claims_for, fitted_credential
from problems import ProblemError, invalid_field
from schemas.letters import (
    LetterCreate,
    LetterPublic,
    LetterRevocation,
    LetterStatus,
    ProtectionLetter,
    ProtectionLetterMember,
)
from schemas.types import utcnow
from schemas.vocabulary import ListKind

_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
DISCLOSED_FIELDS = ("letter_id", "given_name", "family_name", "name_native", "father_name", "dob")
Row = Mapping[str, Any]


def new_letter_id(now: dt.datetime) -> str:
    """`SL-YYYY-` and 10 random characters (50 bits): unguessable, easy to read out by phone."""
    return f"SL-{now.year}-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def letter_status(letter: ProtectionLetter, now: dt.datetime) -> LetterStatus:
    if letter.revoked_at is not None:
        return "revoked"
    return "expired" if now >= letter.expires_at else "valid"


async def _covered_rows(
    session: AsyncSession, view: ListView, holder: Row, covered_keys: Sequence[str]
) -> list[Row]:
    """Covered members must be live records of the holder's case (same group_id)."""
    wanted = list(dict.fromkeys(covered_keys))
    if holder["record_key"] in wanted:
        raise invalid_field("covered_record_ids", "the holder is named by the letter already")
    found = await records.records_by_keys(session, view.list_id, wanted)
    rows: list[Row] = []
    for key in wanted:
        row = found.get(key)
        if row is None or row["withdrawn_at"] is not None:
            raise invalid_field("covered_record_ids", f"{key}: no such live record in this list")
        if not holder["group_id"] or row["group_id"] != holder["group_id"]:
            raise invalid_field("covered_record_ids", f"{key}: not of the holder's case (group_id)")
        rows.append(row)
    return rows


async def _holder_row(session: AsyncSession, view: ListView, record_key: str) -> Row:
    row = await records.get_record(session, view.list_id, record_key)
    if row is None:
        raise ProblemError("not-found", "no such record is visible to the caller")
    if row["withdrawn_at"] is not None:
        raise ProblemError("conflict", "the record is withdrawn; no letter can be issued")
    return row


async def _superseded(
    session: AsyncSession, access: AccessContext, letter_id: str | None, holder: Row
) -> ProtectionLetter | None:
    if letter_id is None:
        return None
    old = await repository.get_letter(session, letter_id)
    if old is None or old.agency_id != access.principal.agency_id:
        raise invalid_field("replaces", "no such letter of your mission")
    if old.record_id != holder["id"]:
        raise invalid_field("replaces", "a re-issued letter keeps the same holder")
    return old


def _disclose(audit: AuditContext, view: ListView, rows: Sequence[Row]) -> None:
    for row in rows:
        audit.disclose(
            list_id=view.list_id,
            record_id=row["id"],
            record_key=row["record_key"],
            owner_agency_id=view.list.owner_agency_id,
            fields=DISCLOSED_FIELDS,
        )


async def issue_letter(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    body: LetterCreate,
    language: str,
) -> LetterPublic:
    view = await load_view(session, access, body.list_id, personal_data=True)
    require_owner(view)
    if view.list.kind != ListKind.PIPELINE:
        raise invalid_field("list_id", "letters are issued for pipeline lists only")
    holder = await _holder_row(session, view, body.record_id)
    covered = await _covered_rows(session, view, holder, body.covered_record_ids)
    old = await _superseded(session, access, body.replaces, holder)
    now = utcnow().replace(microsecond=0)
    expires = now + dt.timedelta(days=body.valid_days)
    key = await keys.current_key(session, access.principal.agency_id)
    letter_id = new_letter_id(now)
    claims = claims_for(
        letter_id, access.principal.agency_id, holder, covered,
        int(now.timestamp()), int(expires.timestamp()),
    )  # fmt: skip
    try:
        credential = fitted_credential(claims, key.kid, keys.private_key(key.kid, key.private_pem))
    except CredentialTooLargeError:
        raise invalid_field(
            "covered_record_ids", "too many names for one QR code: split into two letters"
        ) from None
    named = [holder["id"], *(row["id"] for row in covered)]
    if not await records.hold_live_records(session, view.list_id, named):
        raise ProblemError("conflict", "a record the letter names was withdrawn meanwhile")
    # of two re-issues at once, the first supersedes the old letter; the other finds it revoked
    superseded = old is not None and await _revoke(session, old, f"superseded by {letter_id}", now)
    letter = ProtectionLetter(
        id=letter_id,
        agency_id=access.principal.agency_id,
        list_id=view.list_id,
        record_id=holder["id"],
        kid=key.kid,
        credential=credential,
        issued_at=now,
        expires_at=expires,
        replaces_id=old.id if old else None,
        issued_by_client_id=access.principal.client_id,
    )
    repository.add(session, letter)
    await session.flush()
    for row, role in [(holder, "holder"), *((r, "covered") for r in covered)]:
        repository.add(
            session,
            ProtectionLetterMember(
                letter_id=letter_id, record_id=row["id"], list_id=view.list_id, role=role
            ),
        )
    await session.flush()
    _disclose(audit, view, [holder, *covered])
    shown = await _public(session, letter, language)
    if old is not None and superseded:
        await _publish_revocation(session, old)
    changes.letter_changed(session, "letter.issued", letter, holder["record_key"])
    audit.names(letter_id=letter_id)
    await commit_with_audit(session, audit, 201)
    return shown


async def _revoke(
    session: AsyncSession, letter: ProtectionLetter, reason: str, at: dt.datetime
) -> bool:
    """Revoke the letter unless it is revoked already, meanwhile included (False then)."""
    if letter.revoked_at is not None:
        return False
    if not await repository.mark_revoked(session, letter.id, at, reason):
        return False
    await session.refresh(letter)
    return True


WITHDRAWN = "revoked by Sanad: a person it names was withdrawn from the pipeline list"


async def revoke_letters_naming(session: AsyncSession, record_id: str, at: dt.datetime) -> None:
    """Revoke every live letter naming a withdrawn record, as holder or covered member: it
    would go on vouching, online and on the offline page, for someone the mission no longer
    lists. The mission issues a new letter to those still listed."""
    for letter in await repository.live_letters_naming(session, record_id, at):
        if await _revoke(session, letter, WITHDRAWN, at):
            await _publish_revocation(session, letter)


async def _publish_revocation(session: AsyncSession, letter: ProtectionLetter) -> None:
    keys_by_id = await repository.record_keys(session, [letter.record_id])
    changes.letter_changed(session, "letter.revoked", letter, keys_by_id[letter.record_id])


async def _public(session: AsyncSession, letter: ProtectionLetter, language: str) -> LetterPublic:
    members = await repository.member_record_ids(session, letter.id)
    keys_by_id = await repository.record_keys(session, [record_id for record_id, _ in members])
    status = letter_status(letter, utcnow())
    return LetterPublic(
        letter_id=letter.id,
        list_id=letter.list_id,
        record_id=keys_by_id[letter.record_id],
        covered_record_ids=[keys_by_id[r] for r, role in members if role == "covered"],
        issued_at=letter.issued_at,
        expires_at=letter.expires_at,
        status=status,
        status_text=text(f"letter.{status}", language),
        kid=letter.kid,
        credential=letter.credential,
        revoked_at=letter.revoked_at,
        revocation_reason=letter.revocation_reason,
        replaces=letter.replaces_id,
    )


async def _owned_letter(
    session: AsyncSession, access: AccessContext, audit: AuditContext, letter_id: str
) -> tuple[ProtectionLetter, ListView]:
    """The letter if the caller's agency issued it (404 otherwise), its holder disclosed."""
    letter = await repository.get_letter(session, letter_id)
    if letter is None or letter.agency_id != access.principal.agency_id:
        raise ProblemError("not-found", "no such letter is visible to the caller")
    view = await load_view(session, access, letter.list_id, personal_data=True)
    require_owner(view)
    members = await repository.member_record_ids(session, letter.id)
    keys_by_id = await repository.record_keys(session, [record_id for record_id, _ in members])
    _disclose(audit, view, [{"id": r, "record_key": keys_by_id[r]} for r, _ in members])
    return letter, view


async def get_letter(
    session: AsyncSession, access: AccessContext, audit: AuditContext, letter_id: str, language: str
) -> LetterPublic:
    letter, _ = await _owned_letter(session, access, audit, letter_id)
    return await _public(session, letter, language)


async def revoke_letter(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    letter_id: str,
    body: LetterRevocation,
    language: str,
) -> LetterPublic:
    letter, _ = await _owned_letter(session, access, audit, letter_id)
    # conditional: of two revocations at once, the later finds the letter revoked
    if not await _revoke(session, letter, body.reason, utcnow()):
        raise ProblemError("conflict", "the letter is already revoked")
    shown = await _public(session, letter, language)
    await _publish_revocation(session, letter)
    await commit_with_audit(session, audit, 200)
    return shown


async def letter_for_pdf(
    session: AsyncSession, access: AccessContext, audit: AuditContext, letter_id: str
) -> tuple[ProtectionLetter, str]:
    """The letter and its issuing mission's name, for rendering."""
    letter, _ = await _owned_letter(session, access, audit, letter_id)
    return letter, await repository.agency_name(session, letter.agency_id)
