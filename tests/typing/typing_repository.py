"""Static checks of the public types, run by ``mypy --strict tests/typing`` (not by pytest).

Each `assert_type` states what a user's type checker must infer; a wrong inference
is a mypy error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
from typing_extensions import assert_type

from dynamorm_async import (
    ConditionFailed,
    Database,
    GlobalIndex,
    ItemTooLarge,
    Mapper,
    Repository,
    Schema,
    attr,
)
from dynamorm_async.query import ReturnValues
from dynamorm_async.testing import LOCAL_CREDENTIALS


@attrs.define
class Product:
    id: str
    category: str
    price: int
    name: str
    tags: frozenset[str] = frozenset()
    updated_at: dt.datetime | None = None
    version: int = 0


@attrs.frozen
class Order:
    customer: str
    number: int
    total: Decimal


products = Mapper(
    Product,
    table="products",
    partition_key="id",
    indexes=[GlobalIndex("gsi-category", partition_key="category", sort_key="price")],
    version_attribute="version",
)
orders = Mapper(Order, table="orders", partition_key="customer", sort_key="number")

assert_type(products, Mapper[Product])
assert_type(orders, Mapper[Order])
assert_type(products.cls, type[Product])


async def repository_types(db: Database) -> None:
    repo = db.repository(products)
    assert_type(repo, Repository[Product])
    assert_type(db.model(Product), Repository[Product])
    assert_type(db.repository(orders), Repository[Order])
    assert_type(db.model(Order), Repository[Order])
    assert_type(repo.mapper, Mapper[Product])

    assert_type(await repo.get("p1"), Product | None)
    assert_type(await repo.get("p1", consistent=True, projection=["name"]), Product | None)
    assert_type(await repo.get_or_raise("p1"), Product)

    p = Product(id="p1", category="books", price=12, name="DDIA")
    assert_type(await repo.put(p), Product)
    assert_type(await repo.put(p, condition=attr("price") > 5), Product)
    assert_type(await repo.put(p, return_old=False), Product)
    assert_type(await repo.put(p, return_old=True), Product | None)
    assert_type(await repo.create(p), Product)

    # ALL_NEW (the default) always returns the item; ALL_OLD may find none; NONE is None.
    assert_type(await repo.update(p, set={"price": 10}), Product)
    assert_type(
        await repo.update("p1", add={"price": 1}, condition=attr("price").exists()),
        Product,
    )
    assert_type(await repo.update(p, set={"price": 1}, return_values="ALL_NEW"), Product)
    assert_type(await repo.update(p, set={"price": 1}, return_values="ALL_OLD"), Product | None)
    assert_type(await repo.update(p, set={"price": 1}, return_values="NONE"), None)
    assert_type(await repo.update("p1", set={"price": 1}, upsert=True), Product)
    assert_type(await repo.delete(p), Product | None)
    assert_type(await repo.delete("p1", return_old=True), Product | None)

    order_repo = db.repository(orders)
    assert_type(await order_repo.get(("c1", 7)), Order | None)
    assert_type(await order_repo.get({"customer": "c1", "number": 7}), Order | None)


async def flags_given_as_variables(db: Database, flag: bool, returns: ReturnValues) -> None:
    # return_old / return_values given as a plain bool / ReturnValues (not a literal),
    # as a wrapper passing its own argument on does, must still type-check.
    repo = db.repository(products)
    p = Product(id="p1", category="books", price=12, name="DDIA")
    assert_type(await repo.put(p, return_old=flag), Product | None)
    assert_type(await repo.update(p, set={"price": 1}, return_values=returns), Product | None)


async def database_types() -> None:
    db = Database.connect("http://127.0.0.1:8000", mappers=[products, orders], **LOCAL_CREDENTIALS)
    assert_type(db, Database)
    async with db as opened:
        assert_type(opened, Database)
        assert_type(opened.schema, Schema)
        assert_type(await opened.schema.ensure(products), bool)
        assert_type(await opened.schema.exists(orders), bool)
        assert_type(opened.table_name(products), str)
    assert_type(await db.open(), Database)
    await db.close()


def error_types(exc: ConditionFailed, too_large: ItemTooLarge) -> None:
    assert_type(exc.table, str | None)
    assert_type(exc.operation, str | None)
    assert_type(too_large.size, int)
    assert_type(too_large.limit, int)
