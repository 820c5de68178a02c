"""Table management: create, diff, update (online), dry runs and ensure."""

import asyncio

import attrs

from dynamorm_async import (
    Database,
    GlobalIndex,
    Mapper,
    SchemaMismatch,
    TableOptions,
    Throughput,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb


@attrs.define
class Product:
    id: str
    category: str
    price: int


# Version 1 of the model: on-demand, no index.
v1 = Mapper(Product, table="products", partition_key="id")

# Version 2: an index by category, provisioned capacity and a stream.
v2 = Mapper(
    Product,
    table="products",
    partition_key="id",
    indexes=[GlobalIndex("by-category", partition_key="category", sort_key="price")],
    options=TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(read=5, write=5),
        stream="NEW_AND_OLD_IMAGES",
        tags={"team": "catalog"},
    ),
)

# Version 3: the index's sort key changed, which DynamoDB cannot do in place.
v3 = Mapper(
    Product,
    table="products",
    partition_key="id",
    indexes=[GlobalIndex("by-category", partition_key="category")],
    options=v2.options,
)


async def main() -> None:
    async with local_dynamodb() as url, Database.connect(url, **LOCAL_CREDENTIALS) as db:
        await db.schema.create(v1)
        assert not await db.schema.diff(v1)  # an empty diff is falsy

        diff = await db.schema.diff(v2)
        print(diff)
        assert {c.kind for c in diff.safe} == {"add_index", "billing", "stream", "tags"}

        # A dry run sends the reads, records the writes and changes nothing.
        view = db.dry_run()
        await view.schema.update(v2)
        for operation, request in view.transport.calls:
            print("would send", operation, sorted(request))
        assert await db.schema.diff(v2) == diff

        applied = await db.schema.update(v2)  # one call at a time, waiting in between
        print(f"applied {len(applied.changes)} change(s)")
        assert not await db.schema.diff(v2)

        # A changed index needs a data migration: update refuses, nothing is sent.
        try:
            await db.schema.update(v3)
        except SchemaMismatch as error:
            print("refused:", [str(c) for c in error.changes])
        await db.schema.replace_index(v3, "by-category")  # drop, then create and backfill
        assert not await db.schema.diff(v3)

        # ensure() creates a missing table, and refuses one the model cannot use.
        assert await db.schema.ensure(v3) is False
        try:
            await db.schema.ensure(Mapper(Product, table="products", partition_key="category"))
        except SchemaMismatch as error:
            print("ensure:", error.changes[0].description)

        await db.schema.delete(v3)


if __name__ == "__main__":
    asyncio.run(main())
