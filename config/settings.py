"""Settings of one Sanad process, read from `SANAD_*` environment variables and `DATABASE_URL`."""

from __future__ import annotations

import logging
from functools import lru_cache
from ipaddress import ip_address
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExternalIssuer(BaseModel):
    """A trusted external OAuth issuer (e.g. an agency's Keycloak realm) and its claim mapping.

    An issuer speaks for the agencies it is configured for, never for whichever its tokens name:
    `agency` (its one agency), or `agencies` (those its `agency_claim` may name). And it grants
    no scope beyond `allowed_scopes`, which must be listed (`admin` only if listed). Otherwise
    one agency's identity provider could sign a token for another agency's administrator."""

    issuer: str
    audience: str
    jwks_url: str | None = None
    jwks: dict[str, object] | None = None
    algorithms: list[str] = Field(default_factory=lambda: ["ES256", "RS256", "EdDSA"])
    token_types: list[str] = Field(default_factory=lambda: ["at+jwt", "JWT"])
    agency: str | None = None
    agencies: list[str] = Field(default_factory=list)
    agency_claim: str = "agency"
    scope_claim: str = "scope"
    subject_claim: str = "sub"
    client_id_claim: str = "azp"
    allowed_scopes: list[str] = Field(min_length=1)
    # Its tokens cannot be revoked here and are trusted until they expire: a longer-lived one
    # (a day-long session token) is refused; two hours admits Entra ID's 60-90 minute tokens.
    max_token_lifetime_seconds: int = Field(default=7200, gt=0, le=86400)

    @model_validator(mode="after")
    def _speaks_for_named_agencies(self) -> ExternalIssuer:
        if (self.agency is None) == (not self.agencies):
            raise ValueError(
                f"external issuer {self.issuer}: give `agency` (its one agency) or `agencies` "
                "(those its tokens may name), exactly one of them"
            )
        return self


class Settings(BaseSettings):
    """Everything a deployment may tune. Built in the app factory or CLI, never at import time."""

    # an error names the setting and the rule, never the value: DATABASE_URL holds a password
    model_config = SettingsConfigDict(
        env_prefix="SANAD_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(
        default="sqlite:///./sanad.db",
        validation_alias=AliasChoices("DATABASE_URL", "SANAD_DATABASE_URL"),
    )
    issuer: str = "http://127.0.0.1:8000"
    audience: str = "sanad-api"
    access_token_lifetime_seconds: int = Field(default=900, le=900, gt=0)
    liaison_token_lifetime_seconds: int = Field(default=300, le=900, gt=0)
    clock_leeway_seconds: int = Field(default=10, ge=0, le=10)
    max_token_bytes: int = Field(default=8192, gt=0)
    external_issuers: list[ExternalIssuer] = Field(default_factory=list)
    # at least a second: a token naming an unknown key id fetches the issuer's JWKS again
    jwks_min_refetch_seconds: float = Field(default=60.0, ge=1)
    # at least one: the group commit takes `audit_batch_max` events at a time, and a negative
    # count left the last event of a burst uncommitted for ever (its request never answered)
    audit_batch_max: int = Field(default=512, ge=1)
    db_pool_size: int = Field(default=20, ge=1, le=200)
    # transparency log of the audit (docs/transparency-log.md)
    transparency_origin: str = "sanad.local/audit-log"  # checkpoint origin = log key name
    transparency_signing_key_file: str | None = None  # None: the private key lives in the DB
    # a base64 32-byte key outside the database that seals token and letter signing keys and
    # webhook secrets at rest (sealing/); None: they are stored as they are
    sealing_key_file: str | None = None
    # or a PKCS#11 token holding that key, which never leaves it (sealing/token.py): the
    # token's library, its label, a file holding the user PIN, and the key's label in it
    sealing_pkcs11_module: str | None = None
    sealing_pkcs11_token: str | None = None
    sealing_pkcs11_pin_file: str | None = None
    sealing_pkcs11_key: str = "sanad-sealing"
    # with a token: new access-token and letter signing keys are made in it too, and sign there
    sealing_pkcs11_signing_keys: bool = True
    transparency_sequencer_enabled: bool = True
    # hash and sign in a child process: in the API's own, that work holds the GIL
    transparency_sequencer_in_child_process: bool = True
    transparency_poll_interval_seconds: float = Field(default=0.15, gt=0, le=1)
    transparency_batch_max: int = Field(default=5000, ge=1, le=50_000)
    transparency_max_backlog_seconds: float = Field(default=5.0, gt=0)
    transparency_max_backlog_events: int = Field(default=100_000, ge=1)
    # bulk-read detection: distinct records disclosed per UTC day (docs/transparency-log.md)
    bulk_read_client_daily_limit: int = Field(default=5000, ge=1)
    bulk_read_agreement_daily_limit: int = Field(default=20_000, ge=1)
    bulk_read_block: bool = False  # also refuse (429) the request that would cross a limit
    bulk_read_resync_seconds: float = Field(default=60.0, gt=0)
    # the most memory a reconciliation run's process may hold, in MB; unset: 70 % of the
    # machine's (reconcile/memory.py). A larger run fails with an error saying so.
    reconcile_memory_mb: int | None = Field(default=None, ge=1)
    log_level: str = "INFO"
    sql_echo: bool = False
    # How long a thread may hold the GIL before another that waits gets it (Python: 5 ms). The
    # request loop, the audit writer and the sequencer hand it back and forth; a thread coming
    # back from a GIL-free SQLite step waited up to the whole interval (docs/performance.md).
    gil_switch_interval_ms: float = Field(default=1.0, gt=0, le=5.0)

    @field_validator("database_url")
    @classmethod
    def _database_sanad_runs_on(cls, url: str) -> str:
        backend = url.partition("://")[0].partition("+")[0] if "://" in url else ""
        if backend not in DATABASE_BACKENDS:
            raise ValueError("sqlite:///PATH or postgresql://user@host:port/database")
        return url

    @field_validator("issuer")
    @classmethod
    def _issuer_is_a_base_url(cls, issuer: str) -> str:
        # the `iss` of every token and the base of the token endpoint (`{issuer}/oauth/token`,
        # the `aud` of client assertions): scheme and host, no query, no trailing slash
        parts = urlsplit(issuer)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http(s) URL, such as https://sanad.example.org")
        if parts.query or parts.fragment or issuer.endswith("/"):
            raise ValueError("no query, fragment or trailing slash")
        return issuer

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, level: str) -> str:
        if level.upper() not in LOG_LEVELS:
            raise ValueError(f"one of {', '.join(LOG_LEVELS)}")
        return level.upper()

    def insecure_choices(self) -> list[str]:
        """What this configuration leaves open that a deployment holding real lists should
        close, each said in a sentence (`sanad serve` prints them as it starts)."""
        found = []
        if self.sealing_key_file is None and self.sealing_pkcs11_module is None:
            found.append(
                "no sealing key (SANAD_SEALING_KEY_FILE or SANAD_SEALING_PKCS11_*): the private "
                "keys that sign access tokens and letters, and webhook secrets, are stored as "
                "they are, so a copy of the database mints tokens and forges letters"
            )
        issuer = urlsplit(self.issuer)
        host = issuer.hostname or ""
        if issuer.scheme == "http" and not _loopback(host):
            found.append(
                f"SANAD_ISSUER is plain http on {host}: client secrets and access tokens "
                "travel unencrypted unless a TLS proxy is in front and the issuer says https"
            )
        return found


DATABASE_BACKENDS = ("sqlite", "postgresql")
LOG_LEVELS = tuple(logging.getLevelNamesMapping())


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build their own `Settings` and pass it to the factory."""
    return Settings()
