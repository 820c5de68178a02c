"""`db.schema`: create tables from mappers and wait for them (the basics).

The schema-management work builds on this: describe, update, diff, migrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from dynamorm_async.errors import MappingError, TableNotFound, TransportError
from dynamorm_async.mapping import Mapper
from dynamorm_async.specs import GlobalIndex, LocalIndex, Projection

if TYPE_CHECKING:
    from dynamorm_async.db._database import Database

__all__ = ["Schema", "create_table_request"]


def _projection(mapper: Mapper[Any], projection: Projection) -> dict[str, Any]:
    spec: dict[str, Any] = {"ProjectionType": projection.type}
    if projection.type == "INCLUDE":
        spec["NonKeyAttributes"] = [mapper.stored_name(a) for a in projection.attributes]
    return spec


def _key_schema(mapper: Mapper[Any], partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": mapper.stored_name(partition), "KeyType": "HASH"}]
    if sort is not None:
        schema.append({"AttributeName": mapper.stored_name(sort), "KeyType": "RANGE"})
    return schema


def create_table_request(mapper: Mapper[Any], table_name: str) -> dict[str, Any]:
    """The CreateTable payload for a mapper: keys, indexes, on-demand billing."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": _key_schema(mapper, mapper.partition_key, mapper.sort_key),
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in mapper.key_attributes.items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    gsis = [i for i in mapper.indexes.values() if isinstance(i, GlobalIndex)]
    lsis = [i for i in mapper.indexes.values() if isinstance(i, LocalIndex)]
    if gsis:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(mapper, index.partition_key, index.sort_key),
                "Projection": _projection(mapper, index.projection),
            }
            for index in gsis
        ]
    if lsis:
        request["LocalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(mapper, mapper.partition_key, index.sort_key),
                "Projection": _projection(mapper, index.projection),
            }
            for index in lsis
        ]
    return request


class Schema:
    """Table operations for mappers, reached as ``db.schema``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(self, mapper: Mapper[Any], *, wait: bool = True) -> None:
        """Create the mapper's table with its keys and indexes (on-demand billing).

        With `wait`, returns once the table is ACTIVE. A mapper with a
        `ttl_attribute` also gets TTL turned on for that attribute (which needs the
        table ACTIVE, so it always waits).
        """
        name = self._db.table_name(mapper)
        await self._db.transport.call("CreateTable", create_table_request(mapper, name))
        if wait or mapper.ttl_attribute is not None:
            await self.wait_until_active(mapper)
        if mapper.ttl_attribute is not None:
            # TTL can only be turned on once the table is ACTIVE.
            await self._db.transport.call(
                "UpdateTimeToLive",
                {
                    "TableName": name,
                    "TimeToLiveSpecification": {
                        "Enabled": True,
                        "AttributeName": mapper.stored_name(mapper.ttl_attribute),
                    },
                },
            )

    async def ensure(self, mapper: Mapper[Any]) -> bool:
        """Create the table if it is missing; otherwise check its key schema matches.

        Returns whether the table was created. A table whose keys differ from the
        mapper's raises `MappingError` (it is never altered implicitly).
        """
        try:
            table = await self.describe(mapper)
        except TableNotFound:
            await self.create(mapper)
            return True
        live = _key_signature(table)
        wanted = _key_signature(create_table_request(mapper, table["TableName"]))
        if live != wanted:
            raise MappingError(
                f"table {table['TableName']!r} has keys {live} (name: key type, attribute "
                f"type), but {mapper!r} expects {wanted}; a table's keys cannot be changed",
                table=table["TableName"],
                operation="ensure",
            )
        if table.get("TableStatus") != "ACTIVE":
            await self.wait_until_active(mapper)
        return False

    async def describe(self, mapper: Mapper[Any]) -> dict[str, Any]:
        """DynamoDB's description of the mapper's table (DescribeTable's ``Table``)."""
        name = self._db.table_name(mapper)
        response = await self._db.transport.call("DescribeTable", {"TableName": name})
        table: dict[str, Any] = response["Table"]
        return table

    async def exists(self, mapper: Mapper[Any]) -> bool:
        """Whether the mapper's table exists."""
        try:
            await self.describe(mapper)
        except TableNotFound:
            return False
        return True

    async def delete(self, mapper: Mapper[Any], *, wait: bool = True) -> None:
        """Delete the mapper's table and, with `wait`, wait until it is gone."""
        name = self._db.table_name(mapper)
        await self._db.transport.call("DeleteTable", {"TableName": name})
        if wait:
            await self._poll(mapper, lambda table: table is None, "deleted")

    async def wait_until_active(self, mapper: Mapper[Any], *, max_wait: float = 300.0) -> None:
        """Poll, with backoff, until the table and its indexes are ACTIVE."""
        await self._poll(mapper, _is_active, "ACTIVE", max_wait=max_wait)

    async def _poll(
        self, mapper: Mapper[Any], done: Any, what: str, *, max_wait: float = 300.0
    ) -> None:
        delay = 0.05
        with anyio.move_on_after(max_wait) as scope:
            while True:
                try:
                    table: dict[str, Any] | None = await self.describe(mapper)
                except TableNotFound:
                    table = None
                if done(table):
                    return
                await anyio.sleep(delay)
                delay = min(delay * 2, 5.0)
        if scope.cancelled_caught:
            raise TransportError(
                f"table did not become {what} within {max_wait:.0f}s",
                table=self._db.table_name(mapper),
                operation="wait",
            )


def _key_signature(table: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Each key attribute's key type and attribute type, from a table description or
    a CreateTable request (both have KeySchema and AttributeDefinitions)."""
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    return {
        k["AttributeName"]: (k["KeyType"], types.get(k["AttributeName"]))
        for k in table["KeySchema"]
    }


def _is_active(table: dict[str, Any] | None) -> bool:
    if table is None or table.get("TableStatus") != "ACTIVE":
        return False
    indexes = table.get("GlobalSecondaryIndexes", [])
    return all(index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes)
