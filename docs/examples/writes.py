"""Units of work, transactions, batch reads, retries and the circuit breaker."""

import asyncio

import attrs

from dynamorm_async import (
    CircuitBreaker,
    Database,
    Mapper,
    RetryPolicy,
    Transaction,
    TransactionCanceled,
    UnitOfWorkError,
    attr,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb


@attrs.define
class Account:
    id: str
    balance: int
    version: int = 0


@attrs.define
class Entry:
    account: str
    seq: int
    amount: int


accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")
entries = Mapper(Entry, table="entries", partition_key="account", sort_key="seq")


async def main() -> None:
    async with (
        local_dynamodb() as url,
        Database.connect(
            url,
            mappers=[accounts, entries],
            retry_policy=RetryPolicy(attempts=4, base=0.05, max_backoff=2.0),
            circuit_breaker=CircuitBreaker(threshold=20, cooldown=5.0),
            **LOCAL_CREDENTIALS,
        ) as db,
    ):
        for mapper in (accounts, entries):
            await db.schema.ensure(mapper)

        # A unit of work: plain puts go out 25 to a BatchWriteItem, concurrently.
        async with db.unit_of_work() as uow:
            ada = uow.put(Account("ada", 100))  # versioned: a single conditional put
            bob = uow.put(Account("bob", 0))
            for seq in range(60):
                uow.put(Entry("ada", seq, 1))
        assert len(await db.repository(entries).where("account", "=", "ada").all()) == 60

        # A transaction: both updates, or neither. The versions are checked and bumped.
        async with db.transaction() as tx:
            tx.update(ada, add={"balance": -30}, condition=attr("balance") >= 30)
            tx.update(bob, add={"balance": 30})
            tx.put(Entry("ada", 60, -30))
        ada, bob = await db.transact_get([(accounts, "ada"), (accounts, "bob")])
        print("after the transfer:", ada, bob)
        assert (ada.balance, bob.balance) == (70, 30)

        # A cancelled transaction writes nothing and says why, action by action.
        async def overdraw(tx: Transaction) -> None:
            tx.update(ada, add={"balance": -500}, condition=attr("balance") >= 500)
            tx.put(Entry("ada", 61, -500))

        try:
            await db.transaction(overdraw)
        except TransactionCanceled as exc:
            for reason in exc.failed:
                print(f"cancelled: {reason.operation} {reason.key}: {reason.code}")
                print(f"    stored: {reason.item}")
        assert await db.repository(entries).get(("ada", 61)) is None

        # A unit of work reports every write that failed; the others are applied.
        try:
            async with db.unit_of_work() as uow:
                uow.create(Entry("ada", 0, 99))  # already exists
                uow.put(Entry("bob", 0, 5))
        except UnitOfWorkError as exc:
            print(f"{exc.applied} applied; failed: {exc.failures}")
            retry = db.unit_of_work()
            await db.repository(entries).delete(("ada", 0))
            retry.retry(exc)  # the failed writes, once more
            await retry.commit()
        assert (await db.repository(entries).get(("ada", 0))) == Entry("ada", 0, 99)

        # Batch reads: 100 keys a request, in key order, None where nothing is stored.
        found = await db.repository(entries).batch_get([("ada", s) for s in (1, 2, 999)])
        print("batch:", found)
        assert found[2] is None

        policy, breaker = db.transport.retry_policy, db.transport.breaker
        assert breaker is not None
        print(f"retries so far: {policy.retries}, breaker: {breaker.state}")


if __name__ == "__main__":
    asyncio.run(main())
