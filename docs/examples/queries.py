"""Queries and scans: index selection, explain(), pages with cursors, parallel scans."""

import asyncio
import datetime as dt

import attrs

from dynamorm_async import (
    Database,
    GlobalIndex,
    InvalidCursor,
    LocalIndex,
    Mapper,
    NoIndexForQuery,
    attr,
    size,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb

UTC = dt.timezone.utc


@attrs.define
class Order:
    customer: str
    number: int
    status: str
    total: int
    placed: dt.datetime
    items: list[str] = attrs.Factory(list)
    coupon: str | None = None  # only some orders have one: a sparse index


orders = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    indexes=[
        GlobalIndex("by-status", partition_key="status", sort_key="placed"),
        LocalIndex("by-total", sort_key="total"),
        GlobalIndex("by-coupon", partition_key="coupon", projection="KEYS_ONLY"),
    ],
)


async def main() -> None:
    async with (
        local_dynamodb() as url,
        Database.connect(
            url, mappers=[orders], cursor_secret="change me: 16+ bytes", **LOCAL_CREDENTIALS
        ) as db,
    ):
        await db.schema.ensure(orders)
        repo = db.repository(orders)
        start = dt.datetime(2026, 1, 1, tzinfo=UTC)
        for n in range(1, 41):
            await repo.put(
                Order(
                    customer="ada" if n % 2 else "bob",
                    number=n,
                    status="open" if n % 3 else "shipped",
                    total=n * 10,
                    placed=start + dt.timedelta(days=n),
                    items=["book"] * (n % 4),
                    coupon="WELCOME" if n % 10 == 0 else None,
                )
            )

        # 1. The table: an equality on its partition key, a condition on its sort key.
        recent = repo.where("customer", "=", "ada").where(attr("number") > 30)
        print(recent.explain(), end="\n\n")
        assert [o.number for o in await recent.all()] == [31, 33, 35, 37, 39]

        # 2. A GSI: nothing constrains the table's partition key, "status" does.
        shipped = repo.where("status", "=", "shipped").where(
            "placed", "between", start, start + dt.timedelta(days=20)
        )
        print(shipped.explain(), end="\n\n")
        assert shipped.explain().index == "by-status"
        assert [o.number for o in await shipped.all()] == [3, 6, 9, 12, 15, 18]

        # The LSI wins over the table when its sort key is constrained.
        big = repo.where("customer", "=", "bob").where(attr("total") >= 350)
        assert big.explain().index == "by-total"
        assert [o.number for o in await big.order(descending=True).all()] == [40, 38, 36]

        # Conditions that no key can serve become filters (read, then dropped).
        filtered = repo.where("customer", "=", "ada").filter(size("items") >= 2)
        assert all(len(o.items) >= 2 for o in await filtered.all())

        # A sparse GSI holds only items with a coupon; KEYS_ONLY: read the keys as dicts.
        coupons = await repo.where("coupon", "=", "WELCOME").as_dicts().all()
        assert sorted(c["number"] for c in coupons) == [10, 20, 30, 40]

        # 3. Nothing fits: an error that says why, unless a scan is allowed.
        try:
            repo.where(attr("total") > 300).explain()
        except NoIndexForQuery as exc:
            print(f"NoIndexForQuery: {exc.message}", end="\n\n")
        else:
            raise AssertionError("a query without a partition key was planned")
        expensive = repo.query(allow_scan=True).where(attr("total") > 300)
        print(expensive.explain(), end="\n\n")
        assert await expensive.count() == 10

        # 4. Pages and cursors: pass next_cursor back to read on.
        query = repo.where("customer", "=", "ada")
        page = await query.page(size=8)
        seen = [o.number for o in page.items]
        while page.next_cursor is not None:
            page = await query.page(size=8, cursor=page.next_cursor)
            seen += [o.number for o in page.items]
        assert seen == list(range(1, 41, 2))
        first = await query.page(size=8)
        assert first.next_cursor is not None
        tampered = first.next_cursor[:-1] + ("A" if first.next_cursor[-1] != "A" else "B")
        try:
            await query.page(size=8, cursor=tampered)
        except InvalidCursor as exc:
            print(f"InvalidCursor: {exc.message}")
        else:
            raise AssertionError("a tampered cursor was accepted")

        # first(), limit(), offset(), count() and async for.
        newest = await query.order(descending=True).first()
        assert newest is not None
        assert newest.number == 39
        assert [o.number for o in await query.offset(2).limit(3).all()] == [5, 7, 9]
        assert await query.count() == 20
        async for order in query.limit(2):
            print("streamed:", order.number, order.status)

        # 5. A parallel scan: four segments, items as they arrive.
        everything = [o.number async for o in repo.scan(segments=4)]
        assert sorted(everything) == list(range(1, 41))
        print("parallel scan read", len(everything), "orders")


if __name__ == "__main__":
    asyncio.run(main())
