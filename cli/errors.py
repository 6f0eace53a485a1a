"""How every `sanad` command ends when it is refused, and how it writes a file of personal data.

A refusal is one line on stderr and exit 2, never a traceback: a domain refusal (`ProblemError`,
whose detail never quotes a value, as in an HTTP problem) or settings or input that do not
validate (named by field and rule, never by the value given: a database URL holds its password).
Files a command writes that hold personal data or the audit log are readable by their owner
only, as the key files are (transparency.keys.write_owner_only)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any, NoReturn

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from problems import ProblemError

USAGE_EXIT = 2


def refuse(reason: str, *, what: str = "refused") -> NoReturn:
    """One line on stderr (`what` says which step refused, e.g. "export refused"), exit 2."""
    typer.echo(f"{what}: {reason}", err=True)
    raise typer.Exit(code=USAGE_EXIT)


def invalid_summary(exc: ValidationError) -> str:
    """What did not validate, by field and rule; pydantic's own text quotes the input."""
    problems = (
        f"{'.'.join(str(part) for part in error['loc']) or exc.title}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    )
    return f"invalid {exc.title}: " + "; ".join(problems)


class RefusingGroup(TyperGroup):
    """The `sanad` command group: a refusal raised anywhere below ends as `refuse` does."""

    def invoke(self, ctx: Any) -> Any:  # click's Context: typer 0.29 vendors its own click
        try:
            return super().invoke(ctx)
        except ProblemError as exc:
            refuse(str(exc))
        except ValidationError as exc:
            refuse(invalid_summary(exc))


def open_owner_only(path: Path) -> IO[bytes]:
    """`path` opened for writing from empty, readable by its owner only (an existing file too:
    a rerun must not leave the new contents readable under the old file's mode)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "wb")
