"""A list made ready for linking: per record, ids into the run's shared name, date, document and
place spaces, computed once per distinct value."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from matching.documents import parse_documents
from reconcile.spaces import DateSpace, IntArray, Interner, NameSpace
from reconcile.table import RecordTable

# a multi-valued field of a prepared list as (values, record indices): blocking.Multiple
Expansion = Callable[["PreparedList", "RunSpaces", int], tuple[IntArray, IntArray]]
DOCUMENT_TYPES = ("por", "acc", "unhcr", "tazkira", "passport", "visa")
_TYPE_COLUMN = {kind: i for i, kind in enumerate(DOCUMENT_TYPES)}
SEX_CODES = {"M": 1, "F": 2}  # U, X and blank are unknown (0)


@dataclass(slots=True)
class RunSpaces:
    """The interned values shared by every list of one run."""

    names: NameSpace
    dates: DateSpace
    documents: Interner
    places: Interner

    @classmethod
    def new(cls) -> RunSpaces:
        return cls(NameSpace(), DateSpace(), Interner(), Interner())


@dataclass(slots=True)
class PreparedList:
    """Ids per record. `given` is the given name, or the Arabic-script name when there is no
    Latin one; `full` is given + family read as one name (or the Arabic-script name)."""

    table: RecordTable
    given: IntArray
    given_field: IntArray
    full: IntArray
    family: IntArray
    father: IntArray
    dob: IntArray
    documents: IntArray  # (records, len(DOCUMENT_TYPES)), 0 = none of that type
    sex: IntArray
    province: IntArray
    district: IntArray
    group: IntArray  # list-local group ids, 0 = no group
    # (value, record) pairs of a multi-valued field, by the function that expands them and its
    # argument (blocking's birth years and name parts): a list held between polls is blocked
    # against at every change
    derived: dict[tuple[Expansion, int], tuple[IntArray, IntArray]] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )

    def __len__(self) -> int:
        return len(self.table)

    def take(self, indices: npt.NDArray[np.intp]) -> PreparedList:
        """These records only, in this order (ids into the same spaces)."""
        arrays = {
            f.name: getattr(self, f.name)[indices]
            for f in dataclasses.fields(self)
            if f.name not in ("table", "derived")
        }
        return PreparedList(table=self.table.subset(indices), **arrays)

    def expansions_after(
        self, kept: npt.NDArray[np.intp], added: PreparedList, spaces: RunSpaces
    ) -> dict[tuple[Expansion, int], tuple[IntArray, IntArray]]:
        """`derived` of the records `kept` (renumbered in that order) followed by the `added`
        records': what expanding this list's kept records and the added ones gives."""
        renumbered = np.full(len(self), -1, np.int64)
        renumbered[kept] = np.arange(len(kept))
        carried = {}
        for (expand, widen), (values, records) in self.derived.items():
            moved = renumbered[records]
            still = moved >= 0
            new_values, new_records = expand(added, spaces, widen)
            carried[expand, widen] = (
                np.concatenate([values[still], new_values]),
                np.concatenate([moved[still], new_records + len(kept)]),
            )
        return carried


def _names(spaces: RunSpaces, table: RecordTable, field: str) -> IntArray:
    column = table.columns[field]
    return spaces.names.intern_values(column.values)[column.codes]


def _full_names(spaces: RunSpaces, table: RecordTable) -> IntArray:
    """given + family as one key, computed once per distinct (given, family) pair."""
    given, family = table.columns["given_name"], table.columns["family_name"]
    given_ids = spaces.names.intern_values(given.values)
    family_ids = spaces.names.intern_values(family.values)
    width = len(family.values)
    pairs = given.codes.astype(np.int64) * width + family.codes
    unique, inverse = np.unique(pairs, return_inverse=True)
    combine = spaces.names.intern_combined
    combined = np.fromiter(
        (combine(int(given_ids[p // width]), int(family_ids[p % width])) for p in unique.tolist()),
        np.int64,
        len(unique),
    )
    return combined[inverse]


def _dates(spaces: RunSpaces, table: RecordTable) -> IntArray:
    dob, calendar = table.columns["dob"], table.columns["dob_calendar"]
    pairs = dob.codes.astype(np.int64) * len(calendar.values) + calendar.codes
    unique, inverse = np.unique(pairs, return_inverse=True)
    width = len(calendar.values)
    ids = np.fromiter(
        (
            spaces.dates.intern(dob.values[p // width], calendar.values[p % width].lower())
            for p in unique.tolist()
        ),
        np.int64,
        len(unique),
    )
    return ids[inverse]


# Separators typed inside numbers; anything else unusual takes the exact (slower) path.
_SEPARATORS = str.maketrans("", "", " -/._:")
_TYPE_PREFIX = {"por": "POR", "acc": "ACC"}


def document_numbers(raw: str) -> list[tuple[str, str]]:
    """(type, normalised number) of an exchange `documents` value, as `parse_documents` gives
    them; plain ASCII numbers (nearly all) skip its regular expressions."""
    found: list[tuple[str, str]] = []
    for entry in raw.split(";"):
        kind, separator, number = entry.partition(":")
        kind = kind.strip().lower()
        compact = number.upper().translate(_SEPARATORS)
        if not separator or not compact:
            continue
        prefix = _TYPE_PREFIX.get(kind)
        if not (compact.isascii() and compact.isalnum()) or (
            kind == "unhcr" and not compact.isdigit()
        ):
            found.extend((d.type, d.number) for d in parse_documents(entry))
        elif prefix and compact.startswith(prefix) and compact[len(prefix) :].isdigit():
            found.append((kind, compact[len(prefix) :]))
        else:
            found.append((kind, compact))
    return found


# An entry as agencies mostly write it (`por:PK-5510-3497811`): `document_numbers` reads it as
# its type and the number's letters and digits, upper case. Such entries are read in pyarrow;
# every other entry goes through `document_numbers` itself.
_PLAIN_ENTRY = "^(" + "|".join(DOCUMENT_TYPES) + r"):[A-Za-z0-9 ./_-]*[A-Za-z0-9][A-Za-z0-9 ./_-]*$"


def _plain_numbers(entries: pa.Array) -> tuple[npt.NDArray[np.bool_], IntArray, list[str]]:
    """Which entries are plain, and for those their type's column and normalised number."""
    plain = pc.match_substring_regex(entries, _PLAIN_ENTRY).to_numpy(zero_copy_only=False)
    kept = entries.filter(pa.array(plain))
    parts = pc.split_pattern(kept, ":", max_splits=1)
    kinds = pc.list_element(parts, 0)
    numbers = pc.replace_substring_regex(pc.utf8_upper(pc.list_element(parts, 1)), "[ ./_-]", "")
    for kind, prefix in _TYPE_PREFIX.items():
        # `PoR: POR12345` loses its prefix, as in `document_numbers`
        rest = pc.utf8_slice_codeunits(numbers, len(prefix))
        strip = pc.and_(
            pc.and_(pc.equal(kinds, kind), pc.starts_with(numbers, prefix)),
            pc.utf8_is_digit(rest),
        )
        numbers = pc.if_else(strip, rest, numbers)
    # a UNHCR number with letters takes the exact path
    odd = pc.and_(pc.equal(kinds, "unhcr"), pc.invert(pc.utf8_is_digit(numbers)))
    odd_at = np.flatnonzero(plain)[odd.to_numpy(zero_copy_only=False)]
    plain[odd_at] = False
    keep = pc.invert(odd)
    columns = pc.index_in(kinds.filter(keep), value_set=pa.array(DOCUMENT_TYPES))
    return plain, columns.to_numpy().astype(np.int64), numbers.filter(keep).to_pylist()


def _documents(spaces: RunSpaces, table: RecordTable) -> IntArray:
    """Per record, the number id of each document type (the first entry of a type wins)."""
    column = table.columns["documents"]
    entries = pc.split_pattern(pa.array(column.values, pa.string()), ";")
    owner = pc.list_parent_indices(entries).to_numpy()
    flat = pc.list_flatten(entries)
    plain, kinds, numbers = _plain_numbers(flat)
    found_owner = [owner[plain]]
    found_kind = [kinds]
    found_number = [np.fromiter(map(spaces.documents, numbers), np.int64, len(numbers))]
    found_order = [np.flatnonzero(plain)]
    other = np.flatnonzero(~plain)
    texts = flat.to_pylist() if len(other) else []
    rest = [
        (int(owner[at]), _TYPE_COLUMN[kind], spaces.documents(number), int(at))
        for at in other.tolist()
        for kind, number in document_numbers(texts[at])
        if kind in _TYPE_COLUMN
    ]
    if rest:
        columns = [np.asarray(values, np.int64) for values in zip(*rest, strict=True)]
        for found, values in zip(
            (found_owner, found_kind, found_number, found_order), columns, strict=True
        ):
            found.append(values)
    owners, types = np.concatenate(found_owner), np.concatenate(found_kind)
    ids, order = np.concatenate(found_number), np.concatenate(found_order)
    # the first entry of each type in a value counts
    ranked = np.lexsort((order, types, owners))
    slot = owners[ranked] * len(DOCUMENT_TYPES) + types[ranked]
    first = np.ones(len(slot), np.bool_)
    first[1:] = slot[1:] != slot[:-1]
    per_value = np.zeros((len(column.values), len(DOCUMENT_TYPES)), dtype=np.int64)
    chosen = ranked[first]
    per_value[owners[chosen], types[chosen]] = ids[chosen]
    return per_value[column.codes]


def _places(spaces: RunSpaces, table: RecordTable, field: str) -> IntArray:
    column = table.columns[field]
    ids = np.fromiter(
        (spaces.places(" ".join(v.casefold().split())) for v in column.values),
        np.int64,
        len(column.values),
    )
    return ids[column.codes]


def prepare(spaces: RunSpaces, table: RecordTable) -> PreparedList:
    given_field = _names(spaces, table, "given_name")
    native = _names(spaces, table, "name_native")
    full = _full_names(spaces, table)
    sex_column = table.columns["sex"]
    sex_codes = np.asarray([SEX_CODES.get(v.upper(), 0) for v in sex_column.values], np.int64)
    return PreparedList(
        table=table,
        given=np.where(given_field != 0, given_field, native),
        given_field=given_field,
        full=np.where(full != 0, full, native),
        family=_names(spaces, table, "family_name"),
        father=_names(spaces, table, "father_name"),
        dob=_dates(spaces, table),
        documents=_documents(spaces, table),
        sex=sex_codes[sex_column.codes],
        province=_places(spaces, table, "province"),
        district=_places(spaces, table, "district"),
        group=table.columns["group_id"].codes.astype(np.int64),
    )
