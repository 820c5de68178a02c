"""`db.schema` against the server: create, ensure, exists, describe, delete, indexes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from dynamorm_async import (
    DynamoDBError,
    GlobalIndex,
    LocalIndex,
    Mapper,
    MappingError,
    Projection,
    TableNotFound,
)


@attrs.define
class Product:
    id: str
    category: str
    price: Decimal
    name: str = ""
    stock: int = 0


products = Mapper(Product, table="products", partition_key="id")


@attrs.define
class Order:
    customer: str
    number: int
    created_at: dt.datetime
    status: str
    total: Decimal
    region: str = "eu"
    note: str = ""


orders = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    field_names={"created_at": "createdAt", "total": "orderTotal"},
    indexes=[
        GlobalIndex("by-status", partition_key="status", sort_key="created_at"),
        GlobalIndex("by-region", partition_key="region", projection="KEYS_ONLY"),
        GlobalIndex("by-total", partition_key="status", sort_key="total", projection=["note"]),
        LocalIndex("by-created", sort_key="created_at", projection=Projection.include("total")),
        LocalIndex("by-status-local", sort_key="status", projection=Projection.keys_only()),
    ],
)


@pytest.fixture
def dynamorm_mappers():
    return []  # each test creates what it needs


def key_schema(entries: list[dict]) -> list[tuple[str, str]]:
    return [(e["AttributeName"], e["KeyType"]) for e in entries]


async def test_create_exists_describe_delete(dynamorm_db):
    schema = dynamorm_db.schema
    name = dynamorm_db.table_name(products)
    assert await schema.exists(products) is False
    await schema.create(products)
    assert await schema.exists(products) is True
    table = await schema.describe(products)
    assert table["TableName"] == name
    assert table["TableStatus"] == "ACTIVE"
    assert key_schema(table["KeySchema"]) == [("id", "HASH")]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    listed = await dynamorm_db.client.list_tables()
    assert name in listed["TableNames"]
    await schema.delete(products)
    assert await schema.exists(products) is False
    with pytest.raises(TableNotFound):
        await schema.describe(products)
    listed = await dynamorm_db.client.list_tables()
    assert name not in listed["TableNames"]


async def test_created_table_is_usable(dynamorm_db):
    await dynamorm_db.schema.create(products)
    repo = dynamorm_db.repository(products)
    await repo.put(Product("p1", "books", Decimal("9.99")))
    assert await repo.get("p1") == Product("p1", "books", Decimal("9.99"))
    await dynamorm_db.schema.delete(products)


async def test_create_without_wait(dynamorm_db):
    await dynamorm_db.schema.create(products, wait=False)
    await dynamorm_db.schema.wait_until_active(products)
    assert (await dynamorm_db.schema.describe(products))["TableStatus"] == "ACTIVE"
    await dynamorm_db.schema.delete(products, wait=False)


async def test_create_existing_table_raises(dynamorm_db):
    await dynamorm_db.schema.create(products)
    with pytest.raises(DynamoDBError) as info:
        await dynamorm_db.schema.create(products)
    assert info.value.code == "ResourceInUseException"
    assert dynamorm_db.table_name(products) in str(info.value)
    assert "CreateTable" in str(info.value)
    await dynamorm_db.schema.delete(products)


async def test_delete_missing_table_raises_table_not_found(dynamorm_db):
    with pytest.raises(TableNotFound) as info:
        await dynamorm_db.schema.delete(products)
    assert dynamorm_db.table_name(products) in str(info.value)
    assert "DeleteTable" in str(info.value)


async def test_ensure_creates_then_reports_existing(dynamorm_db):
    assert await dynamorm_db.schema.ensure(products) is True
    assert await dynamorm_db.schema.exists(products) is True
    assert await dynamorm_db.schema.ensure(products) is False
    assert await dynamorm_db.schema.ensure(products) is False
    await dynamorm_db.schema.delete(products)
    assert await dynamorm_db.schema.ensure(products) is True
    await dynamorm_db.schema.delete(products)


@attrs.define
class OtherProduct:
    id: str
    sku: str


other_keys = Mapper(OtherProduct, table="products", partition_key="sku")
extra_sort_key = Mapper(OtherProduct, table="products", partition_key="id", sort_key="sku")


@pytest.mark.parametrize("other", [other_keys, extra_sort_key], ids=["other-hash", "extra-range"])
async def test_ensure_on_table_with_other_key_schema_raises_mapping_error(dynamorm_db, other):
    await dynamorm_db.schema.create(products)
    with pytest.raises(MappingError) as info:
        await dynamorm_db.schema.ensure(other)
    exc = info.value
    assert exc.table == dynamorm_db.table_name(products)
    assert dynamorm_db.table_name(products) in str(exc)
    assert "ensure" in str(exc)
    # The table is never altered implicitly.
    table = await dynamorm_db.schema.describe(products)
    assert key_schema(table["KeySchema"]) == [("id", "HASH")]
    await dynamorm_db.schema.delete(products)


@attrs.define
class NumericProduct:
    id: int


numeric_keys = Mapper(NumericProduct, table="products", partition_key="id")


async def test_ensure_on_table_with_other_key_type_raises_mapping_error(dynamorm_db):
    # Same attribute name, but the table's key is a string and the mapper's a number:
    # no request could ever work, so ensure must not accept the table.
    await dynamorm_db.schema.create(products)
    try:
        with pytest.raises(MappingError):
            await dynamorm_db.schema.ensure(numeric_keys)
    finally:
        await dynamorm_db.schema.delete(products)


async def test_indexes_created_with_key_schema_and_projection(dynamorm_db):
    await dynamorm_db.schema.create(orders)
    table = await dynamorm_db.schema.describe(orders)
    assert sorted(key_schema(table["KeySchema"])) == [("customer", "HASH"), ("number", "RANGE")]
    definitions = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    assert definitions == {
        "customer": "S",
        "number": "N",
        "status": "S",
        "createdAt": "S",
        "region": "S",
        "orderTotal": "N",
    }

    gsis = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    assert set(gsis) == {"by-status", "by-region", "by-total"}
    assert key_schema(gsis["by-status"]["KeySchema"]) == [
        ("status", "HASH"),
        ("createdAt", "RANGE"),
    ]
    assert gsis["by-status"]["Projection"] == {"ProjectionType": "ALL"}
    assert key_schema(gsis["by-region"]["KeySchema"]) == [("region", "HASH")]
    assert gsis["by-region"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert key_schema(gsis["by-total"]["KeySchema"]) == [
        ("status", "HASH"),
        ("orderTotal", "RANGE"),
    ]
    assert gsis["by-total"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["note"],
    }
    for index in gsis.values():
        assert index.get("IndexStatus", "ACTIVE") == "ACTIVE"

    lsis = {i["IndexName"]: i for i in table["LocalSecondaryIndexes"]}
    assert set(lsis) == {"by-created", "by-status-local"}
    assert key_schema(lsis["by-created"]["KeySchema"]) == [
        ("customer", "HASH"),
        ("createdAt", "RANGE"),
    ]
    # INCLUDE lists stored names.
    assert lsis["by-created"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["orderTotal"],
    }
    assert key_schema(lsis["by-status-local"]["KeySchema"]) == [
        ("customer", "HASH"),
        ("status", "RANGE"),
    ]
    assert lsis["by-status-local"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    await dynamorm_db.schema.delete(orders)


async def test_indexed_table_is_queryable_through_its_index(dynamorm_db):
    await dynamorm_db.schema.create(orders)
    repo = dynamorm_db.repository(orders)
    at = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    await repo.put(Order("c1", 1, at, "paid", Decimal("10.5"), note="n"))
    await repo.put(Order("c2", 1, at, "open", Decimal(3)))
    # The raw client queries the GSI: the stored names are the index's keys.
    response = await dynamorm_db.client.query(
        TableName=repo.table,
        IndexName="by-status",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "paid"}},
    )
    assert [item["customer"]["S"] for item in response["Items"]] == ["c1"]
    await dynamorm_db.schema.delete(orders)


async def test_ensure_with_indexes_is_idempotent(dynamorm_db):
    assert await dynamorm_db.schema.ensure(orders) is True
    assert await dynamorm_db.schema.ensure(orders) is False
    await dynamorm_db.schema.delete(orders)
