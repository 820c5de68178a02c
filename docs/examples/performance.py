"""The fast path: on by default; off with one option, to compare or to debug."""

import asyncio
import time

import attrs

from dynamorm_async import Database, Mapper
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb


@attrs.define
class Reading:
    sensor: str
    at: int
    value: float = 0.0
    raw: bytes = b""


readings = Mapper(Reading, table="perf_readings", partition_key="sensor", sort_key="at")


async def read_all(url: str, fast_path: bool) -> tuple[list[Reading], float]:
    """Every reading of sensor s1, and the seconds the query took."""
    async with Database.connect(
        url, mappers=[readings], fast_path=fast_path, **LOCAL_CREDENTIALS
    ) as db:
        repo = db.repository(readings)
        started = time.perf_counter()
        found = await repo.where("sensor", "=", "s1").all()
        return found, time.perf_counter() - started


async def main() -> None:
    async with (
        local_dynamodb() as url,
        Database.connect(url, mappers=[readings], **LOCAL_CREDENTIALS) as db,
    ):
        await db.schema.ensure(readings)
        async with db.unit_of_work() as uow:
            for at in range(200):
                uow.put(Reading("s1", at, at / 10, raw=at.to_bytes(2, "big")))

        fast, _ = await read_all(url, fast_path=True)
        stock, _ = await read_all(url, fast_path=False)
        # Both paths read the same objects (Binary values included).
        assert fast == stock
        assert len(fast) == 200
        assert fast[7].raw == b"\x00\x07"
        print(f"read {len(fast)} readings the same way with the fast path on and off")


if __name__ == "__main__":
    asyncio.run(main())
