"""Column types shared by every table: UTC timestamps and portable JSON."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import uuid
from typing import Any

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


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class _UniqueIds:
    """Request and audit-event ids must be unique, not secret: a random per-process prefix and
    a counter save a getrandom() call per id on the checkpoint path. A forked worker draws a
    new prefix."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._prefix = int.from_bytes(os.urandom(8)) << 64
        self._counter = itertools.count(int.from_bytes(os.urandom(4)))

    def next(self) -> uuid.UUID:
        # version 4 layout (its version and variant bits set), unique by prefix and counter
        return uuid.UUID(int=self._prefix | (next(self._counter) & _LOW_62_BITS), version=4)


_LOW_62_BITS = (1 << 62) - 1
_unique_ids = _UniqueIds()


def unique_uuid() -> uuid.UUID:
    """A UUID for ids that need only be unique: never for tokens, secrets or anything a caller
    could gain by guessing."""
    return _unique_ids.next()
