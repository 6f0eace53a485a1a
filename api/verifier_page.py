"""GET /verifier: the offline letter verifier with today's published keys bundled in. The page
holds public keys and revoked-letter hashes only, so its policy entry is public."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep
from letters.verifier_build import build_verifier_html
from letters.verifier_data import verifier_inputs
from schemas.types import utcnow

router = APIRouter(tags=["letters"])


@router.get("/verifier", name="letter_verifier", response_class=HTMLResponse)
async def letter_verifier(services: ServicesDep) -> HTMLResponse:
    async with services.sessions() as session:
        jwks, revoked = await verifier_inputs(session)
    html = build_verifier_html(jwks, revoked, utcnow())
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
