"""The catalogue of error kinds (RFC 9457 `type` URIs) and the exception domain code raises."""

from problems.catalogue import (
    PROBLEM_BASE_URI,
    PROBLEM_KINDS,
    ProblemError,
    ProblemKind,
    invalid_field,
)

__all__ = ["PROBLEM_BASE_URI", "PROBLEM_KINDS", "ProblemError", "ProblemKind", "invalid_field"]
