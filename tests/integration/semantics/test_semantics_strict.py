"""DynamoDB's semantics that moto does not have: these run on DynamoDB Local only.

On moto they are skipped, with the reason (see docs/backends.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import attrs
import pytest

from dynamorm_async import Mapper, VersionConflict, attr

pytestmark = pytest.mark.dynamodb_local_only


@attrs.define
class Counter:
    id: str
    n: int = 0


@attrs.define
class Account:
    id: str
    balance: int
    version: int = 0


@attrs.define
class Session:
    id: str
    expires: dt.datetime | None = None


counters = Mapper(Counter, table="counters", partition_key="id")
accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")
sessions = Mapper(Session, table="sessions", partition_key="id", ttl_attribute="expires")


@pytest.fixture
def dynamorm_mappers():
    return [counters, accounts, sessions]


async def test_a_transaction_sent_again_with_its_token_is_applied_once(dynamorm_db):
    """The answer to a commit was lost: sending it again with its token is safe."""
    repo = dynamorm_db.repository(counters)
    await repo.put(Counter("c"))
    first = dynamorm_db.transaction()
    async with first as tx:
        tx.update("c", mapper=counters, add={"n": 1})
    again = dynamorm_db.transaction(token=first.token)
    async with again as tx:
        tx.update("c", mapper=counters, add={"n": 1})
    assert (await repo.get("c", consistent=True)).n == 1
    fresh = dynamorm_db.transaction()  # another token: applied
    async with fresh as tx:
        tx.update("c", mapper=counters, add={"n": 1})
    assert (await repo.get("c", consistent=True)).n == 2


async def test_concurrent_writes_from_one_loaded_object_have_exactly_one_winner(dynamorm_db):
    repo = dynamorm_db.repository(accounts)
    loaded = await repo.put(Account("a", 100))

    async def withdraw(amount: int) -> Account | VersionConflict:
        try:
            return await repo.update(loaded, set={"balance": loaded.balance - amount})
        except VersionConflict as conflict:
            return conflict

    outcomes = await asyncio.gather(*(withdraw(n) for n in range(1, 17)))
    winners = [o for o in outcomes if isinstance(o, Account)]
    assert len(winners) == 1
    assert all(isinstance(o, VersionConflict) for o in outcomes if o is not winners[0])
    assert await repo.get("a", consistent=True) == winners[0]


async def test_concurrent_atomic_increments_all_count(dynamorm_db):
    repo = dynamorm_db.repository(counters)
    await repo.put(Counter("hits"))
    await asyncio.gather(*(repo.update("hits", set={"n": attr("n") + 1}) for _ in range(40)))
    assert (await repo.get("hits", consistent=True)).n == 40


async def test_expired_items_are_deleted_by_the_server(dynamorm_db):
    repo = dynamorm_db.repository(sessions)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    await repo.put(Session("old", past))
    await repo.put(Session("new", future))
    deadline = time.monotonic() + 30  # DynamoDB Local sweeps within seconds
    while await repo.get("old", consistent=True) is not None:
        assert time.monotonic() < deadline, "the expired item was never deleted"
        await asyncio.sleep(0.25)
    assert await repo.get("new", consistent=True) is not None
