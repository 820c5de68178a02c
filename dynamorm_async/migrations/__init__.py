"""Migrations: versioned changes to tables and data, with a history table (layer 6).

A migration is a `Migration(version, up, down)`; a `Migrator` finds them in a
folder or package, applies the pending ones under a lock, and records each in the
history table (``dynamorm_migrations`` by default). ``dynamorm migrate`` is its
command line.

Example:
    ```python
    from dynamorm_async.migrations import Migrator

    async with Database.connect(...) as db:
        migrator = Migrator(db, "migrations/")
        await migrator.up(dry_run=True)   # what would be sent
        await migrator.up()
    ```
"""

from dynamorm_async.migrations._context import CopyReport, MigrationContext, Progress
from dynamorm_async.migrations._history import DEFAULT_TABLE, HistoryRecord, LockRecord
from dynamorm_async.migrations._migration import Migration, Step, discover, version_order
from dynamorm_async.migrations._runner import MigrationRun, MigrationStatus, Migrator, State

__all__ = [
    "DEFAULT_TABLE",
    "CopyReport",
    "HistoryRecord",
    "LockRecord",
    "Migration",
    "MigrationContext",
    "MigrationRun",
    "MigrationStatus",
    "Migrator",
    "Progress",
    "State",
    "Step",
    "discover",
    "version_order",
]
