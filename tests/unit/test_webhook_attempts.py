"""Rules that keep one attempt at a time per webhook delivery: a lease outlasts the attempt it
covers, and a result the database refuses does not take the rest of its batch with it."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from changes.attempt_results import AttemptResults, _Result
from changes.webhook_settings import WebhookSettings
from schemas.changes import WebhookAttempt


def test_a_lease_must_outlast_an_attempt() -> None:
    assert WebhookSettings(timeout_seconds=5, lease_seconds=60).lease_seconds == 60
    with pytest.raises(ValidationError, match="lease_seconds must exceed timeout_seconds"):
        WebhookSettings(timeout_seconds=30, lease_seconds=30)


class _RefusingOne(AttemptResults):
    """Writes into a list; refuses any batch holding the delivery `refused`."""

    def __init__(self, refused: str) -> None:
        super().__init__(sessions=None)  # type: ignore[arg-type]
        self.refused = refused
        self.written: list[str] = []

    async def _write(self, batch: list[_Result]) -> None:
        if any(result.delivery_id == self.refused for result in batch):
            raise RuntimeError("duplicate attempt")
        self.written += [result.delivery_id for result in batch]


def _attempt(delivery_id: str) -> tuple[str, int, dict[str, Any], WebhookAttempt]:
    now = dt.datetime.now(dt.UTC)
    return delivery_id, 0, {}, WebhookAttempt(delivery_id=delivery_id, attempt=1, started_at=now)


async def test_a_refused_result_loses_only_itself() -> None:
    results = _RefusingOne("msg_b")
    await asyncio.gather(*(results.record(*_attempt(d)) for d in ("msg_a", "msg_b", "msg_c")))
    assert sorted(results.written) == ["msg_a", "msg_c"]


async def test_a_result_refused_alone_is_raised_to_its_attempt() -> None:
    results = _RefusingOne("msg_b")
    with pytest.raises(RuntimeError, match="duplicate attempt"):
        await results.record(*_attempt("msg_b"))
