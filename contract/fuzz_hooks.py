"""schemathesis hooks, loaded through `SCHEMATHESIS_HOOKS`, that steer half the generated
requests towards what exists (the world `contract.fuzz_world` wrote to the file
`SANAD_FUZZ_WORLD` names), so that fuzzed query strings and bodies reach handlers instead of a
404, a 412 or a refused header: path ids; a JSON body's `list_id`, `record_id` or `list_ids`,
and an agreement's recipient, period and fields (those its recipient may ever see); a
correction's If-Match; an import's exchange-format CSV rows (odd values in real columns); and
bodies the API accepts beyond what the schema says: a subscription to the loopback address the
fuzzed server allows, a client within the fuzzing client's scopes (`SANAD_FUZZ_SCOPES`), a
verification or encounter naming an existing letter, a reported time in the past, the world's
checkpoint cosigned by each agency's witness. Requests that end an object draw from the
`spent` pool, all others from `kept`; and an ending request never reaches a `protected` object
(one the next requests or clients need), whatever id schemathesis learnt from a response: it
goes to a spent one instead."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st

WORLD_ENV = "SANAD_FUZZ_WORLD"
SCOPES_ENV = "SANAD_FUZZ_SCOPES"  # the fuzzing client's scopes, space-separated
_ENDING = ("/termination", "/revocation", "/withdrawal", "/disable")


def ends_an_object(method: str, path: str) -> bool:
    return method.upper() == "DELETE" or path.endswith(_ENDING)


def substitutions(pool: dict[str, Any], names: set[str]) -> list[dict[str, Any]]:
    """Every assignment of existing ids to the path parameters `names` the pool can fill: a
    record always with its own list."""
    if {"list_id", "record_id"} <= names:
        return [{"list_id": list_id, "record_id": record} for list_id, record in pool["records"]]
    return [{name: value} for name in names for value in pool["ids"].get(name, [])]


def reaches_protected(protected: dict[str, Any], path_parameters: dict[str, Any]) -> bool:
    if "record_id" in path_parameters:
        record = [path_parameters.get("list_id"), path_parameters["record_id"]]
        return record in protected["records"]
    return any(path_parameters.get(name) in values for name, values in protected["ids"].items())


def _load_world() -> dict[str, Any] | None:
    path = os.environ.get(WORLD_ENV)
    world: dict[str, Any] | None = json.loads(Path(path).read_text()) if path else None
    return world


_WORLD = _load_world()


@schemathesis.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    operation = context.operation
    if _WORLD is None or operation is None or not path_parameters:
        return st.just(path_parameters)
    pool = _WORLD["spent" if ends_an_object(operation.method, operation.path) else "kept"]
    choices = substitutions(pool, set(path_parameters))
    if not choices:
        return st.just(path_parameters)
    existing = st.sampled_from(choices).map(lambda ids: {**path_parameters, **ids})
    return st.one_of(st.just(path_parameters), existing)


@schemathesis.hook
def map_case(
    context: schemathesis.HookContext, case: schemathesis.Case[Any]
) -> schemathesis.Case[Any]:
    operation = context.operation
    parameters = case.path_parameters
    if _WORLD is None or operation is None or not parameters:
        return case
    if ends_an_object(operation.method, operation.path) and reaches_protected(
        _WORLD["protected"], parameters
    ):
        spent = substitutions(_WORLD["spent"], set(parameters))
        case.path_parameters = {**parameters, **spent[0]} if spent else parameters
    return case


_VERSIONS = st.integers(min_value=1, max_value=6).map(lambda version: f'"v{version}"')


@schemathesis.hook
def flatmap_headers(
    context: schemathesis.HookContext, headers: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """A correction names a version the record may be at (`"v1"`, `"v2"`, …: what
    `exchange.record_service.etag_of` issues), so some get past If-Match to the body."""
    operation = context.operation
    if operation is None or operation.method.upper() != "PATCH":
        return st.just(headers)
    current = st.builds(lambda etag: {**(headers or {}), "If-Match": etag}, _VERSIONS)
    return st.one_of(st.just(headers), current)


# an agreement's period as the service accepts it: begun, and ending a month from now
_NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
_PERIOD = {
    "valid_from": (_NOW - dt.timedelta(hours=1)).isoformat(),
    "valid_until": (_NOW + dt.timedelta(days=30)).isoformat(),
}


def body_substitutions(
    pool: dict[str, Any], body: dict[str, Any], ceilings: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """Existing ids for a JSON body's `list_id` (with `record_id`, a record of that list) or
    `list_ids` (the lists, in either order), each with every agency as `recipient_agency_id`
    and a current period where the body names a recipient (an agreement), its fields cut to
    what that agency may ever see (`ceilings`, by agency)."""
    lists = pool["ids"].get("list_id", [])
    if "list_ids" in body:
        choices = [{"list_ids": lists}, {"list_ids": lists[::-1]}] if len(lists) > 1 else []
    elif "list_id" in body and "record_id" in body:
        choices = [{"list_id": list_id, "record_id": record} for list_id, record in pool["records"]]
    elif "list_id" in body:
        choices = [{"list_id": list_id} for list_id in lists]
    else:
        choices = []
    if "recipient_agency_id" not in body:
        return choices
    agencies = pool["ids"].get("agency_id", [])
    recipients = [
        {"recipient_agency_id": agency, **_PERIOD, **_within(body, (ceilings or {}).get(agency))}
        for agency in agencies
    ]
    return [{**choice, **recipient} for choice in choices for recipient in recipients]


def _within(agreement: dict[str, Any], ceiling: list[str] | None) -> dict[str, Any]:
    """The agreement's fields that its recipient may ever see, and coarsening of those only."""
    fields, coarsen = agreement.get("fields"), agreement.get("coarsen")
    if ceiling is None or not isinstance(fields, list):
        return {}
    kept = [name for name in fields if name in ceiling]
    if not isinstance(coarsen, dict):
        return {"fields": kept}
    return {"fields": kept, "coarsen": {k: v for k, v in coarsen.items() if k in kept}}


_WELL_FORMED_SECRET = "whsec_" + base64.b64encode(bytes(range(24))).decode()


def accepted_bodies(body: dict[str, Any], hook_url: str, scopes: list[str]) -> list[dict[str, Any]]:
    """The generated body reshaped so that what the service checks beyond the schema holds: a
    subscription's URL at the one address the fuzzed server allows (a public address elsewhere,
    which the fuzzer cannot guess), with no secret or a well-formed one; a client holding the
    caller's scopes or one of them (registration refuses wider ones), a secret client without
    keys, or a liaison naming its person."""
    if "url" in body and "event_types" in body:
        subscription = {k: v for k, v in body.items() if k not in ("secret", "since")}
        subscription["url"] = hook_url
        return [subscription, {**subscription, "since": "0", "secret": _WELL_FORMED_SECRET}]
    if not isinstance(body.get("scopes"), list) or "name" not in body or not scopes:
        return []
    system = {k: v for k, v in body.items() if k not in ("jwks", "person_name", "auth_method")}
    system |= {"name": "fuzzed partner system", "kind": "system", "scopes": scopes}
    liaison = {**system, "kind": "liaison", "person_name": "Fuzzed Liaison"}
    return [system, {**system, "scopes": scopes[:1]}, liaison]


_SUBJECT_KEYS = {"letter_id", "document", "person", "credential"}
_A_MINUTE_AGO = (_NOW - dt.timedelta(minutes=1)).isoformat()


def subject_bodies(body: dict[str, Any], letters: list[str]) -> list[dict[str, Any]]:
    """The generated body naming an existing letter where it names a subject (a verification,
    an encounter's subject), and a time that has passed where it reports one (an encounter's
    `occurred_at`, a status claim's `effective_at`; the service refuses future ones)."""
    if "subject" in body and "event" in body:
        reported = {**body, "occurred_at": _A_MINUTE_AGO}
        return [reported, *({**reported, "subject": {"letter_id": id_}} for id_ in letters)]
    if "effective_at" in body:
        return [{**body, "effective_at": _A_MINUTE_AGO}]
    if body and set(body) <= _SUBJECT_KEYS:
        return [{"letter_id": letter_id} for letter_id in letters]
    return []


def cosignature_bodies(body: dict[str, Any], cosigned_notes: list[str]) -> list[dict[str, Any]]:
    """A cosignature's body (a note alone) as each agency's witness would post it: signatures
    the fuzzer cannot make, so that the acceptance path is reached at all."""
    return [{"note": note} for note in cosigned_notes] if set(body) == {"note"} else []


_CALLER_SCOPES = os.environ.get(SCOPES_ENV, "").split()


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    if _WORLD is None or not isinstance(body, dict):
        return st.just(body)
    ceilings = _WORLD.get("field_ceilings")
    choices = [{**body, **ids} for ids in body_substitutions(_WORLD["kept"], body, ceilings)]
    choices += accepted_bodies(body, _WORLD["hook_url"], _CALLER_SCOPES)
    choices += subject_bodies(body, _WORLD["kept"]["ids"].get("letter_id", []))
    choices += cosignature_bodies(body, _WORLD.get("cosigned_notes", []))
    if not choices:
        return st.just(body)
    return st.one_of(st.just(body), st.sampled_from(choices))


# Exchange-format CSV for imports: the generated body is an arbitrary string, which the import
# refuses at its header; rows of real columns with odd values reach the per-field rules.
_ODD_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_COLUMN_VALUES: dict[str, st.SearchStrategy[str]] = {
    "dob": st.one_of(
        st.from_regex(r"\A[0-9\u06f0-\u06f9]{4}([-/.][0-9]{1,2}([-/.][0-9]{1,2})?)?\Z"),
        st.sampled_from(["1365", "1370-12-30", "1984-02-30", "1984-01-01", "2031", ""]),
        _ODD_TEXT,
    ),
    "dob_calendar": st.sampled_from(["gregorian", "solar_hijri", "", "hijri"]) | _ODD_TEXT,
    "sex": st.sampled_from(["M", "F", "X", "U", "m", ""]) | _ODD_TEXT,
    "relationship": st.sampled_from(["PA", "SP", "CH", "OT", ""]) | _ODD_TEXT,
    "documents": st.lists(
        st.tuples(st.sampled_from(["por", "acc", "passport", "tazkira", "unhcr", "x"]), _ODD_TEXT),
        max_size=3,
    ).map(lambda documents: ";".join(f"{kind}:{number}" for kind, number in documents)),
}
_CSV_COLUMNS = ("given_name", "family_name", "father_name", "name_native", "dob", "dob_calendar",
                "sex", "documents", "group_id", "relationship", "letter_id", "status", "phone",
                "program", "attributes")  # fmt: skip
_CSV_ROWS = st.lists(
    st.fixed_dictionaries(
        {"record_id": st.from_regex(r"\AF[0-9]{1,3}\Z") | _ODD_TEXT},
        optional={name: _COLUMN_VALUES.get(name, _ODD_TEXT) for name in _CSV_COLUMNS},
    ),
    min_size=1,
    max_size=6,
)


def exchange_csv(rows: list[dict[str, str]]) -> str:
    columns = ["record_id", *sorted({name for row in rows for name in row} - {"record_id"})]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@schemathesis.hook
def flatmap_case(
    context: schemathesis.HookContext, case: schemathesis.Case[Any]
) -> st.SearchStrategy[schemathesis.Case[Any]]:
    operation = context.operation
    if (
        operation is None
        or not operation.path.endswith("/imports")
        or case.media_type != "text/csv"
    ):
        return st.just(case)

    def with_rows(rows: list[dict[str, str]]) -> schemathesis.Case[Any]:
        case.body = exchange_csv(rows)
        return case

    return st.one_of(st.just(case), _CSV_ROWS.map(with_rows))
