"""Tests that use the plugin's dynamorm_db fixture (an open Database, fresh tables)."""

import pytest
from catalog import Product, products

from dynamorm_async import Database, VersionConflict


async def test_put_then_get(dynamorm_db: Database) -> None:
    repo = dynamorm_db.repository(products)
    stored = await repo.put(Product("p1", "Lamp", stock=3))
    assert await repo.get("p1") == stored


async def test_each_test_gets_empty_tables(dynamorm_db: Database) -> None:
    # p1 was written by the test above, in a table of its own.
    assert await dynamorm_db.repository(products).get("p1") is None


async def test_stale_write_is_refused(dynamorm_db: Database) -> None:
    repo = dynamorm_db.repository(products)
    first = await repo.put(Product("p1", "Lamp"))
    await repo.update(first, add={"stock": 1})
    with pytest.raises(VersionConflict):
        await repo.update(first, add={"stock": 1})


async def test_table_names_are_prefixed(dynamorm_db: Database) -> None:
    # Tables get a unique prefix per test: use db.table_name() for raw client calls.
    name = dynamorm_db.table_name(products)
    assert name != "products"
    assert name.endswith("-products")
    response = await dynamorm_db.client.describe_table(TableName=name)
    assert response["Table"]["TableStatus"] == "ACTIVE"
