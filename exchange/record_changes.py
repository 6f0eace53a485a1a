"""Apply a correction (PATCH body) to a record's validated values under the import's rules."""

from __future__ import annotations

from exchange.field_rules import (
    SCALAR_FIELDS,
    FieldError,
    RecordValues,
    attribute_problems,
    check_dob,
    check_documents,
    validate_scalars,
)
from schemas.records import RecordUpdate


class InvalidChangesError(ValueError):
    """Some changed fields are invalid; `problems` pairs each field with a safe reason."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(name for name, _ in problems))
        self.problems = problems


def apply_changes(current: RecordValues, patch: RecordUpdate) -> RecordValues:
    """Fields present in the patch replace the current ones (null or "" clears a field;
    documents and attributes are replaced whole); fields absent stay as they are."""
    data = patch.model_dump(mode="json", exclude_unset=True)
    problems: list[tuple[str, str]] = []
    scalars = {name: data[name] for name in SCALAR_FIELDS if name in data}
    fields = {name: value for name, value in current.fields.items() if name not in scalars}
    fields.update(validate_scalars(scalars, problems))
    values = RecordValues(fields, current.documents, current.attributes)
    if "documents" in data:
        pairs = [(d["type"], d["number"]) for d in data["documents"] or []]
        try:
            values.documents = check_documents(pairs)
        except FieldError as exc:
            problems.append(("documents", str(exc)))
    if "attributes" in data:
        values.attributes = dict(data["attributes"] or {})
        problems += attribute_problems(values.attributes, "attributes.{}")
    if not any(name.startswith("dob") for name, _ in problems):
        try:
            check_dob(values)
        except FieldError as exc:
            problems.append(("dob", str(exc)))
    if problems:
        raise InvalidChangesError(problems)
    return values
