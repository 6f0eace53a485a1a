"""`sanad letter ...`: verify a credential on the command line, build the offline verifier page,
rotate a mission's letter-signing key."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from database.engine import make_async_engine

letter_app = typer.Typer(help="Protection letters", no_args_is_help=True)


async def _with_session(work: Any) -> Any:
    engine = make_async_engine(Settings().database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _jwks_from_file(path: Path) -> list[dict[str, object]]:
    """The letter keys of a saved JWKS: P-256 keys marked for letters (others are skipped, as
    a letter is only ever signed with ES256; a crash on an RSA key helped no one)."""
    try:
        document = json.loads(path.read_text("utf-8"))
        keys = document.get("keys", []) if isinstance(document, dict) else []
    except (UnicodeDecodeError, json.JSONDecodeError):
        typer.echo(f"{path}: not a JWKS (JSON with a `keys` list)", err=True)
        raise typer.Exit(code=2) from None
    return [
        k
        for k in keys
        if isinstance(k, dict)
        and k.get("sanad_key_use") == "protection-letter"
        and k.get("kty") == "EC"
        and k.get("crv") == "P-256"
        and "kid" in k
    ]


@letter_app.command("verify")
def verify_command(
    credential: Annotated[str, typer.Argument(help="the QR content (SL1:...), or - for stdin")],
    jwks: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="a saved /.well-known/jwks.json: check offline, without revocations",
        ),
    ] = None,
) -> None:
    """Check a letter credential: signature, dates, and (with the database) revocation.
    Prints JSON; exits 0 only for a valid letter."""
    from letters.checking import check_credential
    from letters.credential import verify
    from letters.keys import letter_key

    text = typer.get_text_stream("stdin").read().strip() if credential == "-" else credential
    if jwks is not None:
        known = {str(k["kid"]): letter_key(k) for k in _jwks_from_file(jwks)}
        check = verify(text, known, int(time.time()))
        status, claims = check.outcome, check.claims
    else:
        verdict = asyncio.run(_with_session(lambda s: check_credential(s, text)))
        status, claims = verdict.status, verdict.claims
    result: dict[str, object] = {"status": status}
    if claims is not None and status != "invalid":
        result.update(
            letter_id=claims.letter_id,
            name=claims.name,
            name_native=claims.name_native,
            father_name=claims.father_name,
            birth_year=claims.birth_year,
            members=[m.name for m in claims.members],
            expires_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims.expires_at)),
        )
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    if status != "valid":
        raise typer.Exit(code=1)


@letter_app.command("build-verifier")
def build_verifier(
    out: Annotated[Path, typer.Option(help="directory to write index.html into")],
) -> None:
    """Write the offline verifier page with today's keys and revocations bundled in."""
    from letters.verifier_build import build_verifier_html
    from letters.verifier_data import verifier_inputs
    from schemas.types import utcnow

    jwks, revoked = asyncio.run(_with_session(verifier_inputs))
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    target.write_text(build_verifier_html(jwks, revoked, utcnow()), "utf-8")
    typer.echo(f"wrote {target} ({len(jwks)} key(s), {len(revoked)} revoked letter(s))")


@letter_app.command("rotate-key")
def rotate_key(agency_id: Annotated[str, typer.Option(help="the issuing mission")]) -> None:
    """New letters are signed with a new key; the old one stays published until its letters
    have expired, and its private half is destroyed."""
    from cli.admin import destroy_retired
    from letters.keys import rotate

    async def work(session: AsyncSession) -> str:
        key = await rotate(session, agency_id)
        await session.commit()
        return key.kid

    typer.echo(f"new letter-signing key {asyncio.run(_with_session(work))}")
    destroy_retired()
