"""`Migrator` against the embedded server: status, up, down, history, lock, dry runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Callable
from typing import Any

import anyio
import attrs
import pytest
from _migrations_helpers import drop_test_tables, unique

from dynamorm_async import GlobalIndex, Mapper
from dynamorm_async.cli._scaffold import migration_source
from dynamorm_async.errors import MigrationError, TableNotFound
from dynamorm_async.migrations import (
    HistoryRecord,
    LockRecord,
    Migration,
    MigrationContext,
    MigrationRun,
    Migrator,
)


@attrs.define
class Widget:
    id: str
    color: str = "red"
    size: int = 0


widgets = Mapper(Widget, table="widgets", partition_key="id")
widgets_by_color = Mapper(
    Widget,
    table="widgets",
    partition_key="id",
    indexes=[GlobalIndex("by-color", partition_key="color")],
)


@pytest.fixture
def dynamorm_mappers():
    return []


@pytest.fixture(autouse=True)
def _no_bytecode(monkeypatch):
    # Migration files are edited within one second: a cached .pyc could shadow the edit.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


@pytest.fixture
async def db(dynamorm_db):
    """The test's database; every table of its prefix is deleted afterwards."""
    yield dynamorm_db
    await drop_test_tables(dynamorm_db)


@pytest.fixture
def history_table() -> str:
    return unique("history")


def step(log: list[tuple[str, str]], version: str, direction: str = "up", **kwargs: Any):
    """A migration step that records its run in `log`; `fail()` true makes it raise."""
    fail: Callable[[], bool] | None = kwargs.get("fail")
    sleep: float = kwargs.get("sleep", 0.0)

    async def run(ctx: MigrationContext) -> None:
        assert isinstance(ctx, MigrationContext)
        assert ctx.migration.version == version
        if sleep:
            await anyio.sleep(sleep)
        if fail is not None and fail():
            raise ValueError(f"boom in {version}")
        log.append((direction, version))

    return run


def recording(
    log: list[tuple[str, str]], version: str, *, reversible: bool = True, **kwargs: Any
) -> Migration:
    return Migration(
        version,
        step(log, version, "up", **kwargs),
        step(log, version, "down") if reversible else None,
        description=f"migration {version}",
        checksum=kwargs.get("checksum", f"sum-{version}"),
    )


async def states(migrator: Migrator) -> dict[str, str]:
    return {s.version: s.state for s in await migrator.status()}


async def history_items(db, migrator: Migrator) -> dict[str, dict[str, Any]] | None:
    """The raw items of the history table by version; ``None`` if it does not exist."""
    items: dict[str, dict[str, Any]] = {}
    request: dict[str, Any] = {"TableName": migrator.history.table, "ConsistentRead": True}
    try:
        while True:
            page = await db.transport.call("Scan", request)
            items.update({i["version"]["S"]: i for i in page.get("Items", ())})
            if "LastEvaluatedKey" not in page:
                return items
            request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}
    except TableNotFound:
        return None


def recorded_states(items: dict[str, dict[str, Any]] | None) -> dict[str, str]:
    assert items is not None
    return {v: i["status"]["S"] for v, i in items.items() if not v.startswith("#")}


async def table_names(db) -> list[str]:
    return sorted((await db.client.list_tables(Limit=100))["TableNames"])


async def describe_or_none(db, mapper: Mapper[Any]) -> dict[str, Any] | None:
    try:
        return await db.schema.describe(mapper)
    except TableNotFound:
        return None


# --- status -------------------------------------------------------------------------


async def test_status_of_a_fresh_database(db, history_table):
    log: list[tuple[str, str]] = []
    migrator = Migrator(
        db, [recording(log, v) for v in ("3", "1", "2")], table=history_table, owner="me"
    )
    statuses = await migrator.status()
    assert [(s.version, s.state, s.description, s.record) for s in statuses] == [
        ("1", "pending", "migration 1", None),
        ("2", "pending", "migration 2", None),
        ("3", "pending", "migration 3", None),
    ]
    assert "pending" in str(statuses[0])
    # status() only reads: the history table is not created by it.
    assert await history_items(db, migrator) is None
    assert not await db.schema.exists(migrator.history.records_mapper)
    assert await migrator.lock() is None
    assert await migrator.break_lock() is None
    assert log == []


async def test_migrator_rejects_a_bad_owner(db):
    with pytest.raises(MigrationError, match="owner"):
        Migrator(db, [], owner="")


async def test_no_migrations_up_and_down_do_nothing(db, history_table):
    migrator = Migrator(db, [], table=history_table)
    assert await migrator.status() == []
    assert await migrator.up() == []
    assert await migrator.down(None) == []
    assert await history_items(db, migrator) is None


# --- up -----------------------------------------------------------------------------


async def test_up_applies_in_version_order_and_records_history(db, history_table):
    log: list[tuple[str, str]] = []
    migrations = [
        recording(log, "10"),
        recording(log, "2", sleep=0.06),
        recording(log, "1"),
    ]
    migrator = Migrator(db, migrations, table=history_table, owner="tester@box:1")
    before = dt.datetime.now(dt.timezone.utc)

    runs = await migrator.up()

    after = dt.datetime.now(dt.timezone.utc)
    assert log == [("up", "1"), ("up", "2"), ("up", "10")]
    assert [(r.version, r.direction, r.calls) for r in runs] == [
        ("1", "up", ()),
        ("2", "up", ()),
        ("10", "up", ()),
    ]
    assert all(isinstance(r, MigrationRun) for r in runs)
    assert runs[1].duration_ms >= 50

    records = await migrator.history.records()
    assert sorted(records) == ["1", "10", "2"]
    for version, record in records.items():
        assert isinstance(record, HistoryRecord)
        assert record.version == version
        assert record.status == "applied"
        assert record.checksum == f"sum-{version}"
        assert record.description == f"migration {version}"
        assert record.owner == "tester@box:1"
        assert record.error is None
        assert record.applied_at is not None
        assert before - dt.timedelta(seconds=1) <= record.applied_at <= after
        assert record.duration_ms >= 0
    assert records["2"].duration_ms >= 50
    assert records["2"].duration_ms == runs[1].duration_ms
    assert records["1"].applied_at <= records["2"].applied_at <= records["10"].applied_at

    statuses = await migrator.status()
    assert [(s.version, s.state) for s in statuses] == [
        ("1", "applied"),
        ("2", "applied"),
        ("10", "applied"),
    ]
    assert statuses[0].record == records["1"]
    assert recorded_states(await history_items(db, migrator)) == {
        "1": "applied",
        "2": "applied",
        "10": "applied",
    }
    assert await migrator.lock() is None

    # A second up is a no-op.
    assert await migrator.up() == []
    assert len(log) == 3
    assert await migrator.history.records() == records


async def test_up_records_the_checksum_of_discovered_files(db, history_table, tmp_path):
    source = (
        "from dynamorm_async.migrations import Migration\n\n"
        "async def up(ctx):\n    pass\n\n"
        "migration = Migration('0001', up, description='from a file')\n"
    )
    (tmp_path / "0001_file.py").write_bytes(source.replace("\n", "\r\n").encode())
    migrator = Migrator(db, tmp_path, table=history_table)
    await migrator.up()
    [record] = (await migrator.history.records()).values()
    assert record.checksum == hashlib.sha256(source.encode()).hexdigest()
    assert record.description == "from a file"
    assert record.owner == migrator.owner
    assert "@" in migrator.owner


async def test_up_to_a_target_stops_there(db, history_table):
    log: list[tuple[str, str]] = []
    migrator = Migrator(db, [recording(log, v) for v in ("1", "2", "10")], table=history_table)
    runs = await migrator.up("2")
    assert [r.version for r in runs] == ["1", "2"]
    assert log == [("up", "1"), ("up", "2")]
    assert await states(migrator) == {"1": "applied", "2": "applied", "10": "pending"}
    assert recorded_states(await history_items(db, migrator)) == {"1": "applied", "2": "applied"}

    assert await migrator.up("1") == []  # already there
    assert [r.version for r in await migrator.up()] == ["10"]
    assert log[-1] == ("up", "10")


async def test_up_to_an_unknown_target_raises_before_anything_runs(db, history_table):
    log: list[tuple[str, str]] = []
    migrator = Migrator(db, [recording(log, v) for v in ("1", "2")], table=history_table)
    with pytest.raises(MigrationError, match="'3'") as info:
        await migrator.up("3")
    assert info.value.version == "3"
    assert log == []
    assert await history_items(db, migrator) is None
    assert await migrator.lock() is None


async def test_a_failing_up_is_recorded_and_retried_once_fixed(db, history_table):
    log: list[tuple[str, str]] = []
    broken = True
    migrator = Migrator(
        db,
        [
            recording(log, "1"),
            recording(log, "2", fail=lambda: broken),
            recording(log, "3"),
        ],
        table=history_table,
        owner="runner",
    )

    with pytest.raises(MigrationError) as info:
        await migrator.up()

    error = info.value
    assert error.version == "2"
    assert "'2'" in str(error)
    assert "boom in 2" in str(error)
    assert isinstance(error.__cause__, ValueError)
    assert str(error.__cause__) == "boom in 2"
    assert log == [("up", "1")]
    records = await migrator.history.records()
    assert records["1"].status == "applied"
    failed = records["2"]
    assert failed.status == "failed"
    assert failed.error == "ValueError: boom in 2"
    assert failed.owner == "runner"
    assert failed.checksum == "sum-2"
    assert failed.applied_at is not None
    assert "3" not in records
    assert await states(migrator) == {"1": "applied", "2": "failed", "3": "pending"}
    assert await migrator.lock() is None  # released

    # Still broken: it fails again, nothing after it runs.
    with pytest.raises(MigrationError, match="boom in 2"):
        await migrator.up()
    assert log == [("up", "1")]

    broken = False
    runs = await migrator.up()
    assert [r.version for r in runs] == ["2", "3"]
    assert log == [("up", "1"), ("up", "2"), ("up", "3")]
    records = await migrator.history.records()
    assert {v: r.status for v, r in records.items()} == {
        "1": "applied",
        "2": "applied",
        "3": "applied",
    }
    assert records["2"].error is None
    assert await migrator.lock() is None


# --- down ---------------------------------------------------------------------------


async def test_down_reverts_newest_first(db, history_table):
    log: list[tuple[str, str]] = []
    migrator = Migrator(
        db, [recording(log, v) for v in ("1", "2", "10")], table=history_table, owner="o"
    )
    await migrator.up()
    log.clear()

    runs = await migrator.down("1")

    assert [(r.version, r.direction) for r in runs] == [("10", "down"), ("2", "down")]
    assert log == [("down", "10"), ("down", "2")]
    records = await migrator.history.records()
    assert {v: r.status for v, r in records.items()} == {
        "1": "applied",
        "2": "rolled_back",
        "10": "rolled_back",
    }
    assert records["10"].owner == "o"
    assert records["10"].error is None
    assert await states(migrator) == {"1": "applied", "2": "pending", "10": "pending"}
    assert recorded_states(await history_items(db, migrator)) == {
        "1": "applied",
        "2": "rolled_back",
        "10": "rolled_back",
    }
    assert await migrator.lock() is None
    assert await migrator.down("1") == []  # nothing above 1 is applied

    # Rolled back migrations are pending: up applies them again.
    log.clear()
    assert [r.version for r in await migrator.up()] == ["2", "10"]
    assert log == [("up", "2"), ("up", "10")]

    # down(None) reverts everything.
    log.clear()
    runs = await migrator.down(None)
    assert [r.version for r in runs] == ["10", "2", "1"]
    assert log == [("down", "10"), ("down", "2"), ("down", "1")]
    assert set((await states(migrator)).values()) == {"pending"}
    assert set(recorded_states(await history_items(db, migrator)).values()) == {"rolled_back"}


async def test_down_without_a_down_function_raises_before_anything_runs(db, history_table):
    log: list[tuple[str, str]] = []
    migrator = Migrator(
        db,
        [recording(log, "1"), recording(log, "2", reversible=False), recording(log, "3")],
        table=history_table,
    )
    await migrator.up()
    log.clear()

    with pytest.raises(MigrationError, match="'2' has no down") as info:
        await migrator.down(None)
    assert info.value.version == "2"
    assert log == []  # not even 3 was reverted
    assert await states(migrator) == {"1": "applied", "2": "applied", "3": "applied"}
    assert await migrator.lock() is None

    # Reverting above 2 needs only 3's down.
    assert [r.version for r in await migrator.down("2")] == ["3"]
    assert log == [("down", "3")]


async def test_down_to_an_unknown_target_raises(db, history_table):
    log: list[tuple[str, str]] = []
    migrator = Migrator(db, [recording(log, "1")], table=history_table)
    await migrator.up()
    with pytest.raises(MigrationError, match="'7'"):
        await migrator.down("7")
    assert log == [("up", "1")]


async def test_a_failing_down_leaves_the_migration_applied(db, history_table):
    async def up(ctx):
        pass

    async def down(ctx):
        raise RuntimeError("cannot undo")

    migrator = Migrator(db, [Migration("1", up, down)], table=history_table)
    await migrator.up()
    with pytest.raises(MigrationError, match="cannot undo") as info:
        await migrator.down(None)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert await states(migrator) == {"1": "applied"}
    assert await migrator.lock() is None


# --- changed and missing migrations -------------------------------------------------


def file_migration(version: str, comment: str = "") -> str:
    return (
        "from dynamorm_async.migrations import Migration\n\n"
        f"LOG = []\n\n"
        "async def up(ctx):\n    LOG.append('up')\n\n"
        "async def down(ctx):\n    LOG.append('down')\n\n"
        f"migration = Migration({version!r}, up, down, description='file {version}')\n"
        f"{comment}"
    )


async def test_changed_and_missing_migrations(db, history_table, tmp_path):
    first = tmp_path / "0001_first.py"
    second = tmp_path / "0002_second.py"
    first.write_text(file_migration("0001"))
    second.write_text(file_migration("0002"))
    migrator = Migrator(db, tmp_path, table=history_table)
    await migrator.up()
    records = await migrator.history.records()
    assert records["0001"].checksum == hashlib.sha256(first.read_bytes()).hexdigest()

    # Edit an applied migration, add a new one.
    first.write_text(file_migration("0001", comment="# edited afterwards\n"))
    (tmp_path / "0003_third.py").write_text(file_migration("0003"))
    migrator = Migrator(db, tmp_path, table=history_table)
    assert await states(migrator) == {"0001": "changed", "0002": "applied", "0003": "pending"}

    with pytest.raises(MigrationError, match="0001") as info:
        await migrator.up()
    assert "allow_changed" in str(info.value)
    assert info.value.version == "0001"
    assert "0003" not in await migrator.history.records()
    assert await migrator.lock() is None

    runs = await migrator.up(allow_changed=True)
    assert [r.version for r in runs] == ["0003"]  # the changed one is not run again
    third = migrator.migrations[2]
    assert third.version == "0003"
    assert sys.modules[third.up.__module__].LOG == ["up"]
    assert await states(migrator) == {"0001": "changed", "0002": "applied", "0003": "applied"}

    # Restore the file: applied again.
    first.write_text(file_migration("0001"))
    migrator = Migrator(db, tmp_path, table=history_table)
    assert (await states(migrator))["0001"] == "applied"

    # A recorded migration whose file was deleted is missing.
    second.unlink()
    migrator = Migrator(db, tmp_path, table=history_table)
    statuses = {s.version: s for s in await migrator.status()}
    assert [(v, s.state) for v, s in statuses.items()] == [
        ("0001", "applied"),
        ("0002", "missing"),
        ("0003", "applied"),
    ]
    assert statuses["0002"].description == "file 0002"  # from the record
    assert statuses["0002"].record is not None
    assert statuses["0002"].record.status == "applied"
    # It cannot be reverted.
    with pytest.raises(MigrationError, match=r"'0002'.*missing") as missing:
        await migrator.down(None)
    assert missing.value.version == "0002"
    # up is unaffected by it.
    assert await migrator.up() == []


# --- the lock -----------------------------------------------------------------------


async def test_a_held_lock_stops_up_until_broken(db, history_table):
    log: list[tuple[str, str]] = []
    migrator = Migrator(db, [recording(log, "1")], table=history_table, owner="me@here:1")
    other = Migrator(db, [], table=history_table, owner="other@there:2")
    await other.history.ensure()
    await other.history.acquire("other@there:2")

    held = await migrator.lock()
    assert isinstance(held, LockRecord)
    assert held.owner == "other@there:2"
    assert held.version == "#lock"
    assert abs(held.acquired_at - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)

    with pytest.raises(MigrationError) as info:
        await migrator.up()
    message = str(info.value)
    assert "other@there:2" in message
    assert "break_lock" in message
    assert "dynamorm migrate unlock" in message
    assert log == []
    assert await migrator.history.records() == {}
    # A refused run leaves the other owner's lock alone.
    assert (await migrator.lock()).owner == "other@there:2"

    # A third party is refused the same way (sequential attempts, not a race).
    with pytest.raises(MigrationError, match="other@there:2"):
        await Migrator(db, [], table=history_table).history.acquire("third")

    broken = await migrator.break_lock()
    assert isinstance(broken, LockRecord)
    assert broken.owner == "other@there:2"
    assert broken.acquired_at == held.acquired_at
    assert await migrator.lock() is None
    assert await migrator.break_lock() is None

    assert [r.version for r in await migrator.up()] == ["1"]
    assert log == [("up", "1")]
    assert await migrator.lock() is None


async def test_the_lock_is_held_while_migrations_run(db, history_table):
    seen: list[LockRecord | None] = []

    async def up(ctx):
        seen.append(await migrator.lock())

    migrator = Migrator(db, [Migration("1", up)], table=history_table, owner="runner@x:1")
    await migrator.up()
    assert len(seen) == 1
    assert seen[0] is not None
    assert seen[0].owner == "runner@x:1"
    assert await migrator.lock() is None


async def test_cancelling_a_running_up_releases_the_lock(db, history_table):
    held: list[LockRecord | None] = []
    slow = True

    async def up(ctx):
        if slow:
            held.append(await migrator.lock())
            scope.cancel()  # as a timeout would, while the migration runs
            await anyio.sleep(60)

    migrator = Migrator(db, [Migration("1", up)], table=history_table, owner="cancelled")

    with anyio.move_on_after(30) as scope:
        await migrator.up()

    assert scope.cancelled_caught
    assert len(held) == 1
    assert held[0] is not None
    assert held[0].owner == "cancelled"
    assert await migrator.lock() is None
    assert await states(migrator) == {"1": "pending"}  # not recorded as applied

    slow = False
    assert [r.version for r in await migrator.up()] == ["1"]
    assert await states(migrator) == {"1": "applied"}


# --- dry runs -----------------------------------------------------------------------


def schema_migrations(log: list[str]) -> list[Migration]:
    """1 creates widgets, 2 indexes them by color, 3 backfills them and adds one."""

    async def create(ctx):
        log.append("create")
        await ctx.schema.create(widgets)

    async def delete(ctx):
        log.append("delete")
        await ctx.schema.delete(widgets)

    async def add_index(ctx):
        log.append("add_index")
        await ctx.schema.add_index(widgets_by_color, "by-color")

    async def drop_index(ctx):
        log.append("drop_index")
        await ctx.schema.drop_index(widgets_by_color, "by-color")

    def grow(widget: Widget) -> Widget:
        widget.size += 1
        return widget

    async def backfill(ctx):
        log.append("backfill")
        report = await ctx.backfill(widgets, grow, segments=2, page_size=10)
        log.append(f"scanned {report.scanned}")
        await ctx.repository(widgets).put(Widget("added", "green"))

    async def unfill(ctx):
        log.append("unfill")
        await ctx.repository(widgets).delete("added")

    return [
        Migration("1", create, delete, description="create widgets"),
        Migration("2", add_index, drop_index, description="index widgets by color"),
        Migration("3", backfill, unfill, description="backfill widgets"),
    ]


async def test_dry_run_up_on_a_fresh_database_changes_nothing(db, history_table):
    log: list[str] = []
    migrator = Migrator(db, schema_migrations(log), table=history_table)
    tables_before = await table_names(db)
    name = db.table_name(widgets)

    runs = await migrator.up(dry_run=True)

    # Every migration ran, the later ones against the table the first would create.
    assert log == ["create", "add_index", "backfill", "scanned 0"]
    assert [(r.version, r.direction) for r in runs] == [("1", "up"), ("2", "up"), ("3", "up")]
    schema_calls = [
        (op, request)
        for run in runs
        for op, request in run.calls
        if op in ("CreateTable", "UpdateTable", "DeleteTable")
    ]
    assert schema_calls == [
        (
            "CreateTable",
            {
                "TableName": name,
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        ),
        (
            "UpdateTable",
            {
                "TableName": name,
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "color", "AttributeType": "S"},
                ],
                "GlobalSecondaryIndexUpdates": [
                    {
                        "Create": {
                            "IndexName": "by-color",
                            "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    }
                ],
            },
        ),
    ]
    # The history table's bookkeeping (records, lock, checkpoints) is not listed.
    assert [op for op, _ in runs[0].calls] == ["CreateTable"]
    assert [op for op, _ in runs[1].calls] == ["UpdateTable"]
    # The backfill's table is empty (it would be new): only the added item is written.
    assert runs[2].calls == (
        (
            "PutItem",
            {
                "TableName": name,
                "Item": {"id": {"S": "added"}, "color": {"S": "green"}, "size": {"N": "0"}},
            },
        ),
    )

    # Nothing changed.
    assert await table_names(db) == tables_before
    assert await describe_or_none(db, widgets) is None
    assert await history_items(db, migrator) is None
    assert await migrator.lock() is None
    assert set((await states(migrator)).values()) == {"pending"}


async def test_dry_run_up_and_down_on_existing_tables(db, history_table):
    log: list[str] = []
    migrator = Migrator(db, schema_migrations(log), table=history_table)
    await migrator.up("1")
    await db.repository(widgets).put(Widget("w1", "blue", 1))
    await db.repository(widgets).put(Widget("w2", "red", 2))
    log.clear()
    described = await db.schema.describe(widgets)
    history = await history_items(db, migrator)
    tables = await table_names(db)

    runs = await migrator.up(dry_run=True)

    assert log == ["add_index", "backfill", "scanned 2"]
    assert [r.version for r in runs] == ["2", "3"]
    assert runs[0].calls[0][0] == "UpdateTable"
    assert runs[0].calls[0][1]["GlobalSecondaryIndexUpdates"][0]["Create"]["IndexName"] == (
        "by-color"
    )
    batches = [r for op, r in runs[1].calls if op == "BatchWriteItem"]
    assert batches
    puts = [
        entry["PutRequest"]["Item"]
        for batch in batches
        for entry in batch["RequestItems"][db.table_name(widgets)]
    ]
    assert sorted((p["id"]["S"], p["size"]["N"]) for p in puts) == [("w1", "2"), ("w2", "3")]
    assert await db.schema.describe(widgets) == described
    assert await history_items(db, migrator) == history
    assert await table_names(db) == tables
    assert sorted((w.id, w.size) for w in await db.repository(widgets).scan().all()) == [
        ("w1", 1),
        ("w2", 2),
    ]

    # Apply for real, then dry-run the way down.
    await migrator.up()
    log.clear()
    described = await db.schema.describe(widgets)
    history = await history_items(db, migrator)
    assert recorded_states(history) == {"1": "applied", "2": "applied", "3": "applied"}

    runs = await migrator.down(None, dry_run=True)

    assert log == ["unfill", "drop_index", "delete"]
    assert [(r.version, r.direction) for r in runs] == [("3", "down"), ("2", "down"), ("1", "down")]
    name = db.table_name(widgets)
    assert runs[0].calls[0] == ("DeleteItem", runs[0].calls[0][1])
    assert runs[1].calls[0] == (
        "UpdateTable",
        {"TableName": name, "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by-color"}}]},
    )
    assert runs[2].calls[0] == ("DeleteTable", {"TableName": name})
    for run in runs:
        assert len(run.calls) == 1
    assert await db.schema.describe(widgets) == described
    assert await history_items(db, migrator) == history
    assert await migrator.lock() is None


async def test_a_failing_dry_run_raises_and_changes_nothing(db, history_table):
    log: list[tuple[str, str]] = []

    async def create_then_fail(ctx):
        await ctx.schema.create(widgets)
        raise LookupError("no such thing")

    migrator = Migrator(
        db,
        [recording(log, "1"), Migration("2", create_then_fail), recording(log, "3")],
        table=history_table,
    )
    with pytest.raises(MigrationError, match="no such thing") as info:
        await migrator.up(dry_run=True)
    assert info.value.version == "2"
    assert isinstance(info.value.__cause__, LookupError)
    assert log == [("up", "1")]
    assert await history_items(db, migrator) is None
    assert await describe_or_none(db, widgets) is None
    assert await migrator.lock() is None
    assert set((await states(migrator)).values()) == {"pending"}


# --- the acceptance scenario ----------------------------------------------------------


_MODELS = """
import attrs

from dynamorm_async import GlobalIndex, Mapper

from _migrations_helpers import drop_test_tables, unique

@attrs.define
class Gadget:
    id: str
    color: str = "red"


gadgets = Mapper(Gadget, table="gadgets", partition_key="id")
gadgets_v2 = Mapper(
    Gadget,
    table="gadgets",
    partition_key="id",
    indexes=[GlobalIndex("by-color", partition_key="color")],
)
"""


@pytest.fixture
def folder(tmp_path):
    """An empty migrations folder."""
    path = tmp_path / "migrations"
    path.mkdir()
    return path


@pytest.fixture
def models(tmp_path, monkeypatch):
    """A module of mappers on sys.path, as an application's would be."""
    name = unique("acceptance_models").replace("-", "_")
    root = tmp_path / "app"
    root.mkdir()
    (root / f"{name}.py").write_text(_MODELS)
    monkeypatch.syspath_prepend(str(root))
    module = __import__(name)
    yield module
    sys.modules.pop(name, None)


async def test_acceptance_create_then_index_then_revert(db, history_table, folder, models):
    name = models.__name__
    table = db.table_name(models.gadgets)

    async def history_states(migrator):
        return recorded_states(await history_items(db, migrator))

    # 1. The table, from a migration generated from the diff of a missing table.
    diff = await db.schema.diff(models.gadgets)
    assert [c.kind for c in diff.changes] == ["create_table"]
    (folder / "0001_create_gadgets.py").write_text(
        migration_source("0001", "create gadgets", diff.changes, mapper=(name, "gadgets"))
    )
    migrator = Migrator(db, folder, table=history_table)
    assert await states(migrator) == {"0001": "pending"}
    runs = await migrator.up(dry_run=True)
    assert [op for op, _ in runs[0].calls] == ["CreateTable"]
    assert await describe_or_none(db, models.gadgets) is None
    await migrator.up()
    assert not await db.schema.diff(models.gadgets)
    assert await states(migrator) == {"0001": "applied"}
    assert await history_states(migrator) == {"0001": "applied"}

    # 2. The model gains a global index: one safe change.
    diff = await db.schema.diff(models.gadgets_v2)
    assert [(c.kind, c.severity, c.subject) for c in diff.changes] == [
        ("add_index", "safe", "index by-color")
    ]
    source = migration_source(
        "0002", "index gadgets by color", diff.changes, mapper=(name, "gadgets_v2")
    )
    assert 'add_index(gadgets_v2, "by-color")' in source
    assert 'drop_index(gadgets_v2, "by-color")' in source
    (folder / "0002_index_gadgets_by_color.py").write_text(source)
    migrator = Migrator(db, folder, table=history_table)
    assert await states(migrator) == {"0001": "applied", "0002": "pending"}
    assert migrator.migrations[1].description == "index gadgets by color"

    described = await db.schema.describe(models.gadgets)
    runs = await migrator.up(dry_run=True)
    assert [r.version for r in runs] == ["0002"]
    assert runs[0].calls[0] == ("UpdateTable", dict(diff.changes[0].calls[0].request))
    assert await db.schema.describe(models.gadgets) == described
    assert await history_states(migrator) == {"0001": "applied"}

    runs = await migrator.up()
    assert [r.version for r in runs] == ["0002"]
    assert not await db.schema.diff(models.gadgets_v2)
    live = await db.schema.describe(models.gadgets)
    assert [i["IndexName"] for i in live["GlobalSecondaryIndexes"]] == ["by-color"]
    assert await states(migrator) == {"0001": "applied", "0002": "applied"}
    assert await history_states(migrator) == {"0001": "applied", "0002": "applied"}
    records = await migrator.history.records()
    assert (
        records["0002"].checksum
        == hashlib.sha256((folder / "0002_index_gadgets_by_color.py").read_bytes()).hexdigest()
    )

    # 3. Down removes it: the diff shows the index to add again.
    described = await db.schema.describe(models.gadgets)
    runs = await migrator.down("0001", dry_run=True)
    assert runs[0].calls[0] == (
        "UpdateTable",
        {
            "TableName": table,
            "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by-color"}}],
        },
    )
    assert await db.schema.describe(models.gadgets) == described
    assert await history_states(migrator) == {"0001": "applied", "0002": "applied"}

    runs = await migrator.down("0001")
    assert [(r.version, r.direction) for r in runs] == [("0002", "down")]
    diff = await db.schema.diff(models.gadgets_v2)
    assert [(c.kind, c.severity) for c in diff.changes] == [("add_index", "safe")]
    assert not await db.schema.diff(models.gadgets)
    assert await states(migrator) == {"0001": "applied", "0002": "pending"}
    assert await history_states(migrator) == {"0001": "applied", "0002": "rolled_back"}
    assert await migrator.lock() is None

    # And up again brings it back.
    await migrator.up()
    assert not await db.schema.diff(models.gadgets_v2)
    assert await history_states(migrator) == {"0001": "applied", "0002": "applied"}


async def test_a_lock_broken_during_the_run_does_not_fail_it(db, history_table):
    log: list[tuple[str, str]] = []

    async def up(ctx):
        # Someone takes the run for crashed and breaks its lock while it runs.
        broken.append(await Migrator(db, [], table=history_table).break_lock())

    broken: list[LockRecord | None] = []
    migrator = Migrator(
        db,
        [Migration("1", up), recording(log, "2")],
        table=history_table,
        owner="slow-run",
    )
    runs = await migrator.up()
    assert [r.version for r in runs] == ["1", "2"]
    assert broken[0] is not None
    assert broken[0].owner == "slow-run"
    assert await states(migrator) == {"1": "applied", "2": "applied"}
    assert await migrator.lock() is None


async def test_release_leaves_a_lock_taken_over_by_another_owner(db, history_table):
    async def up(ctx):
        # The lock is broken and taken by another run before this one ends.
        other = Migrator(db, [], table=history_table, owner="newcomer")
        await other.break_lock()
        await other.history.acquire("newcomer")

    migrator = Migrator(db, [Migration("1", up)], table=history_table, owner="first")
    await migrator.up()
    assert await states(migrator) == {"1": "applied"}
    held = await migrator.lock()
    assert held is not None
    assert held.owner == "newcomer"
