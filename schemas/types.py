"""Column types shared by every table: UTC timestamps and portable JSON."""

from __future__ import annotations

import datetime as dt
import hashlib
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
    """Request, verification and audit-event ids must be unique and must not let a caller count
    other callers' requests: a keyed BLAKE2b of a counter (a PRF: unique, unpredictable
    without the per-process key) saves a getrandom() call per id on the checkpoint path. A
    forked worker draws a new key."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._key = os.urandom(32)
        self._counter = itertools.count()

    def next(self) -> uuid.UUID:
        block = next(self._counter).to_bytes(16, "big")
        digest = hashlib.blake2b(block, key=self._key, digest_size=16).digest()
        return uuid.UUID(bytes=digest, version=4)


_unique_ids = _UniqueIds()


def unique_uuid() -> uuid.UUID:
    """A random-looking version-4 UUID for ids; not for tokens or secrets."""
    return _unique_ids.next()
