"""`generate_model` on a table made by another tool: raw CreateTable and PutItem calls,
then DescribeTable, DescribeTimeToLive and Scan, as ``dynamorm generate model`` does.
The generated module is imported and its mapper reads every item through a Repository.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from dynamorm_async import Database, Mapper, attr
from dynamorm_async.cli._generate import generate_model
from dynamorm_async.testing import LOCAL_CREDENTIALS

ITEMS: list[dict[str, Any]] = [
    {
        "PK": {"S": "customer#1"},
        "SK": {"N": "1"},
        "order-status": {"S": "open"},
        "placedAt": {"S": "2024-05-01T09:30:15Z"},
        "total": {"N": "19.9"},  # as DynamoDB returns it (numbers are normalised)
        "tags": {"SS": ["gift", "express"]},
        "lines": {"L": [{"M": {"sku": {"S": "a-1"}, "qty": {"N": "2"}}}, {"NULL": True}]},
        "meta": {"M": {"source": {"S": "legacy"}, "flags": {"NS": ["1", "2"]}}},
        "paid": {"BOOL": True},
        "blob": {"B": b"\x00\x01"},
        "class": {"S": "priority"},
        "_ttl": {"N": "1893456000"},
    },
    {
        "PK": {"S": "customer#1"},
        "SK": {"N": "2"},
        "order-status": {"S": "done"},
        "placedAt": {"S": "2024-05-02T10:00:00Z"},
        "total": {"N": "5"},
        "note": {"NULL": True},
        "paid": {"BOOL": False},
    },
    {
        "PK": {"S": "customer#2"},
        "SK": {"N": "1"},
        "total": {"N": "100"},
        "note": {"S": "no status: not in the sparse index"},
    },
]


def load(source: str, directory: Path) -> Any:
    """Write `source` to a file in `directory` and import it as a fresh module."""
    name = f"generated_{uuid.uuid4().hex}"
    path = directory / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def without_nulls(item: dict[str, Any]) -> dict[str, Any]:
    """What an item writes back as: None fields are left out; sets compared as sets."""
    out: dict[str, Any] = {}
    for name, value in item.items():
        if "NULL" in value:
            continue
        ((tag, inner),) = value.items()
        out[name] = (tag, frozenset(inner)) if tag in ("SS", "NS", "BS") else value
    return out


async def test_generate_model_from_a_live_table(dynamorm_db, dynamorm_endpoint, tmp_path):
    client = dynamorm_db.client
    name = dynamorm_db.table_name_template.format(
        table="legacy-orders", **dynamorm_db.table_name_vars
    )
    await client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "N"},
            {"AttributeName": "order-status", "AttributeType": "S"},
            {"AttributeName": "placedAt", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-status",
                "KeySchema": [
                    {"AttributeName": "order-status", "KeyType": "HASH"},
                    {"AttributeName": "placedAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-placed",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "placedAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        await client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
        )
        await client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "_ttl"},
        )
        for item in ITEMS:
            await client.put_item(TableName=name, Item=item)

        table = (await client.describe_table(TableName=name))["Table"]
        ttl = (await client.describe_time_to_live(TableName=name))["TimeToLiveDescription"]
        scanned = (await client.scan(TableName=name))["Items"]
        assert len(scanned) == len(ITEMS)
        source = generate_model(
            table,
            scanned,
            class_name="LegacyOrder",
            mapper_name="legacy_orders",
            ttl_attribute=ttl["AttributeName"],
        )
        module = load(source, tmp_path)
        mapper: Mapper[Any] = module.legacy_orders
        assert mapper.cls is module.LegacyOrder
        assert mapper.table == name
        assert set(mapper.indexes) == {"by-status", "by-placed"}
        assert mapper.indexes["by-placed"].projection.attributes == ("total",)
        assert mapper.stored_name("order_status") == "order-status"
        assert mapper.stored_name("class_") == "class"
        assert mapper.stored_name("ttl") == "_ttl"
        assert mapper.ttl_attribute == "ttl"

        # The table's real name is the mapper's: read it without the test's prefix.
        async with Database.connect(dynamorm_endpoint, **LOCAL_CREDENTIALS) as db:
            repo = db.repository(mapper)
            objects = await repo.scan().all()
            assert len(objects) == len(ITEMS)
            for item in ITEMS:
                obj = await repo.get((item["PK"]["S"], int(item["SK"]["N"])))
                assert obj is not None
                assert without_nulls(mapper.encode(obj)) == without_nulls(item)
                assert without_nulls(mapper.encode(mapper.decode(copy.deepcopy(item)))) == (
                    without_nulls(item)
                )
            first = await repo.get(("customer#1", 1))
            assert first.total == Decimal("19.9")
            assert first.paid is True
            assert first.tags == frozenset({"gift", "express"})
            assert first.lines == [{"sku": "a-1", "qty": 2}, None]
            assert first.ttl is not None
            assert first.ttl.year == 2030
            # The GSI is sparse: the item without a status is not in it.
            open_orders = await repo.where("order_status", "=", "open").all()
            assert [o.SK for o in open_orders] == [1]
            statuses = await repo.query(attr("order_status") == "done").all()
            assert [(o.PK, o.SK) for o in statuses] == [("customer#1", 2)]
            # And the generated mapper writes items the table accepts.
            await repo.put(module.LegacyOrder(PK="customer#3", SK=1))
            assert await repo.get(("customer#3", 1)) is not None
    finally:
        with contextlib.suppress(Exception):
            await client.delete_table(TableName=name)
