"""Build the offline verifier page: the static template with the missions' public keys, the
revoked letters (as hashes) and its texts bundled in, so it makes no server call after load."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from letters.verifier_text import page_text

TEMPLATE = Path(__file__).resolve().parent / "verifier" / "index.html"
_PLACEHOLDER = "/*SANAD_CONFIG*/null"
REVOKED_HASH_HEX = 16  # 64 bits of SHA-256(letter id): enough to match, no ids in the page


def revoked_hash(letter_id: str) -> str:
    return hashlib.sha256(letter_id.encode()).hexdigest()[:REVOKED_HASH_HEX]


def build_verifier_html(
    jwks: Sequence[dict[str, object]],
    revoked_letter_ids: Sequence[str],
    built_at: dt.datetime,
) -> str:
    keys = [
        {name: jwk[name] for name in ("kty", "crv", "x", "y", "kid", "sanad_issuer") if name in jwk}
        for jwk in jwks
        if jwk.get("sanad_key_use") == "protection-letter"
    ]
    config = {
        "keys": keys,
        "revoked": sorted(revoked_hash(letter_id) for letter_id in revoked_letter_ids),
        "built_at": built_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "text": page_text(),
    }
    # "<" escaped so no string in the data can close the script element
    data = json.dumps(config, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    template = TEMPLATE.read_text("utf-8")
    if template.count(_PLACEHOLDER) != 1:
        raise RuntimeError("verifier template lacks its configuration placeholder")
    return template.replace(_PLACEHOLDER, data)
