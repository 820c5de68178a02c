"""Review findings on schema updates, dry runs and migrations: each test shows one bug.

Every test is ``xfail(strict=True)``: it fails today for the reason given, and will
pass (so, fail the suite as XPASS) once the bug is fixed.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import anyio
import attrs
import pytest
from _migrations_helpers import drop_test_tables, unique

from dynamorm_async import Mapper, TableOptions
from dynamorm_async.cli._main import main
from dynamorm_async.db import Schema
from dynamorm_async.errors import ConditionFailed, MigrationError
from dynamorm_async.migrations import Migration, MigrationContext, Migrator
from dynamorm_async.migrations._history import History


@attrs.define
class Item:
    id: str
    value: int = 0


@attrs.define
class Account:
    id: str
    balance: int = 0
    version: int = 0


items = Mapper(Item, table="items", partition_key="id")
plain = Mapper(Item, table="plain", partition_key="id")
accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")
tagged = Mapper(Item, table="tagged", partition_key="id", options=TableOptions(tags={"team": "a"}))
tagged_more = Mapper(
    Item,
    table="tagged",
    partition_key="id",
    options=TableOptions(stream="NEW_IMAGE", tags={"team": "a", "cost": "b"}),
)


@pytest.fixture
def dynamorm_mappers():
    return [items]


@pytest.fixture(autouse=True)
def _no_bytecode(monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


@pytest.fixture
async def db(dynamorm_db):
    """The test's database; every other table of its prefix is deleted afterwards."""
    yield dynamorm_db
    await drop_test_tables(dynamorm_db, keep={dynamorm_db.table_name(items)})


@pytest.fixture
def history_table() -> str:
    return unique("history")


async def fill(db, objects: list[Item]) -> None:
    async with db.unit_of_work() as uow:
        for obj in objects:
            uow.put(obj, mapper=items)


async def scan(db, table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = await db.transport.call("Scan", request)
        found += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return found
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def counting(log: list[str], version: str) -> Migration:
    async def up(ctx: MigrationContext) -> None:
        log.append(version)

    return Migration(version, up, description=f"migration {version}")


# --- 1. up() decides what to run before it takes the lock ------------------------------


async def test_a_run_that_finishes_between_status_and_lock_is_not_applied_twice(
    db, history_table, monkeypatch
):
    log: list[str] = []
    migration = counting(log, "1")
    first = Migrator(db, [migration], table=history_table, owner="first")
    second = Migrator(db, [migration], table=history_table, owner="second")
    original = History.acquire
    raced = False

    async def acquire(self: History, owner: str) -> None:
        nonlocal raced
        if owner == "second" and not raced:
            raced = True
            # Another process runs and finishes while `second` is between its status
            # read and its lock: the lock is free again when `second` takes it.
            await first.up()
        await original(self, owner)

    monkeypatch.setattr(History, "acquire", acquire)
    await second.up()

    assert log == ["1"]  # today: ["1", "1"]


# --- 2. the history table is created before the lock is taken --------------------------


async def test_two_first_runs_race_on_creating_the_history_table(db, history_table, monkeypatch):
    log: list[str] = []
    migration = counting(log, "1")
    original = Schema.apply
    arrived = 0
    both = anyio.Event()

    async def apply(self: Schema, mapper: Mapper[Any], calls: Any, *, wait: bool = True) -> None:
        nonlocal arrived
        calls = list(calls)
        if calls and calls[0].operation == "CreateTable" and mapper.table == history_table:
            arrived += 1  # both runs found no history table: hold them until both did
            if arrived == 2:
                both.set()
            with anyio.fail_after(10):
                await both.wait()
        await original(self, mapper, calls, wait=wait)

    monkeypatch.setattr(Schema, "apply", apply)
    errors: list[BaseException] = []

    async def run(owner: str) -> None:
        try:
            await Migrator(db, [migration], table=history_table, owner=owner).up()
        except Exception as exc:
            errors.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(run, "a")
        group.start_soon(run, "b")

    assert log == ["1"]
    # The only acceptable failure of the loser is "locked" (or nothing at all).
    assert all(isinstance(e, MigrationError) and "locked" in str(e) for e in errors), errors


# --- 3. copy_table into a versioned target cannot repeat a page -------------------------


async def test_copy_into_a_versioned_table_resumes_after_a_crash_before_the_checkpoint(
    db, history_table, monkeypatch
):
    await fill(db, [Item(f"i{n}", n) for n in range(5)])
    crash = True
    original = History.save_checkpoint

    async def save_checkpoint(self: History, name: str, key: Any) -> None:
        if crash:  # the page was written; the process dies before its position is saved
            raise RuntimeError("killed after the commit")
        await original(self, name, key)

    monkeypatch.setattr(History, "save_checkpoint", save_checkpoint)

    async def up(ctx: MigrationContext) -> None:
        await ctx.schema.ensure(accounts)
        await ctx.copy_table(
            items, accounts, lambda i: Account(i.id, i.value), segments=1, page_size=10
        )

    migrator = Migrator(db, [Migration("1", up)], table=history_table)
    with pytest.raises(MigrationError, match="killed after the commit"):
        await migrator.up()
    assert len(await scan(db, db.table_name(accounts))) == 5  # the page landed

    crash = False
    try:
        await migrator.up()
    except MigrationError as exc:  # today: every repeated put fails its version condition
        failures = getattr(exc.__cause__, "failures", ())
        assert failures
        assert all(isinstance(f.error, ConditionFailed) for f in failures)
        raise  # the reason of the xfail; any other error fails the test

    stored = {i["id"]["S"]: int(i["balance"]["N"]) for i in await scan(db, db.table_name(accounts))}
    assert stored == {f"i{n}": n for n in range(5)}


# --- 4. update(wait=False) sends the next change while the table is updating -----------


@pytest.mark.not_on_dynamodb_local("UpdateTable with TableClass is 'Nothing to update'")
async def test_update_without_wait_still_waits_between_changes(db, monkeypatch):
    await db.schema.create(plain)
    events: list[str] = []
    send = db.transport.call

    async def call(operation: str, request: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if not operation.startswith(("Describe", "List")):
            events.append(operation)
        return await send(operation, request, **kwargs)

    original_wait = Schema.wait_until_active

    async def wait_until_active(self: Schema, mapper: Mapper[Any], **kwargs: Any) -> None:
        events.append("wait")
        await original_wait(self, mapper, **kwargs)

    monkeypatch.setattr(db.transport, "call", call)
    monkeypatch.setattr(Schema, "wait_until_active", wait_until_active)
    options = TableOptions(stream="NEW_IMAGE", table_class="STANDARD_INFREQUENT_ACCESS")

    applied = await db.schema.update(plain, options=options, wait=False)

    assert {c.kind for c in applied.changes} == {"stream", "table_class"}
    updates = [n for n, e in enumerate(events) if e == "UpdateTable"]
    assert len(updates) == 2
    assert "wait" in events[updates[0] : updates[1]], events  # today: no wait in between


# --- 5. a dry run hands out the real client --------------------------------------------


async def test_a_dry_run_migration_using_ctx_db_client_writes_nothing(db, history_table):
    await fill(db, [Item("a", 1)])
    table = db.table_name(items)

    async def up(ctx: MigrationContext) -> None:
        assert ctx.dry_run
        with contextlib.suppress(Exception):  # refusing the call is an acceptable fix
            await ctx.db.client.update_item(
                TableName=table,
                Key={"id": {"S": "a"}},
                UpdateExpression="SET #v = :v",
                ExpressionAttributeNames={"#v": "value"},
                ExpressionAttributeValues={":v": {"N": "99"}},
            )

    migrator = Migrator(db, [Migration("1", up)], table=history_table)
    with contextlib.suppress(MigrationError):
        await migrator.up(dry_run=True)

    assert await db.repository(items).get("a") == Item("a", 1)  # today: Item("a", 99)


# --- 6. the dry run's tag simulation forgets live tags ---------------------------------


@pytest.mark.not_on_dynamodb_local("no tagging (ListTagsOfResource is unknown)")
async def test_tags_of_an_existing_table_survive_an_update_in_a_dry_run(db):
    await db.schema.create(tagged)
    view = db.dry_run()

    applied = await view.schema.update(tagged_more)
    assert [c.kind for c in applied.changes] == ["stream", "tags"]

    diff = await view.schema.diff(tagged_more)
    assert not diff, str(diff)  # today: "tags: (none) -> {"team": "a"}"


# --- 7. CLI exit codes ------------------------------------------------------------------


def test_cli_error_outside_dynamorm_errors_exits_2(tmp_path, capsys):
    not_a_folder = tmp_path / "migrations"
    not_a_folder.write_text("")
    code = main(["migrate", "new", "first", "--migrations", str(not_a_folder / "sub")])
    assert code == 2
