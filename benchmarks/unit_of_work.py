"""A 10,000-item unit of work against the embedded server, at several concurrencies,
and a naive loop of PutItem calls (raw aiobotocore) for comparison.

moto spends most of each call itself, so these figures say how the unit of work
uses a server (requests, concurrency), not how fast the client is; the
canned-response benchmarks of the performance issue measure the client.
"""

from __future__ import annotations

import asyncio
import time

import attrs

from dynamorm_async import Database, Mapper
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb


@attrs.define
class Event:
    """A small event record."""

    stream: str
    seq: int
    kind: str
    payload: str


events = Mapper(Event, table="bench-events", partition_key="stream", sort_key="seq")

ITEMS = 10_000
NAIVE_ITEMS = 1_000


async def _unit(db: Database, concurrency: int, offset: int) -> float:
    start = time.perf_counter()
    async with db.unit_of_work(concurrency=concurrency) as uow:
        for seq in range(ITEMS):
            uow.put(Event(f"s{concurrency}", offset + seq, "bench", "x" * 100))
    return ITEMS / (time.perf_counter() - start)


async def _naive(db: Database) -> float:
    table = db.table_name(events)
    start = time.perf_counter()
    for seq in range(NAIVE_ITEMS):
        item = events.encode(Event("naive", seq, "bench", "x" * 100))
        await db.client.put_item(TableName=table, Item=item)
    return NAIVE_ITEMS / (time.perf_counter() - start)


async def _main() -> None:
    async with (
        local_dynamodb() as url,
        Database.connect(url, mappers=[events], **LOCAL_CREDENTIALS) as db,
    ):
        await db.schema.ensure(events)
        naive = await _naive(db)
        print(f"{'how':<40} {'items/s':>10} {'vs naive':>9}")
        print(f"{'naive loop of put_item (raw client)':<40} {naive:>10.0f} {1:>8.2f}x")
        for concurrency in (1, 4, 16):
            rate = await _unit(db, concurrency, 0)
            label = f"unit of work, concurrency {concurrency}"
            print(f"{label:<40} {rate:>10.0f} {rate / naive:>8.2f}x")
        await db.schema.delete(events)


def main() -> None:
    """Run the benchmark and print items/second and ratios."""
    asyncio.run(_main())


if __name__ == "__main__":
    main()
