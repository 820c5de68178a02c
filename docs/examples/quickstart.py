"""Quick start: map a class, create its table, write, read, update and delete an item."""

import asyncio

import attrs

from dynamorm_async import Database, Mapper, attr
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb


@attrs.define
class Product:
    id: str
    name: str
    price: int
    tags: frozenset[str] = frozenset()


products = Mapper(Product, table="products", partition_key="id")


async def main() -> None:
    async with (
        local_dynamodb() as url,  # an in-process DynamoDB on 127.0.0.1
        Database.connect(url, mappers=[products], **LOCAL_CREDENTIALS) as db,
    ):
        await db.schema.ensure(products)  # create the table if it is missing
        repo = db.repository(products)

        await repo.put(Product(id="p1", name="Designing Data-Intensive Applications", price=45))

        book = await repo.get("p1")
        print("read back:", book)
        assert book == Product("p1", "Designing Data-Intensive Applications", 45)

        cheaper = await repo.update(
            "p1", set={"price": 39}, add={"tags": {"sale"}}, condition=attr("price") > 40
        )
        print("after the update:", cheaper)
        assert cheaper is not None
        assert cheaper.price == 39
        assert cheaper.tags == {"sale"}

        await repo.delete("p1")
        assert await repo.get("p1") is None
        print("deleted")


if __name__ == "__main__":
    asyncio.run(main())
