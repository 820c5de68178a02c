"""`Migrator`: applies and reverts migrations, recording each in the history table."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Literal

import anyio
import attrs

from dynamorm_async.db import Database
from dynamorm_async.errors import MigrationError
from dynamorm_async.migrations._context import MigrationContext, Progress
from dynamorm_async.migrations._history import (
    DEFAULT_TABLE,
    History,
    HistoryRecord,
    LockRecord,
    check_owner,
    default_owner,
)
from dynamorm_async.migrations._migration import Migration, discover, ordered, version_order

__all__ = ["MigrationRun", "MigrationStatus", "Migrator", "State"]

_log = logging.getLogger("dynamorm_async.migrations")

#: Where a migration stands: ``pending`` (never applied, rolled back, or failed),
#: ``applied``, ``changed`` (applied, but its source was edited since), or
#: ``missing`` (applied, but no longer among the migrations).
State = Literal["pending", "applied", "failed", "changed", "missing"]


@attrs.frozen
class MigrationStatus:
    """One migration as `Migrator.status` sees it.

    Attributes:
        version: the version.
        state: ``pending``, ``applied``, ``failed`` (its last run raised),
            ``changed`` (applied, but its source changed since: checksum mismatch)
            or ``missing`` (recorded as applied, but not found among the migrations).
        description: the migration's description (or the recorded one).
        record: the history table's record, if there is one.
    """

    version: str
    state: State
    description: str
    record: HistoryRecord | None

    def __str__(self) -> str:
        when = ""
        if self.record is not None and self.record.applied_at is not None:
            when = f"  ({self.record.status} {self.record.applied_at:%Y-%m-%d %H:%M:%S} UTC, {self.record.duration_ms} ms)"
        return f"{self.version:<24} {self.state:<8} {self.description}{when}"


@attrs.frozen
class MigrationRun:
    """A migration applied (``up``) or reverted (``down``) by one call.

    Attributes:
        version: the migration's version.
        direction: ``"up"`` or ``"down"``.
        duration_ms: how long it took.
        calls: in a dry run, the ``(operation, request)`` of each call it would send
            (the history table's own records and checkpoints left out); empty
            otherwise.
    """

    version: str
    direction: Literal["up", "down"]
    duration_ms: int
    calls: tuple[tuple[str, dict[str, object]], ...] = ()


class Migrator:
    """Applies migrations to a database and keeps their history.

    Args:
        db: an open `Database`.
        migrations: `Migration` objects, or where to find them: a folder, a package
            name or a module (see `discover`).
        table: the history table's logical name (the database's table-name
            template applies, so each environment has its own).
        owner: who runs the migrations, recorded with the lock and each record
            (default ``user@host:pid``).
        progress: called with the items scanned so far during backfills and copies.

    Example:
        ```python
        migrator = Migrator(db, "migrations/")
        for status in await migrator.status():
            print(status)
        await migrator.up()
        ```
    """

    def __init__(
        self,
        db: Database,
        migrations: Iterable[Migration] | str | Path | ModuleType,
        *,
        table: str = DEFAULT_TABLE,
        owner: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.db = db
        if isinstance(migrations, (str, Path, ModuleType)):
            self.migrations = discover(migrations)
        else:
            self.migrations = ordered(migrations)
        self.table = table
        self.owner = check_owner(owner) if owner is not None else default_owner()
        self.progress = progress
        self.history = History(db, table)

    def _find(self, version: str) -> Migration | None:
        return next((m for m in self.migrations if m.version == version), None)

    async def status(self) -> list[MigrationStatus]:
        """Every migration, in version order, and every recorded one that is missing."""
        return await self._statuses(self.history)

    async def _statuses(self, history: History) -> list[MigrationStatus]:
        records = await history.records()
        statuses = [self._status(m, records.get(m.version)) for m in self.migrations]
        known = {m.version for m in self.migrations}
        statuses += [
            MigrationStatus(version, "missing", record.description, record)
            for version, record in records.items()
            if version not in known and record.status == "applied"
        ]
        statuses.sort(key=lambda s: version_order(s.version))
        return statuses

    @staticmethod
    def _status(migration: Migration, record: HistoryRecord | None) -> MigrationStatus:
        state: State = "pending"
        if record is not None and record.status == "applied":
            changed = migration.checksum is not None and record.checksum not in (
                None,
                migration.checksum,
            )
            state = "changed" if changed else "applied"
        elif record is not None and record.status == "failed":
            state = "failed"
        return MigrationStatus(migration.version, state, migration.description, record)

    async def lock(self) -> LockRecord | None:
        """Who holds the lock, if anyone."""
        return await self.history.lock()

    async def break_lock(self) -> LockRecord | None:
        """Remove a stale lock (its run crashed); returns the lock that was removed."""
        broken = await self.history.break_lock()
        if broken is not None:
            _log.warning(
                "broke the migrations lock held by %s since %s", broken.owner, broken.acquired_at
            )
        return broken

    async def up(
        self, target: str | None = None, *, dry_run: bool = False, allow_changed: bool = False
    ) -> list[MigrationRun]:
        """Apply the pending migrations up to `target` (all by default), in version order.

        Takes the lock first (`MigrationError` if another run holds it) and creates
        the history table on first use. A migration that fails is recorded as
        failed, stops the run, and raises `MigrationError` (the ones before it stay
        applied); fix it and run again. An applied migration whose source changed
        stops the run unless `allow_changed`. With `dry_run`, nothing is changed:
        each run lists the calls it would send (reads are made for real).
        """
        self._check_target(target)

        def plan(statuses: list[MigrationStatus]) -> list[Migration]:
            """The pending migrations up to the target; refuses changed ones."""
            changed = [s.version for s in statuses if s.state == "changed"]
            if changed and not allow_changed:
                raise MigrationError(
                    f"applied migration(s) {', '.join(changed)} changed since they were "
                    "applied (checksum mismatch); restore them, or pass allow_changed=True / "
                    "--allow-changed",
                    version=changed[0],
                )
            states = {s.version: s.state for s in statuses}
            limit = version_order(target) if target is not None else None
            return [
                m
                for m in self.migrations
                if states[m.version] in ("pending", "failed")
                and (limit is None or version_order(m.version) <= limit)
            ]

        return await self._run(plan, "up", dry_run)

    async def down(self, target: str | None, *, dry_run: bool = False) -> list[MigrationRun]:
        """Revert the applied migrations above `target`, newest first (``None``: all).

        Every migration to revert must have a `down`; that is checked before
        anything runs. Reverted migrations are recorded as ``rolled_back`` (and
        are pending again).
        """
        self._check_target(target)

        def plan(statuses: list[MigrationStatus]) -> list[Migration]:
            """The applied migrations above the target, newest first; all revertible."""
            limit = version_order(target) if target is not None else None
            applied = [
                s
                for s in statuses
                if s.state in ("applied", "changed", "missing")
                and (limit is None or version_order(s.version) > limit)
            ]
            todo: list[Migration] = []
            for status in reversed(applied):
                migration = self._find(status.version)
                if migration is None:
                    raise MigrationError(
                        f"migration {status.version!r} is applied but its source is missing: "
                        "it cannot be reverted",
                        version=status.version,
                    )
                if migration.down is None:
                    raise MigrationError(
                        f"migration {migration.version!r} has no down: it cannot be reverted "
                        f"(revert to {migration.version!r} or later)",
                        version=migration.version,
                    )
                todo.append(migration)
            return todo

        return await self._run(plan, "down", dry_run)

    def _check_target(self, target: str | None) -> None:
        if target is not None and self._find(target) is None:
            raise MigrationError(f"no migration has version {target!r}", version=target)

    async def _run(
        self,
        plan: Callable[[list[MigrationStatus]], list[Migration]],
        direction: Literal["up", "down"],
        dry_run: bool,
    ) -> list[MigrationRun]:
        # Planned once without the lock (nothing to do: no lock, no history table),
        # then again under it: another run may have applied migrations in between.
        if not plan(await self.status()):
            return []
        db = self.db.dry_run() if dry_run else self.db
        history = History(db, self.table)
        await history.ensure()
        await history.acquire(self.owner)
        runs: list[MigrationRun] = []
        try:
            for migration in plan(await self._statuses(history)):
                runs.append(await self._one(db, history, migration, direction))
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled run still frees the lock
                await history.release(self.owner)
        return runs

    async def _one(
        self, db: Database, history: History, migration: Migration, direction: Literal["up", "down"]
    ) -> MigrationRun:
        step = migration.up if direction == "up" else migration.down
        assert step is not None  # checked by down()
        context = MigrationContext(db, migration, history, progress=self.progress)
        before = len(getattr(db.transport, "calls", ()))
        _log.info("%s %s: %s", direction, migration.version, migration.description)
        started = time.monotonic()
        record = HistoryRecord(
            migration.version,
            "applied" if direction == "up" else "rolled_back",
            migration.checksum,
            migration.description,
            dt.datetime.now(dt.timezone.utc),
            owner=self.owner,
        )
        try:
            await step(context)
        except Exception as exc:
            if direction == "up":  # a failed down leaves the migration applied, as it was
                record.status = "failed"
                record.duration_ms = round((time.monotonic() - started) * 1000)
                record.error = f"{type(exc).__name__}: {str(exc) or '(no message)'}"[:2000]
                with anyio.CancelScope(shield=True):
                    await history.save(record)
            raise MigrationError(
                f"migration {migration.version!r} failed in {direction}: "
                f"{type(exc).__name__}: {str(exc) or '(no message)'}",
                version=migration.version,
            ) from exc
        record.duration_ms = round((time.monotonic() - started) * 1000)
        await history.save(record)
        await history.forget_checkpoints(migration.version)
        calls = tuple(
            (operation, request)
            for operation, request in getattr(db.transport, "calls", ())[before:]
            if request.get("TableName") != history.table  # the bookkeeping is ours
        )
        return MigrationRun(migration.version, direction, record.duration_ms, calls)
