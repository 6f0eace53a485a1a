"""Every error kind Sanad returns: its stable `type` URI, HTTP status and title."""

from __future__ import annotations

from dataclasses import dataclass, field

PROBLEM_BASE_URI = "https://sanad.dev/problems/"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    slug: str
    status: int
    title: str

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE_URI + self.slug


_KINDS = (
    ProblemKind("invalid-request", 400, "The request is malformed"),
    ProblemKind("unauthenticated", 401, "A valid access token is required"),
    ProblemKind("insufficient-scope", 403, "The token lacks a scope this operation needs"),
    ProblemKind("agency-not-entitled", 403, "The caller's agency may not perform this operation"),
    ProblemKind("purpose-required", 403, "A Purpose-Of-Use header is required"),
    ProblemKind("purpose-not-allowed", 403, "The purpose of use is not allowed here"),
    ProblemKind("filter-not-allowed", 403, "A search filter names a field the caller may not see"),
    ProblemKind("not-found", 404, "No such resource is visible to the caller"),
    ProblemKind("method-not-allowed", 405, "Method not allowed on this resource"),
    ProblemKind("not-acceptable", 406, "No acceptable representation"),
    ProblemKind("conflict", 409, "The request conflicts with the current state"),
    ProblemKind("idempotency-key-reused", 409, "The Idempotency-Key was used for another request"),
    ProblemKind("precondition-failed", 412, "The record changed since the given ETag"),
    ProblemKind("payload-too-large", 413, "The request body is too large"),
    ProblemKind("unsupported-media-type", 415, "Unsupported content type"),
    ProblemKind("validation-failed", 422, "The request has invalid fields"),
    ProblemKind("import-rejected", 422, "The import was rejected; nothing was changed"),
    ProblemKind("precondition-required", 428, "An If-Match header is required"),
    ProblemKind("rate-limited", 429, "Too many requests"),
    ProblemKind("internal-error", 500, "Internal error"),
    ProblemKind("not-ready", 503, "The service is not ready to serve personal data"),
    ProblemKind(
        "audit-unavailable", 503, "The access audit could not be written; nothing was disclosed"
    ),
    ProblemKind("audit-log-behind", 503, "The audit log is behind; no personal data is served"),
    ProblemKind("pdf-unavailable", 503, "This server cannot render the letter PDF"),
    ProblemKind("bulk-read-limit", 429, "Daily limit of distinct records disclosed reached"),
    ProblemKind("cosignature-refused", 422, "The cosignature does not verify for this checkpoint"),
)

PROBLEM_KINDS: dict[str, ProblemKind] = {kind.slug: kind for kind in _KINDS}


@dataclass(slots=True)
class ProblemError(Exception):
    """Raised by domain code; rendered by the API as `application/problem+json`."""

    slug: str
    detail: str | None = None
    invalid_params: list[dict[str, str]] = field(default_factory=list)
    extensions: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.slug not in PROBLEM_KINDS:
            raise ValueError(f"unknown problem kind {self.slug!r}")

    @property
    def kind(self) -> ProblemKind:
        return PROBLEM_KINDS[self.slug]

    def __str__(self) -> str:
        return f"{self.slug}: {self.detail or self.kind.title}"


def invalid_field(name: str, reason: str) -> ProblemError:
    """The 422 for one invalid field, named with why (never its value: it may be personal)."""
    return ProblemError(
        "validation-failed", f"invalid: {name}", invalid_params=[{"name": name, "reason": reason}]
    )
