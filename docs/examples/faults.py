"""Fault injection: a unit of work, a transaction and a batch read while requests fail."""

import asyncio

import attrs

from dynamorm_async import Database, Mapper, RetryPolicy, UnitOfWorkError
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb
from dynamorm_async.testing.faults import FaultPlan, inject


@attrs.define
class Reading:
    sensor: str
    at: int
    value: float = 0.0


readings = Mapper(Reading, table="readings", partition_key="sensor", sort_key="at")


async def main() -> None:
    async with (
        local_dynamodb() as url,
        Database.connect(
            url,
            mappers=[readings],
            # Tiny backoffs: injected faults cost milliseconds, not seconds.
            retry_policy=RetryPolicy(attempts=5, base=0.001, max_backoff=0.01),
            **LOCAL_CREDENTIALS,
        ) as db,
    ):
        await db.schema.ensure(readings)
        repo = db.repository(readings)

        # One failure in five, of every kind; a third of each batch handed back.
        # `max_per_request=2`: a request's third try always gets through.
        plan = FaultPlan(
            seed=2024,
            throttle=0.05,
            server_error=0.05,
            reset_before=0.05,
            reset_after=0.05,
            unprocessed=0.3,
            max_per_request=2,
        )
        with inject(db, plan) as faults:
            async with db.unit_of_work() as uow:
                for at in range(200):
                    uow.put(Reading("s1", at, at / 10))
            found = await repo.batch_get([("s1", at) for at in range(0, 200, 2)])
        print("injected:", dict(sorted(faults.counts.items())))
        assert all(r is not None for r in found)
        assert await repo.where("sensor", "=", "s1").count() == 200

        # Items that DynamoDB hands back every time: the unit reports exactly those.
        stuck = FaultPlan(seed=5, stuck=0.05, operations={"BatchWriteItem"})
        failures: UnitOfWorkError | None = None
        with inject(db, stuck):
            try:
                async with db.unit_of_work(attempts=3) as uow:
                    for at in range(100):
                        uow.put(Reading("s2", at))
            except UnitOfWorkError as error:
                failures = error
        assert failures is not None
        missing = sorted(int(f.key["at"]) for f in failures.failures)
        print(f"{failures.applied} written, not written: {missing}")
        stored = await repo.where("sensor", "=", "s2").count()
        assert stored == failures.applied == 100 - len(missing)
        # With the faults gone, retrying the failures completes the unit.
        async with db.unit_of_work() as again:
            again.retry(failures)
        assert await repo.where("sensor", "=", "s2").count() == 100


if __name__ == "__main__":
    asyncio.run(main())
