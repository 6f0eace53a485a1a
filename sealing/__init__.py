"""Secrets the service must read back, sealed at rest under a key kept outside the database:
the private keys that sign access tokens and protection letters, and the secrets that sign
webhook deliveries. The key is either in a key file (`SANAD_SEALING_KEY_FILE`) or, better, in
a PKCS#11 token it never leaves (`SANAD_SEALING_PKCS11_*`, `sealing/token.py`). A copy of the
database alone (a backup, a dump, a read-only breach) then lets no one mint tokens, forge
letters or sign deliveries a partner would trust. Without either they are stored as they are
(the embedded default); values stored plain before a key was set are read as they are until
`sanad keys seal` seals them."""

from __future__ import annotations

from functools import cache

from config.settings import Settings
from sealing.box import (
    Sealer,
    SecretBox,
    SecretUnreadableError,
    is_sealed,
    readable_secret,
    stored_secret,
)
from sealing.token import TokenBox
from sealing.token_login import TokenSettings

__all__ = [
    "Sealer",
    "SecretBox",
    "SecretUnreadableError",
    "seal",
    "sealing_box",
    "token_settings",
    "unseal",
]


def token_settings(settings: Settings) -> TokenSettings | None:
    """The PKCS#11 token the settings name, if they name one (ValueError if half named)."""
    named = {
        "SANAD_SEALING_PKCS11_MODULE": settings.sealing_pkcs11_module,
        "SANAD_SEALING_PKCS11_TOKEN": settings.sealing_pkcs11_token,
        "SANAD_SEALING_PKCS11_PIN_FILE": settings.sealing_pkcs11_pin_file,
    }
    missing = [name for name, value in named.items() if not value]
    if len(missing) == len(named):
        return None
    if missing:
        raise ValueError(f"sealing in a PKCS#11 token also needs {', '.join(missing)}")
    return TokenSettings(
        module=str(settings.sealing_pkcs11_module),
        token_label=str(settings.sealing_pkcs11_token),
        pin_file=str(settings.sealing_pkcs11_pin_file),
        key_label=settings.sealing_pkcs11_key,
    )


@cache
def _box_for(key_file: str | None, token: TokenSettings | None) -> Sealer | None:
    if key_file and token:
        raise ValueError("set SANAD_SEALING_KEY_FILE or a PKCS#11 token for sealing, not both")
    if token:
        return TokenBox(token)
    return SecretBox.from_file(key_file) if key_file else None


def sealing_box() -> Sealer | None:
    """The sealer the settings name, made once per process and settings (ValueError if the
    key file cannot be read, or the token, its PIN or its key is refused)."""
    settings = Settings()
    return _box_for(settings.sealing_key_file, token_settings(settings))


def seal(secret: str, context: str) -> str:
    """What to store for a secret belonging to `context` (e.g. `signing_key:KID`)."""
    return stored_secret(secret, context, sealing_box())


def unseal(stored: str, context: str) -> str:
    # a value stored plain needs no key: the settings are read only for a sealed one
    return readable_secret(stored, context, sealing_box() if is_sealed(stored) else None)
