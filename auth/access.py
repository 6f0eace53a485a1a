"""The authorised context of one request: caller, operation, its policy and the purpose of use."""

from __future__ import annotations

from dataclasses import dataclass

from auth.policy import LIST_KINDS, OperationPolicy, policy_for
from auth.principal import Principal
from problems import ProblemError
from schemas.vocabulary import ListKind, Purpose


@dataclass(frozen=True, slots=True)
class AccessContext:
    principal: Principal
    operation: str
    policy: OperationPolicy
    purpose: Purpose | None


MAX_PURPOSE_CODE = 64  # the audit event's purpose column


def check_purpose_code(value: str) -> None:
    """No purpose code is longer or holds anything but printable ASCII. Callers check it before
    the audit event takes the value as claimed: PostgreSQL cannot store a NUL, and the audit
    rows of concurrent requests are committed together."""
    if len(value) > MAX_PURPOSE_CODE or not (value.isascii() and value.isprintable()):
        raise ProblemError(
            "purpose-not-allowed",
            f"a purpose of use is a code of at most {MAX_PURPOSE_CODE} printable ASCII characters",
            invalid_params=[{"name": "Purpose-Of-Use", "reason": "not a purpose code"}],
        )


def authorize_operation(
    principal: Principal, operation: str, purpose_header: str | None
) -> AccessContext:
    """Deny by default: unknown operations, missing scopes, wrong agency or purpose are refused."""
    policy = policy_for(operation)
    if policy is None or policy.public:
        raise ProblemError("agency-not-entitled", "operation has no policy entry")
    if not principal.has_scopes(frozenset(policy.scopes)):
        missing = " ".join(sorted(policy.scopes - principal.scopes))
        raise ProblemError(
            "insufficient-scope",
            f"requires scope: {missing}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{missing}"'},
        )
    if principal.agency_kind not in policy.agencies:
        raise ProblemError("agency-not-entitled", f"{principal.agency_kind} may not do this")
    purpose = _purpose(policy, purpose_header)
    return AccessContext(principal, operation, policy, purpose)


def _purpose(policy: OperationPolicy, header: str | None) -> Purpose | None:
    if header is None or header == "":
        if policy.personal_data:
            raise ProblemError(
                "purpose-required",
                "this request discloses personal data: send a Purpose-Of-Use header",
                invalid_params=[{"name": "Purpose-Of-Use", "reason": "missing"}],
            )
        return None
    try:
        purpose = Purpose(header)
    except ValueError:
        raise ProblemError(
            "purpose-not-allowed",
            f"unknown purpose of use; one of: {', '.join(p.value for p in Purpose)}",
            invalid_params=[{"name": "Purpose-Of-Use", "reason": "unknown code"}],
        ) from None
    if policy.personal_data and purpose not in policy.purposes:
        raise ProblemError(
            "purpose-not-allowed",
            f"purpose {purpose.value} is not allowed for this operation",
            invalid_params=[{"name": "Purpose-Of-Use", "reason": "not allowed here"}],
        )
    return purpose


def require_list_kind(principal: Principal, kind: ListKind) -> None:
    """An agency creates only the kinds of list its kind may hold (`LIST_KINDS`): a `pipeline`
    list of anyone's but the mission's would answer checkpoints "in the US pipeline"."""
    if kind not in LIST_KINDS[principal.agency_kind]:
        # a valid body the agency is not entitled to: 403, naming the field that asks for it
        raise ProblemError(
            "agency-not-entitled",
            f"a {principal.agency_kind.value} agency may not hold a {kind.value} list",
            invalid_params=[{"name": "kind", "reason": "not a kind of list your agency holds"}],
        )
