"""Mapping classes: keys, indexes, stored names, version and TTL fields, table names."""

import asyncio
import datetime as dt
from collections.abc import Callable

import attrs

from dynamorm_async import Database, GlobalIndex, LocalIndex, Mapper, MappingError, Projection
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb


@attrs.define
class Order:
    customer_id: str  # partition key
    order_no: int  # sort key
    status: str
    total_cents: int
    placed_at: dt.datetime
    note: str | None = None
    coupon: str | None = None  # key of a sparse index
    version: int = 0  # optimistic locking
    expires_at: dt.datetime | None = None  # TTL: stored as epoch seconds


orders = Mapper(
    Order,
    table="orders",
    partition_key="customer_id",
    sort_key="order_no",
    indexes=[
        # A GSI has its own partition key and, optionally, a sort key.
        GlobalIndex("by-status", partition_key="status", sort_key="placed_at"),
        # INCLUDE copies the keys plus the named fields (Python names) into the index.
        GlobalIndex(
            "by-total",
            partition_key="status",
            sort_key="total_cents",
            projection=Projection.include("note"),
        ),
        # An optional index key makes a sparse index: only items with a coupon are in it.
        GlobalIndex("by-coupon", partition_key="coupon", projection="KEYS_ONLY"),
        # An LSI keeps the table's partition key and replaces its sort key.
        LocalIndex("by-placed", sort_key="placed_at", projection="KEYS_ONLY"),
    ],
    field_names={"customer_id": "pk", "order_no": "sk", "placed_at": "placedAt"},
    version_attribute="version",
    ttl_attribute="expires_at",
)


@attrs.define
class Flag:
    id: str
    enabled: bool


def refused(build: Callable[[], object]) -> MappingError:
    """Build a mapper that must be refused; return the error."""
    try:
        build()
    except MappingError as exc:
        print("MappingError:", exc.message)
        return exc
    raise AssertionError("the mapping was accepted")


def mapping_mistakes() -> None:
    """Mistakes in a mapping fail when the Mapper is built, naming the class and field."""
    error = refused(lambda: Mapper(Flag, table="flags", partition_key="idd"))
    assert "did you mean 'id'?" in error.message
    refused(lambda: Mapper(Flag, table="flags", partition_key="enabled"))  # bool: not a key
    refused(  # an LSI needs a table with a sort key
        lambda: Mapper(Flag, table="flags", partition_key="id", indexes=[LocalIndex("lsi", "id")])
    )
    refused(lambda: Mapper(Flag, table="x", partition_key="id"))  # names are 3-255 characters


async def main() -> None:
    mapping_mistakes()

    placed = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone.utc)
    order = Order("c-42", 1, "open", 2599, placed, expires_at=placed + dt.timedelta(days=90))

    # The item as DynamoDB stores it: stored names, None left out, the TTL as a number.
    item = orders.encode(order)
    print("item:", item)
    assert item["pk"] == {"S": "c-42"}
    assert item["sk"] == {"N": "1"}
    assert item["placedAt"] == {"S": "2024-05-01T09:30:00.000000Z"}
    assert item["expires_at"] == {"N": "1722331800"}
    assert "note" not in item

    # Keys: from an object, a (partition, sort) tuple or a dict of Python field names.
    assert (
        orders.key_of(order)
        == orders.key(("c-42", 1))
        == orders.key({"customer_id": "c-42", "order_no": 1})
        == {"pk": {"S": "c-42"}, "sk": {"N": "1"}}
    )

    async with (
        local_dynamodb() as url,
        Database.connect(
            url,
            mappers=[orders],
            table_name_template="{env}-{table}",  # one account, several environments
            table_name_vars={"env": "staging"},
            **LOCAL_CREDENTIALS,
        ) as db,
    ):
        assert db.table_name(orders) == "staging-orders"
        assert await db.schema.ensure(orders)  # True: the table was created
        assert not await db.schema.ensure(orders)  # False: it exists, its keys match

        table = await db.schema.describe(orders)
        print("table:", table["TableName"], table["KeySchema"])
        gsis = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
        lsis = {i["IndexName"]: i for i in table["LocalSecondaryIndexes"]}
        print("global indexes:", sorted(gsis), "local indexes:", sorted(lsis))
        assert sorted(gsis) == ["by-coupon", "by-status", "by-total"]
        assert gsis["by-total"]["Projection"] == {
            "ProjectionType": "INCLUDE",
            "NonKeyAttributes": ["note"],
        }
        assert lsis["by-placed"]["KeySchema"][1] == {
            "AttributeName": "placedAt",
            "KeyType": "RANGE",
        }

        # ensure() created the table and turned TTL on for the stored attribute name.
        ttl = await db.client.describe_time_to_live(TableName=db.table_name(orders))
        assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
        assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"

        repo = db.repository(orders)
        stored = await repo.put(order)  # the version goes from 0 to 1
        assert stored.version == 1
        assert await repo.get(("c-42", 1)) == stored
        print("stored:", stored)

        # Only the order with a coupon is in the sparse index.
        await repo.put(Order("c-42", 2, "open", 999, placed, coupon="SPRING"))
        in_index = await db.client.scan(TableName=db.table_name(orders), IndexName="by-coupon")
        print("in the sparse index:", in_index["Items"])
        assert [item["sk"] for item in in_index["Items"]] == [{"N": "2"}]


if __name__ == "__main__":
    asyncio.run(main())
