"""A real PKCS#11 token for the tests: SoftHSM 2 (Debian's `softhsm2`, installed by
`scripts/os-packages --with-hsm`), one token per test run in a directory of its own. SoftHSM
reads its configuration once, when a process first loads it, so the token is made per session
and each test that needs a key makes one under a label of its own. Without SoftHSM the tests
that use it are skipped, except under CI, where they fail."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from sealing.token import create_key
from sealing.token_login import TokenSettings

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "sanad-tests"
SOFTHSM_UTIL = shutil.which("softhsm2-util")


def _require_softhsm() -> None:
    if SOFTHSM_UTIL and Path(MODULE).exists():
        return
    missing = "SoftHSM 2 is not installed (scripts/os-packages --with-hsm)"
    if os.environ.get("CI"):
        pytest.fail(missing)
    pytest.skip(missing)


def new_softhsm_token(home: Path) -> TokenSettings:
    """A SoftHSM token in `home`, with a PIN file; its key label is not made yet. Call before
    this process first loads SoftHSM, which reads `SOFTHSM2_CONF` then."""
    (home / "tokens").mkdir()
    config = home / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {home / 'tokens'}\nlog.level = ERROR\n")
    pin = secrets.token_hex(8)
    pin_file = home / "pin"
    pin_file.write_text(pin + "\n")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        [str(SOFTHSM_UTIL), "--init-token", "--free", "--label", TOKEN_LABEL,
         "--pin", pin, "--so-pin", secrets.token_hex(8)],
        check=True, capture_output=True,
    )  # fmt: skip
    return TokenSettings(MODULE, TOKEN_LABEL, str(pin_file), key_label="unset")


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> TokenSettings:
    """The run's token."""
    _require_softhsm()
    return new_softhsm_token(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def token_key(softhsm_token: TokenSettings) -> TokenSettings:
    """A sealing key of this test's own in the token."""
    settings = replace(softhsm_token, key_label=f"sealing-{secrets.token_hex(6)}")
    create_key(settings)
    return settings


def token_environment(token: TokenSettings) -> dict[str, str]:
    """The service's settings naming the token and its key."""
    return {
        "SANAD_SEALING_PKCS11_MODULE": token.module,
        "SANAD_SEALING_PKCS11_TOKEN": token.token_label,
        "SANAD_SEALING_PKCS11_PIN_FILE": token.pin_file,
        "SANAD_SEALING_PKCS11_KEY": token.key_label,
    }


def seal_in_token(monkeypatch: pytest.MonkeyPatch, token: TokenSettings) -> None:
    """The service seals in the token, under its key, and names no key file."""
    monkeypatch.delenv("SANAD_SEALING_KEY_FILE", raising=False)
    for name, value in token_environment(token).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def token_sealing(token_key: TokenSettings, monkeypatch: pytest.MonkeyPatch) -> TokenSettings:
    """The service seals in the token, under this test's key."""
    seal_in_token(monkeypatch, token_key)
    return token_key
