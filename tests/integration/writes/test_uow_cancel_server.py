"""A commit cancelled half-way: every write is applied, or listed in `uow.unsettled`
(outcome unknown), and retrying those completes the unit."""

from __future__ import annotations

import asyncio

import anyio
import pytest
from _writes_helpers import Tag, count_items, tags

from dynamorm_async.db import State


@pytest.fixture
def dynamorm_mappers():
    return [tags]


async def test_a_cancelled_commit_lists_every_write_it_did_not_settle(dynamorm_db):
    db = dynamorm_db
    original = db.transport.call
    calls = []

    async def cancel_on_the_third(operation, request, **kwargs):
        calls.append(operation)
        if len(calls) == 3:  # two chunks written; cancel while the third is in flight
            scope.cancel()
            await asyncio.sleep(1)  # cancelled here
        return await original(operation, request, **kwargs)

    uow = db.unit_of_work(concurrency=1)
    for i in range(100):
        uow.put(Tag(f"t{i}", "v"))
    db.transport.call = cancel_on_the_third
    try:
        with anyio.CancelScope() as scope:
            await uow.commit()
    finally:
        del db.transport.call
    assert scope.cancelled_caught
    assert uow.state is State.FAILED
    present = {t.id for t in await db.repository(tags).scan().all()}
    unsettled = {f.key["id"] for f in uow.unsettled}
    assert len(present) == 50  # the two chunks settled before the cancellation
    assert len(unsettled) == 50  # the other two
    assert present | unsettled == {f"t{i}" for i in range(100)}  # none unaccounted for
    assert all(f.error.retryable for f in uow.unsettled)

    again = db.unit_of_work()
    again.retry(uow.unsettled)
    await again.commit()
    assert await count_items(db, tags) == 100


async def test_a_commit_that_completes_has_nothing_unsettled(dynamorm_db):
    async with dynamorm_db.unit_of_work() as uow:
        uow.put(Tag("t1"))
    assert uow.unsettled == ()
