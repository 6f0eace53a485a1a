"""Column types shared by every table: UTC timestamps and portable JSON; and the type of a
timestamp a client sends, which must have a UTC equivalent to be stored or compared."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

PortableJSON = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Stores aware UTC datetimes; SQLite keeps no zone, so we normalise on the way in and out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _has_utc_equivalent(value: dt.datetime) -> dt.datetime:
    """Refuse a time whose UTC equivalent falls outside the years 1-9999 (such as
    `0001-01-01T00:00:00+14:00`): Python cannot represent it, so storing it (`UtcDateTime`)
    or converting it raised OverflowError, a 500. A time without an offset is left to its
    model (refused, or read as UTC)."""
    if value.tzinfo is not None:
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("its UTC time is outside the years 1 to 9999") from None
    return value


ClientDateTime = Annotated[dt.datetime, AfterValidator(_has_utc_equivalent)]
"""A timestamp a client sends, in a body or a query: a 422 naming the field when it has no
UTC equivalent. Its JSON schema is a plain `date-time`."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return str(uuid.uuid4())
