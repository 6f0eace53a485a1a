"""The process's one logged-in session per PKCS#11 token, and the token's objects used through
it. PKCS#11 logs in an application, not a session: a second login fails
(CKR_USER_ALREADY_LOGGED_IN) and closing a logged-in session logs every session of the process
out. So each token gets one session, logged in once and shared under a lock (a session runs one
operation at a time), and is replaced only when it is lost (a networked HSM dropped the
connection, or someone logged the process out); a `TokenObject` then finds its key again on
the new session and retries its operation once."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import pkcs11
from pkcs11 import Attribute
from pkcs11 import exceptions as p11

from sealing.box import SecretUnreadableError

Found = TypeVar("Found")
Result = TypeVar("Result")

# the token or its connection went away, or the login with it: log in on a new session
SESSION_LOST = (
    p11.SessionHandleInvalid,
    p11.SessionClosed,
    p11.DeviceRemoved,
    p11.TokenNotPresent,
    p11.UserNotLoggedIn,
)


class TokenUnavailableError(SecretUnreadableError):
    """The token cannot be reached or refused the operation: nothing is wrong with the value."""


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


def require_kept_in_token(key: pkcs11.Key, description: str) -> None:
    """Refuse a key that could be copied off the token, which is what the token is for."""
    if key[Attribute.EXTRACTABLE] or not key[Attribute.SENSITIVE]:
        raise ValueError(f"{description}: extractable or not sensitive; refused")


class TokenObject(Generic[Found]):
    """An object of the token (a key), found on the process's login with it and found again
    after a new login; operations on it run under the session's lock."""

    def __init__(self, settings: TokenSettings, find: Callable[[pkcs11.Session], Found]) -> None:
        self._settings = settings
        self._find = find
        self._login = login(settings)
        with self._login.lock:
            self._object = find(self._login.session)

    def use(self, operation: Callable[[Found], Result]) -> Result:
        """The operation's result; TokenUnavailableError if the token stays lost."""
        try:
            return self._apply(operation)
        except SESSION_LOST:
            self._login_again()
        try:
            return self._apply(operation)
        except SESSION_LOST as exc:
            raise TokenUnavailableError(f"PKCS#11 token: {type(exc).__name__}") from None

    def _apply(self, operation: Callable[[Found], Result]) -> Result:
        current, found = self._login, self._object
        with current.lock:
            return operation(found)

    def _login_again(self) -> None:
        try:
            renewed = login(self._settings, replacing=self._login)
            with renewed.lock:
                self._object = self._find(renewed.session)
            self._login = renewed
        except (ValueError, p11.PKCS11Error) as exc:
            raise TokenUnavailableError(f"PKCS#11 token: {exc}") from None
