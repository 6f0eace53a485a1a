"""The offline verifier page in headless Chromium (Debian's `chromium`): it accepts a genuine
letter, and refuses one with a single altered byte, one signed by an unknown key, an expired
one and a revoked one. The credential travels in the URL fragment, which no server sees."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import replace
from pathlib import Path

import pytest

from letters import base45
from letters.credential import PREFIX, CoveredMember, LetterClaims, sign
from letters.keys import new_letter_key, private_key
from letters.verifier_build import build_verifier_html
from schemas.letters import LetterSigningKey

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
_BODY = re.compile(r"<body[^>]*>")


def _claims(issued: int, expires: int) -> LetterClaims:
    return LetterClaims(
        letter_id="SL-2026-BROWSER001",
        issuer="us-mission-test",
        name="Mohammad Nabi Ahmadzai",
        name_native="محمد نبی احمدزی",
        father_name="Abdul Ghafoor",
        birth_year=1984,
        birth_calendar=None,
        members=(CoveredMember("Freshta Ahmadzai", "فرشته"),),
        issued_at=issued,
        expires_at=expires,
    )


def _signed(key: LetterSigningKey, claims: LetterClaims) -> str:
    return sign(claims, key.kid, private_key(key.kid, key.private_pem))


def _body_of_page(page: Path, credential: str, language: str = "en") -> dict[str, str]:
    """Open the page in a fresh headless Chromium and return the <body> data attributes."""
    fragment = urllib.parse.urlencode({"lang": language, "c": credential})
    with tempfile.TemporaryDirectory(prefix="sanad-chromium-") as profile:
        result = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                f"{page.as_uri()}#{fragment}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    match = _BODY.search(result.stdout)
    assert match, result.stderr[-2000:]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', match.group(0)))


@pytest.fixture(scope="module")
def mission_key() -> LetterSigningKey:
    return new_letter_key("us-mission-test")


@pytest.fixture(scope="module")
def page(mission_key: LetterSigningKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("verifier")
    html = build_verifier_html(
        [mission_key.public_jwk], ["SL-2026-REVOKED001"], dt.datetime.now(dt.UTC)
    )
    (directory / "index.html").write_text(html, "utf-8")
    return directory / "index.html"


def test_genuine_letter_is_valid_with_name_and_birth_year(
    page: Path, mission_key: LetterSigningKey
) -> None:
    now = int(time.time())
    body = _body_of_page(page, _signed(mission_key, _claims(now - 60, now + 86400)), "ps-AF")
    assert body["status"] == "valid"
    assert body["name"] == "Mohammad Nabi Ahmadzai"
    assert body["birth-year"] == "1984"


def test_one_altered_byte_is_invalid(page: Path, mission_key: LetterSigningKey) -> None:
    now = int(time.time())
    raw = bytearray(base45.decode(_signed(mission_key, _claims(now, now + 86400))[len(PREFIX) :]))
    raw[len(raw) // 2] ^= 0x01  # one byte of the signed payload
    body = _body_of_page(page, PREFIX + base45.encode(bytes(raw)))
    assert body["status"] == "invalid"
    assert "name" not in body


def test_unknown_key_is_refused(page: Path, mission_key: LetterSigningKey) -> None:
    now = int(time.time())
    stranger = new_letter_key("forger")  # a fresh key: its kid is not in the page
    assert stranger.kid != mission_key.kid
    body = _body_of_page(page, _signed(stranger, _claims(now, now + 86400)))
    assert body["status"] == "unknown-key"


def test_key_id_of_the_mission_with_a_forged_signature_is_invalid(
    page: Path, mission_key: LetterSigningKey
) -> None:
    now = int(time.time())
    forger = new_letter_key("forger")
    forger.kid = mission_key.kid  # claims to be the mission's key
    body = _body_of_page(page, _signed(forger, _claims(now, now + 86400)))
    assert body["status"] == "invalid"


def test_a_letter_in_another_mission_s_name_is_invalid(
    page: Path, mission_key: LetterSigningKey
) -> None:
    now = int(time.time())
    claims = replace(_claims(now, now + 86400), issuer="another-mission")
    body = _body_of_page(page, _signed(mission_key, claims))
    assert body["status"] == "invalid"
    assert "name" not in body


def test_expired_letter_is_refused(page: Path, mission_key: LetterSigningKey) -> None:
    now = int(time.time())
    body = _body_of_page(page, _signed(mission_key, _claims(now - 400 * 86400, now - 86400)))
    assert body["status"] == "expired"


def test_revoked_letter_is_refused(page: Path, mission_key: LetterSigningKey) -> None:
    now = int(time.time())
    claims = replace(_claims(now, now + 86400), letter_id="SL-2026-REVOKED001")
    assert _body_of_page(page, _signed(mission_key, claims))["status"] == "revoked"
