"""The history table: one record per migration, the lock, and backfill checkpoints.

All three live in one table keyed by ``version``: records under the migration's
version, the lock under ``#lock``, checkpoints under ``#checkpoint#...``. Versions
cannot start with ``#``, so they never collide.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from typing import Any, Literal

import attrs

from dynamorm_async.db import Database
from dynamorm_async.errors import (
    ConditionFailed,
    DynamoDBError,
    ItemAlreadyExists,
    MigrationError,
    TableNotFound,
)
from dynamorm_async.expressions import attr
from dynamorm_async.mapping import Mapper

__all__ = ["DEFAULT_TABLE", "History", "HistoryRecord", "LockRecord", "default_owner"]

_log = logging.getLogger("dynamorm_async.migrations")

DEFAULT_TABLE = "dynamorm_migrations"
_LOCK = "#lock"
_CHECKPOINT = "#checkpoint#"

Status = Literal["applied", "failed", "rolled_back"]


@attrs.define
class HistoryRecord:
    """What the history table says of one migration.

    Attributes:
        version: the migration's version.
        status: ``"applied"``, ``"failed"`` (its `up` raised) or ``"rolled_back"``.
        checksum: the checksum of the migration's source when it last ran.
        description: the migration's description.
        applied_at: when it last ran (UTC).
        duration_ms: how long it took, in milliseconds.
        error: the error, when it failed.
        owner: who ran it (``user@host:pid`` by default).
    """

    version: str
    status: Status
    checksum: str | None = None
    description: str = ""
    applied_at: dt.datetime | None = None
    duration_ms: int = 0
    error: str | None = None
    owner: str | None = None


@attrs.define
class LockRecord:
    """The lock that keeps two runs of migrations apart.

    Attributes:
        version: always ``"#lock"``.
        owner: who holds it.
        acquired_at: since when (UTC).
    """

    version: str
    owner: str
    acquired_at: dt.datetime


def default_owner() -> str:
    """``user@host:pid`` of this process: who holds a lock, who applied a migration."""
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class History:
    """Reads and writes the history table of a `Database` (or of its dry-run view)."""

    def __init__(self, db: Database, table: str = DEFAULT_TABLE) -> None:
        self.db = db
        self.records_mapper = Mapper(HistoryRecord, table=table, partition_key="version")
        self.lock_mapper = Mapper(LockRecord, table=table, partition_key="version")

    @property
    def table(self) -> str:
        """The history table's full name."""
        return self.db.table_name(self.records_mapper)

    async def ensure(self) -> None:
        """Create the history table if it does not exist.

        Two first runs may both try: the one whose CreateTable loses waits for the
        other's table, then goes on to the lock, which decides between them.
        """
        try:
            await self.db.schema.ensure(self.records_mapper)
        except DynamoDBError as exc:
            if exc.code != "ResourceInUseException":
                raise
            await self.db.schema.wait_until_active(self.records_mapper)

    async def records(self) -> dict[str, HistoryRecord]:
        """Every migration's record, by version; empty when the table does not exist."""
        scan = self.db.repository(self.records_mapper).scan().consistent()
        try:
            records = await scan.filter(~attr("version").begins_with("#")).all()
        except TableNotFound:
            return {}
        return {record.version: record for record in records}

    async def save(self, record: HistoryRecord) -> None:
        """Write a migration's record."""
        await self.db.repository(self.records_mapper).put(record)

    async def lock(self) -> LockRecord | None:
        """The current lock, or ``None``."""
        try:
            return await self.db.repository(self.lock_mapper).get(_LOCK, consistent=True)
        except TableNotFound:
            return None

    async def acquire(self, owner: str) -> None:
        """Take the lock with a conditional put; `MigrationError` if someone holds it."""
        lock = LockRecord(_LOCK, owner, _now())
        try:
            await self.db.repository(self.lock_mapper).create(lock)
        except ItemAlreadyExists as exc:
            holder = await self.lock()
            who = (
                f"{holder.owner} since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC"
                if holder
                else "another run"
            )
            raise MigrationError(
                f"migrations are locked by {who}; if no run is in progress (it crashed), "
                "break the lock with `dynamorm migrate unlock` (Migrator.break_lock())",
                table=self.table,
                operation="lock",
            ) from exc

    async def release(self, owner: str) -> None:
        """Give the lock back, if this owner still holds it.

        A lock broken (or broken and taken by another run) meanwhile is left alone:
        the run it guarded is over either way.
        """
        try:
            await self.db.repository(self.lock_mapper).delete(
                _LOCK, condition=attr("owner") == owner
            )
        except ConditionFailed:
            _log.warning("the migrations lock of %s was broken while it ran", owner)

    async def break_lock(self) -> LockRecord | None:
        """Delete the lock whoever holds it; returns the lock that was broken."""
        try:
            return await self.db.repository(self.lock_mapper).delete(_LOCK, return_old=True)
        except TableNotFound:
            return None

    # --- checkpoints: raw items, so that a scan's keys are kept exactly -----------

    def _checkpoint_key(self, name: str) -> dict[str, Any]:
        return {"version": {"S": _CHECKPOINT + name}}

    async def checkpoint(self, name: str) -> dict[str, Any] | None:
        """A saved position: ``{"done": True}`` or ``{"key": LastEvaluatedKey}``; or ``None``."""
        try:
            response = await self.db.transport.call(
                "GetItem",
                {
                    "TableName": self.table,
                    "Key": self._checkpoint_key(name),
                    "ConsistentRead": True,
                },
            )
        except TableNotFound:
            return None
        item = response.get("Item")
        if item is None:
            return None
        if "done" in item:
            return {"done": True}
        return {"key": item["position"]["M"]}

    async def save_checkpoint(self, name: str, key: dict[str, Any] | None) -> None:
        """Save a scan's position (its LastEvaluatedKey), or ``None`` once it is done."""
        item = self._checkpoint_key(name)
        item["done" if key is None else "position"] = {"BOOL": True} if key is None else {"M": key}
        await self.db.transport.call("PutItem", {"TableName": self.table, "Item": item})

    async def forget_checkpoints(self, version: str) -> None:
        """Delete every saved position of a migration, once it has succeeded.

        All of them, also those of an interrupted run that used other segments or
        names, so that a later run of the migration starts afresh.
        """
        scan = self.db.repository(self.lock_mapper).scan().consistent().project("version")
        prefix = f"{_CHECKPOINT}{version}#"
        saved = await scan.filter(attr("version").begins_with(prefix)).as_dicts().all()
        async with self.db.unit_of_work() as uow:
            for item in saved:
                uow.delete(item["version"], mapper=self.lock_mapper)


def check_owner(owner: object) -> str:
    """A lock owner must be a non-empty string."""
    if not isinstance(owner, str) or not owner:
        raise MigrationError(f"owner must be a non-empty string, not {owner!r}")
    return owner
