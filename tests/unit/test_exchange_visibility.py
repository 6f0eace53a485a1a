"""Pure visibility rules: merged agreements never exceed the agency ceiling, a shaped record has
exactly the visible fields, coarsening keeps the year only; import rows match their columns."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from auth.policy import FIELD_CEILING
from exchange.exchange_format import parse_exchange
from exchange.import_plan import RECORD_COLUMNS, _record_row, values_snapshot
from exchange.record_data import CONTENT_COLUMNS, content_columns
from exchange.visibility import ListView, disclosed, merge_agreements, shape_fields
from schemas.lists import ExchangeList, SharingAgreement
from schemas.vocabulary import RECORD_FIELDS, AgencyKind, ListKind, Purpose

_LIST = ExchangeList(
    name="l", kind=ListKind.PIPELINE, owner_agency_id="us", created_by_client_id="c"
)
_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _agreement(fields: list[str], coarsen: dict[str, str] | None = None) -> SharingAgreement:
    return SharingAgreement(
        list_id=_LIST.id,
        recipient_agency_id="gop",
        fields=fields,
        coarsen=coarsen or {},
        purposes=[Purpose.PROTECTION_VERIFICATION],
        valid_from=_NOW,
        valid_until=_NOW + dt.timedelta(days=1),
        created_by_client_id="c",
    )


_field_sets = st.lists(st.sampled_from(RECORD_FIELDS), unique=True)


@given(st.lists(_field_sets, min_size=1, max_size=3), st.sampled_from(list(AgencyKind)))
def test_merged_fields_never_exceed_the_ceiling(grants: list[list[str]], kind: AgencyKind) -> None:
    fields, _ = merge_agreements([_agreement(g) for g in grants], kind)
    assert fields <= FIELD_CEILING[kind]
    assert fields == FIELD_CEILING[kind] & {f for g in grants for f in g}


def test_a_field_stays_coarse_only_if_every_grant_coarsens_it() -> None:
    coarse = _agreement(["dob", "given_name"], {"dob": "year_only"})
    assert merge_agreements([coarse], AgencyKind.GOP)[1] == {"dob": "year_only"}
    assert merge_agreements([coarse, _agreement(["dob"])], AgencyKind.GOP)[1] == {}


@given(_field_sets)
def test_shaped_records_have_exactly_the_visible_fields(visible: list[str]) -> None:
    data: dict[str, object] = {name: "x" for name in RECORD_FIELDS}
    data["dob"] = "1984-03-12"
    view = ListView(_LIST, False, frozenset(visible), {"dob": "year_only"})
    shaped = shape_fields(data, view)
    assert set(shaped) == set(visible)
    if "dob" in visible:
        assert shaped["dob"] == "1984"
        assert "dob:year_only" in disclosed(shaped, view)


def test_import_rows_match_the_record_columns() -> None:
    data = (
        b"record_id,given_name,family_name,father_name,dob,dob_calendar,sex,documents,x\n"
        b"R1,Ahmad,Safi,Karim,1362-05,solar_hijri,M,passport:P1;unhcr:123-45-67890,y\n"
    )
    [row] = parse_exchange(data, "csv").rows
    tuple_row = _record_row("id", "L", row, values_snapshot(row.values), _NOW.isoformat())
    as_columns = dict(zip(RECORD_COLUMNS, tuple_row, strict=True))
    expected = content_columns(row.values)
    for name in CONTENT_COLUMNS:
        value, want = as_columns[name], expected[name]
        if name in ("documents", "attributes"):
            value = json.loads(str(value))
        elif isinstance(want, dt.date):
            want = want.isoformat()  # the bulk paths take dates as text
        assert value == want, name
