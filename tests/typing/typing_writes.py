"""Static checks of units of work, transactions and batch reads (mypy only)."""

from __future__ import annotations

from typing import Any, Literal

import attrs
from typing_extensions import assert_type

from dynamorm_async import (
    CircuitBreaker,
    Database,
    Mapper,
    RetryPolicy,
    Transaction,
    UnitOfWork,
    UnitOfWorkError,
    WriteFailure,
    attr,
)


@attrs.define
class Account:
    id: str
    balance: int
    version: int = 0


accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")


async def writes(db: Database) -> None:
    async with db.unit_of_work(concurrency=4) as uow:
        assert_type(uow, UnitOfWork)
        stored = uow.put(Account("a", 1))
        assert_type(stored, Account)
        assert_type(uow.create(Account("b", 1)), Account)
        uow.update(stored, add={"balance": 1}, condition=attr("balance") > 0)
        uow.delete("c", mapper=accounts)
        uow.check(accounts, "a", attr("balance") >= 0)

    async with db.transaction() as tx:
        assert_type(tx, Transaction)
        tx.put(Account("d", 1))

    async def transfer(tx: Transaction) -> int:
        tx.update("a", add={"balance": -1}, mapper=accounts)
        return 1

    assert_type(await db.transaction(transfer), int)
    repo = db.repository(accounts)
    assert_type(await repo.batch_get(["a", "b"]), list[Account | None])
    assert_type(await repo.batch_get(["a"], as_dict=True), dict[Any, Account | None])
    assert_type(await db.transact_get([(accounts, "a")]), list[Any])

    try:
        await db.unit_of_work().commit()
    except UnitOfWorkError as exc:
        assert_type(exc.failures, tuple[WriteFailure, ...])

    policy = RetryPolicy(attempts=4)
    assert_type(policy.retries, int)
    breaker = CircuitBreaker(threshold=3)
    assert_type(breaker.state, Literal["closed", "open", "half-open"])
