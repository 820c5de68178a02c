"""What a migration's `up` and `down` get: the schema, the database and data helpers."""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import attrs

if sys.version_info < (3, 11):  # pragma: no cover - the backport anyio depends on
    from exceptiongroup import BaseExceptionGroup

from dynamorm_async.db import Database, Repository, Schema
from dynamorm_async.errors import MigrationError
from dynamorm_async.mapping import Mapper
from dynamorm_async.migrations._history import History
from dynamorm_async.migrations._migration import Migration

__all__ = ["CopyReport", "MigrationContext", "Progress"]

T = TypeVar("T")
U = TypeVar("U")

_log = logging.getLogger("dynamorm_async.migrations")

#: Called with the number of items scanned so far, after each page.
Progress = Callable[[int], None]

# Scans in flight at once, whatever the number of segments.
_MAX_CONCURRENT_SEGMENTS = 16
_MAX_SEGMENTS = 1_000_000  # DynamoDB's limit on TotalSegments


async def _queue(uow: Any, result: Any, mapper: Mapper[Any], *, as_is: bool = False) -> bool:
    """Put what a user's function returned (awaited if need be) into the unit of work;
    whether there was anything (``None``: leave the item as it is).

    `as_is` writes the object as it is, version included and unchecked: a copy's
    page may be written twice after a crash, and must not conflict with itself.
    """
    if inspect.isawaitable(result):
        result = await result
    if result is None:
        return False
    if as_is:
        uow.put_item(mapper.encode(result), mapper=mapper)
    else:
        uow.put(result, mapper=mapper)
    return True


def _first(error: BaseException) -> BaseException:
    # One failing segment cancels the others: its error is the one to show.
    cancelled = anyio.get_cancelled_exc_class()
    while isinstance(error, BaseExceptionGroup):
        inner = error.exceptions
        error = next((e for e in inner if not isinstance(e, cancelled)), inner[0])
    return error


def _int_between(value: object, top: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= top


@attrs.define
class CopyReport:
    """What a `backfill` or a `copy_table` did.

    Attributes:
        scanned: items read.
        written: items written.
        segments: the scan's segments.
        resumed: segments already finished by an earlier, interrupted run (skipped).
    """

    scanned: int = 0
    written: int = 0
    segments: int = 0
    resumed: int = 0


class MigrationContext:
    """The argument of a migration's `up` and `down`.

    Attributes:
        db: the `Database` (in a dry run, a view that records writes: see
            `Database.dry_run`).
        schema: ``db.schema``: create, update, add_index, drop_index, delete...
        migration: the migration being run.
        dry_run: whether writes are recorded rather than sent.
    """

    def __init__(
        self,
        db: Database,
        migration: Migration,
        history: History,
        *,
        progress: Progress | None = None,
    ) -> None:
        self.db = db
        self.schema: Schema = db.schema
        self.migration = migration
        self.dry_run = db.transport.dry_run
        self._history = history
        self._progress = progress
        #: Checkpoints this run used; forgotten once the migration succeeds.
        self.checkpoints: set[str] = set()

    def repository(self, mapper: Mapper[T]) -> Repository[T]:
        """The repository of a mapper, on this context's database."""
        return self.db.repository(mapper)

    def log(self, message: str) -> None:
        """Log a line under the migration's version (logger ``dynamorm_async.migrations``)."""
        _log.info("%s: %s", self.migration.version, message)

    async def backfill(
        self,
        mapper: Mapper[T],
        fn: Callable[[T], T | Awaitable[T | None] | None],
        *,
        segments: int = 4,
        page_size: int = 100,
        name: str = "backfill",
    ) -> CopyReport:
        """Rewrite every item of the mapper's table through `fn`, resumably.

        A parallel scan of `segments` segments reads the table page by page; `fn`
        gets each object and returns it changed (written back through a unit of
        work: batched, retried; versioned objects are checked) or ``None`` (left
        as it is). After each page is written, the segment's position is saved in
        the history table, so a run that crashed resumes where it stopped: finished
        segments are skipped, the others restart at their last saved page (so `fn`
        must give the same result when it sees an item twice). `name` tells apart
        two backfills of one migration; the positions are forgotten once the
        migration succeeds.
        """

        async def rewrite(item: dict[str, Any], uow: Any) -> bool:
            """Queue `fn`'s version of the item; whether there was one."""
            return await _queue(uow, fn(mapper.decode(item)), mapper)

        return await self._rewrite(mapper, rewrite, segments, page_size, name)

    async def copy_table(
        self,
        source: Mapper[T],
        target: Mapper[U],
        transform: Callable[[T], U | Awaitable[U | None] | None] | None = None,
        *,
        segments: int = 4,
        page_size: int = 100,
        name: str | None = None,
    ) -> CopyReport:
        """Copy every item of `source`'s table into `target`'s, resumably.

        Without `transform`, items are copied exactly as stored (no decoding, no
        version bump). With it, each object of `source` becomes `transform(obj)`,
        an object of `target`'s class (``None``: not copied), written as it is
        (its version too, unchecked). The target table
        must exist (create it first with ``ctx.schema.create(target)``). Resumes
        after a crash like `backfill`.
        """

        async def copy(item: dict[str, Any], uow: Any) -> bool:
            """Queue the item's copy; whether there was one."""
            if transform is None:
                uow.put_item(item, mapper=target)
                return True
            return await _queue(uow, transform(source.decode(item)), target, as_is=True)

        label = name or f"copy:{self.db.table_name(source)}->{self.db.table_name(target)}"
        return await self._rewrite(source, copy, segments, page_size, label)

    async def _rewrite(
        self,
        source: Mapper[Any],
        handle: Callable[[dict[str, Any], Any], Awaitable[bool]],
        segments: int,
        page_size: int,
        name: str,
    ) -> CopyReport:
        for value, what, top in (
            (segments, "segments", _MAX_SEGMENTS),
            (page_size, "page_size", 10_000),
        ):
            if not _int_between(value, top):
                raise MigrationError(
                    f"{what} must be an int from 1 to {top:,}, not {value!r}",
                    version=self.migration.version,
                )
        table = self.db.table_name(source)
        report = CopyReport(segments=segments)
        limiter = anyio.CapacityLimiter(min(segments, _MAX_CONCURRENT_SEGMENTS))

        async def segment(number: int) -> None:
            async with limiter:
                await self._segment(
                    source, table, handle, number, segments, page_size, name, report
                )

        try:
            async with anyio.create_task_group() as group:
                for number in range(segments):
                    group.start_soon(segment, number)
        except BaseExceptionGroup as group_error:
            raise _first(group_error) from None
        self.log(
            f"{name}: {report.scanned} scanned, {report.written} written, {report.resumed} segment(s) resumed"
        )
        return report

    async def _segment(
        self,
        source: Mapper[Any],
        table: str,
        handle: Callable[[dict[str, Any], Any], Awaitable[bool]],
        number: int,
        total: int,
        page_size: int,
        name: str,
        report: CopyReport,
    ) -> None:
        # The source's checksum too: positions saved by an edited migration's run are
        # not trusted (its fn may have been wrong); it starts over.
        edition = (self.migration.checksum or "")[:12]
        checkpoint = f"{self.migration.version}#{name}#{edition}#{number}/{total}"
        self.checkpoints.add(checkpoint)
        saved = await self._history.checkpoint(checkpoint)
        if saved is not None and saved.get("done"):
            report.resumed += 1
            return
        start = saved["key"] if saved is not None else None
        while True:
            request: dict[str, Any] = {
                "TableName": table,
                "Segment": number,
                "TotalSegments": total,
                "Limit": page_size,
                "ConsistentRead": True,
            }
            if start is not None:
                request["ExclusiveStartKey"] = start
            page = await self.db.transport.call("Scan", request)
            items = page.get("Items", [])
            uow = self.db.unit_of_work()
            written = 0
            for item in items:
                written += await handle(item, uow)
            await uow.commit()
            start = page.get("LastEvaluatedKey")
            # Only after the page's writes landed: a crash before this repeats the page.
            await self._history.save_checkpoint(checkpoint, start)
            report.scanned += len(items)
            report.written += written
            if self._progress is not None:
                self._progress(report.scanned)
            if start is None:
                return
