"""`db.schema`: create, describe, diff, update and delete the tables of mappers.

Every change is planned first as a list of `Call` (see `_schema_plan`), then sent one
call at a time, waiting for the table to be ACTIVE in between: DynamoDB takes one
index creation or deletion per UpdateTable, and refuses an update while another runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio

from dynamorm_async.db._schema_plan import (
    Call,
    LiveTable,
    SchemaDiff,
    compare,
    gsi_create_request,
    gsi_delete_request,
)
from dynamorm_async.errors import MappingError, SchemaMismatch, TableNotFound, TransportError
from dynamorm_async.mapping import Mapper
from dynamorm_async.specs import GlobalIndex, TableOptions

if TYPE_CHECKING:
    from dynamorm_async.db._database import Database

__all__ = ["Schema"]

_log = logging.getLogger("dynamorm_async.schema")

# Changes without which the model's reads and writes fail: `ensure` refuses them.
_STRUCTURAL = frozenset({"key_schema", "local_index", "add_index", "replace_index"})


class Schema:
    """Table operations for mappers, reached as ``db.schema``.

    Table options (billing, throughput, stream, encryption, tags, deletion
    protection, table class) come from the mapper's ``options`` or, for one call,
    from ``options=``.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    # --- reading --------------------------------------------------------------

    async def describe(self, mapper: Mapper[Any]) -> dict[str, Any]:
        """DynamoDB's description of the mapper's table (DescribeTable's ``Table``).

        Raises `TableNotFound` when the table does not exist.
        """
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

    async def live(
        self, mapper: Mapper[Any], *, options: TableOptions | None = None
    ) -> LiveTable | None:
        """The live table's description, TTL and (when the model has tags) tags.

        ``None`` when the table does not exist.
        """
        try:
            description = await self.describe(mapper)
        except TableNotFound:
            return None
        name = description["TableName"]
        ttl = await self._db.transport.call("DescribeTimeToLive", {"TableName": name})
        tags: dict[str, str] = {}
        if (options or mapper.options).tags and description.get("TableArn"):
            arn = description["TableArn"]
            request: dict[str, Any] = {"ResourceArn": arn}
            while True:
                page = await self._db.transport.call("ListTagsOfResource", request)
                tags.update({t["Key"]: t["Value"] for t in page.get("Tags", ())})
                if not page.get("NextToken"):
                    break
                request = {"ResourceArn": arn, "NextToken": page["NextToken"]}
        return LiveTable(description, ttl.get("TimeToLiveDescription", {}), tags)

    async def diff(self, mapper: Mapper[Any], *, options: TableOptions | None = None) -> SchemaDiff:
        """How the live table differs from the mapper: an empty `SchemaDiff` if not at all.

        Each `Change` is classified: ``safe`` (`update` applies it online),
        ``data`` (a changed global index: needs a new index, its backfill, and the
        old one dropped) or ``breaking`` (the table's keys or a local index: needs a
        new table and a copy). A missing table is one safe change, its creation.
        """
        live = await self.live(mapper, options=options)
        return compare(mapper, self._db.table_name(mapper), live, options)

    # --- changing -------------------------------------------------------------

    async def create(
        self, mapper: Mapper[Any], *, wait: bool = True, options: TableOptions | None = None
    ) -> None:
        """Create the mapper's table with its keys, indexes and options.

        With `wait`, returns once the table and its indexes are ACTIVE. A mapper
        with a `ttl_attribute` also gets TTL turned on for that attribute (which
        needs the table ACTIVE, so it always waits).
        """
        name = self._db.table_name(mapper)
        diff = compare(mapper, name, None, options)
        await self.apply(mapper, diff.changes[0].calls, wait=wait)

    async def ensure(self, mapper: Mapper[Any], *, options: TableOptions | None = None) -> bool:
        """Create the table if it is missing; otherwise check that the model can use it.

        Returns whether the table was created. A live table whose keys or local
        indexes differ, or that lacks a global index of the model (or has it with
        other keys or projection), raises `SchemaMismatch`, listing the changes; it
        is never altered here. Other differences (billing, stream...) are left to
        `diff` and `update`.
        """
        live = await self.live(mapper, options=options)
        name = self._db.table_name(mapper)
        diff = compare(mapper, name, live, options)
        if live is None:
            await self.apply(mapper, diff.changes[0].calls, wait=True)
            return True
        blocking = tuple(c for c in diff.changes if c.kind in _STRUCTURAL)
        if blocking:
            raise SchemaMismatch(
                f"table {name!r} does not match {mapper!r}: "
                + "; ".join(c.description for c in blocking)
                + " (see db.schema.diff; db.schema.update applies safe changes)",
                changes=blocking,
                table=name,
                operation="ensure",
            )
        if live.description.get("TableStatus") != "ACTIVE":
            await self.wait_until_active(mapper)
        return False

    async def update(
        self,
        mapper: Mapper[Any],
        *,
        options: TableOptions | None = None,
        drop_indexes: bool = False,
        wait: bool = True,
    ) -> SchemaDiff:
        """Apply the safe changes of `diff`, one call at a time; returns what it applied.

        Adds missing global indexes (DynamoDB backfills them), changes billing
        mode and throughput, the stream, TTL, encryption, tags, deletion protection
        and table class; creates the table if it is missing. Global indexes the
        model does not have are dropped only with `drop_indexes` (another
        application may read them). A diff with ``data`` or ``breaking`` changes
        raises `SchemaMismatch` before anything is sent: apply those with a
        migration (`replace_index`, or a new table and `copy_table`).
        """
        diff = await self.diff(mapper, options=options)
        unsafe = diff.data + diff.breaking
        if unsafe:
            raise SchemaMismatch(
                f"table {diff.table!r} has changes that update does not apply: "
                + "; ".join(str(c) for c in unsafe),
                changes=unsafe,
                table=diff.table,
                operation="update",
            )
        applied = tuple(c for c in diff.safe if drop_indexes or c.kind != "drop_index")
        for change in applied:
            _log.info("%s: applying %s", diff.table, change.description)
        # One sequence: between any two calls the table is ACTIVE again, whatever `wait`.
        await self.apply(mapper, [call for c in applied for call in c.calls], wait=wait)
        return SchemaDiff(diff.table, applied)

    async def add_index(self, mapper: Mapper[Any], name: str, *, wait: bool = True) -> None:
        """Add the mapper's global index `name` to the live table; DynamoDB backfills it.

        With `wait`, returns once the index is ACTIVE (backfilled).
        """
        index = mapper.indexes.get(name)
        if not isinstance(index, GlobalIndex):
            raise MappingError(
                f"{mapper!r} has no global index {name!r} (local indexes exist only from "
                "the table's creation)",
                table=self._db.table_name(mapper),
                operation="add_index",
            )
        request = gsi_create_request(mapper, self._db.table_name(mapper), index)
        await self.apply(mapper, [Call("UpdateTable", request)], wait=wait)

    async def drop_index(self, mapper: Mapper[Any], name: str, *, wait: bool = True) -> None:
        """Delete the global index `name` from the mapper's live table.

        The index need not be in the mapper any more. With `wait`, returns once it
        is gone.
        """
        request = gsi_delete_request(self._db.table_name(mapper), name)
        await self.apply(mapper, [Call("UpdateTable", request)], wait=wait)

    async def replace_index(self, mapper: Mapper[Any], name: str) -> None:
        """Drop the live global index `name` and create the mapper's version of it.

        The way to apply a ``data`` change to an index of the same name: queries on
        the index fail between the drop and the end of the new index's backfill.
        To avoid that gap, add the new index under another name, move the queries
        to it, then drop the old one.
        """
        await self.drop_index(mapper, name)
        await self.add_index(mapper, name)

    async def delete(self, mapper: Mapper[Any], *, wait: bool = True) -> None:
        """Delete the mapper's table and, with `wait`, wait until it is gone."""
        name = self._db.table_name(mapper)
        await self._db.transport.call("DeleteTable", {"TableName": name})
        if wait:
            await self._poll(mapper, lambda table: table is None, "deleted")

    async def wait_until_active(self, mapper: Mapper[Any], *, max_wait: float = 300.0) -> None:
        """Poll, with backoff, until the table and its indexes are ACTIVE."""
        await self._poll(mapper, _is_active, "ACTIVE", max_wait=max_wait)

    async def apply(self, mapper: Mapper[Any], calls: Iterable[Call], *, wait: bool = True) -> None:
        """Send control-plane calls (from a `Change`, or written in a migration) in order.

        Between calls that leave the table updating, waits for it to be ACTIVE
        again; with `wait`, also after the last one. Each request is sent for the
        mapper's table: its ``TableName`` (and, for tagging, ``ResourceArn``) is
        filled in, so that a migration written against one environment's tables
        applies to another's (another table-name prefix).
        """
        calls = list(calls)
        name = self._db.table_name(mapper)
        for position, call in enumerate(calls):
            request = dict(call.request)
            if call.operation in ("TagResource", "UntagResource"):
                request["ResourceArn"] = (await self.describe(mapper))["TableArn"]
            else:
                request["TableName"] = name
            await self._db.transport.call(call.operation, request)
            # A call that leaves the table updating must finish before the next one.
            more = position < len(calls) - 1
            if call.wait and (wait or more):
                await self.wait_until_active(mapper)

    async def _poll(
        self,
        mapper: Mapper[Any],
        done: Callable[[dict[str, Any] | None], bool],
        what: str,
        *,
        max_wait: float = 300.0,
    ) -> None:
        if self._db.transport.dry_run:  # nothing was sent: nothing to wait for
            return
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


def _is_active(table: dict[str, Any] | None) -> bool:
    if table is None or table.get("TableStatus") != "ACTIVE":
        return False
    indexes = table.get("GlobalSecondaryIndexes", [])
    return all(index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes)
