"""The process's one logged-in session per PKCS#11 token. PKCS#11 logs in an application, not
a session: a second login fails (CKR_USER_ALREADY_LOGGED_IN) and closing a logged-in session
logs every session of the process out. So each token gets one session, logged in once and
shared under a lock (a session runs one operation at a time), and is replaced only when it is
lost (a networked HSM dropped the connection, or someone logged the process out)."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pkcs11
from pkcs11 import exceptions as p11

# the token or its connection went away, or the login with it: log in on a new session
SESSION_LOST = (
    p11.SessionHandleInvalid,
    p11.SessionClosed,
    p11.DeviceRemoved,
    p11.TokenNotPresent,
    p11.UserNotLoggedIn,
)


@dataclass(frozen=True, slots=True)
class TokenSettings:
    """Where the key is: the token's PKCS#11 library, the token's label, a file holding the
    user PIN (kept out of the environment, which `/proc` and crash reports show) and the key's
    label in the token."""

    module: str
    token_label: str
    pin_file: str
    key_label: str

    def pin(self) -> str:
        try:
            pin = Path(self.pin_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"PKCS#11 PIN file {self.pin_file}: cannot be read ({exc})") from None
        if not pin:
            raise ValueError(f"PKCS#11 PIN file {self.pin_file}: empty")
        return pin


@dataclass(eq=False, slots=True)
class Login:
    session: pkcs11.Session
    pin: str
    lock: threading.Lock = field(default_factory=threading.Lock)


_LOGINS: dict[tuple[str, str], Login] = {}
_LOGINS_LOCK = threading.Lock()


def login(settings: TokenSettings, replacing: Login | None = None) -> Login:
    """The token's logged-in session; a new one if `replacing` is still the current one (it was
    lost). ValueError naming what is wrong: the library, the token, the PIN."""
    place = (settings.module, settings.token_label)
    pin = settings.pin()
    with _LOGINS_LOCK:
        current = _LOGINS.get(place)
        if current is not None and current is not replacing:
            if current.pin != pin:
                raise ValueError(
                    f"PKCS#11 token {settings.token_label!r}: logged in with another PIN"
                )
            return current
        if current is not None:
            with contextlib.suppress(p11.PKCS11Error):
                current.session.close()
        _LOGINS[place] = Login(_logged_in_session(settings, pin), pin)
        return _LOGINS[place]


def _logged_in_session(settings: TokenSettings, pin: str) -> pkcs11.Session:
    try:
        library = pkcs11.lib(settings.module)
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"PKCS#11 library {settings.module}: cannot be loaded ({exc})") from None
    try:
        token = library.get_token(token_label=settings.token_label)
    except (p11.NoSuchToken, p11.MultipleTokensReturned):
        raise ValueError(f"PKCS#11 token {settings.token_label!r}: none, or several") from None
    try:
        # read-write: the same session makes the sealing key (`sanad keys new-sealing-key`)
        return token.open(user_pin=pin, rw=True)
    except (p11.PinIncorrect, p11.PinLenRange, p11.PinInvalid):
        raise ValueError(f"PKCS#11 token {settings.token_label!r}: the PIN is refused") from None
