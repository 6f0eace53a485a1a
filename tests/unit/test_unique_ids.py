"""Request and audit-event ids: unique, version-4 shaped, not sequential, and different in a
forked worker."""

from __future__ import annotations

import os
import uuid

from schemas.types import unique_uuid


def test_ids_are_distinct_version_4_uuids() -> None:
    ids = [unique_uuid() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert {u.version for u in ids} == {4}
    assert {u.variant for u in ids} == {uuid.RFC_4122}


def test_consecutive_ids_do_not_reveal_how_many_came_between() -> None:
    first, second = unique_uuid(), unique_uuid()
    # a counter would differ in its last bits only; a PRF's outputs differ in about half
    assert bin(first.int ^ second.int).count("1") > 20


def test_a_forked_worker_draws_other_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child writes its first id and leaves at once
        os.write(write, unique_uuid().bytes)
        os._exit(0)
    os.close(write)
    child = uuid.UUID(bytes=os.read(read, 16))
    os.waitpid(pid, 0)
    parent = unique_uuid()
    assert child != parent
    assert child.int >> 64 != parent.int >> 64, "the forked worker kept the parent's key"
