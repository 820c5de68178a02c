"""`MigrationContext.backfill` and `copy_table` against the embedded server."""

from __future__ import annotations

import collections
import itertools
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import pytest
from _migrations_helpers import drop_test_tables, unique

from dynamorm_async import Mapper
from dynamorm_async.errors import MigrationError, TableNotFound
from dynamorm_async.migrations import (
    CopyReport,
    Migration,
    MigrationContext,
    Migrator,
)
from dynamorm_async.migrations._history import History


@attrs.define
class Item:
    id: str
    value: int = 0
    counter: int = 0
    label: str = ""


items = Mapper(Item, table="items", partition_key="id")
items_copy = Mapper(Item, table="items-copy", partition_key="id")


@attrs.define
class Summary:
    key: str
    doubled: int


summaries = Mapper(Summary, table="summaries", partition_key="key")


@attrs.define
class Account:
    id: str
    balance: int = 0
    version: int = 0


accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")


@pytest.fixture
def dynamorm_mappers():
    return [items]


@pytest.fixture
async def db(dynamorm_db):
    """The test's database; every table of its prefix is deleted afterwards."""
    yield dynamorm_db
    await drop_test_tables(dynamorm_db, keep={dynamorm_db.table_name(items)})


@pytest.fixture
def history_table() -> str:
    return unique("history")


async def fill(db, mapper: Mapper[Any], objects: list[Any]) -> None:
    async with db.unit_of_work() as uow:
        for obj in objects:
            uow.put(obj, mapper=mapper)


async def raw_scan(db, table: str, **extra: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True, **extra}
    while True:
        page = await db.transport.call("Scan", request)
        found += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return found
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


async def raw_items(db, mapper: Mapper[Any]) -> dict[str, dict[str, Any]]:
    """The stored items of a mapper's table, by partition key."""
    key = mapper.stored_name(mapper.key_fields[0])
    return {i[key]["S"]: i for i in await raw_scan(db, db.table_name(mapper))}


async def counters(db) -> dict[str, int]:
    return {k: int(i["counter"]["N"]) for k, i in (await raw_items(db, items)).items()}


async def checkpoints(db, migrator: Migrator) -> list[str]:
    try:
        found = await raw_scan(db, migrator.history.table)
    except TableNotFound:
        return []
    return sorted(i["version"]["S"] for i in found if i["version"]["S"].startswith("#checkpoint#"))


def bump(item: Item) -> Item:
    item.counter += 1
    item.label = "backfilled"
    return item


def backfilling(version: str, fn: Any, reports: list[CopyReport], **kwargs: Any) -> Migration:
    async def up(ctx: MigrationContext) -> None:
        reports.append(await ctx.backfill(items, fn, **kwargs))

    return Migration(version, up, description=f"backfill {version}")


# --- a large backfill -----------------------------------------------------------------


async def test_backfill_of_5000_items(db, history_table):
    total = 5000
    await fill(db, items, [Item(f"i{n:05d}", n) for n in range(total)])
    seen: collections.Counter[str] = collections.Counter()
    progress: list[int] = []

    def fn(item: Item) -> Item:
        seen[item.id] += 1
        return bump(item)

    reports: list[CopyReport] = []
    migrator = Migrator(
        db,
        [backfilling("1", fn, reports, segments=4, page_size=100)],
        table=history_table,
        progress=progress.append,
    )
    [run] = await migrator.up()

    assert run.version == "1"
    assert reports == [CopyReport(scanned=total, written=total, segments=4, resumed=0)]
    assert len(seen) == total
    assert set(seen.values()) == {1}
    stored = await raw_items(db, items)
    assert len(stored) == total
    for key, item in stored.items():
        assert item["counter"] == {"N": "1"}, key
        assert item["label"] == {"S": "backfilled"}
        assert item["value"] == {"N": str(int(key[1:]))}
    # Progress after each page: 50 pages of 100, the total at the end.
    assert progress == sorted(progress)
    assert progress[-1] == total
    assert len(progress) >= total // 100
    # The positions are forgotten once the migration succeeded.
    assert await checkpoints(db, migrator) == []
    assert (await migrator.status())[0].state == "applied"


# --- a crash and a restart --------------------------------------------------------------


async def segments_of(db, mapper: Mapper[Any], total_segments: int) -> dict[str, int]:
    """Which segment of a parallel scan each item is in."""
    found: dict[str, int] = {}
    for segment in range(total_segments):
        for item in await raw_scan(
            db, db.table_name(mapper), Segment=segment, TotalSegments=total_segments
        ):
            found[item["id"]["S"]] = segment
    return found


async def test_a_crashed_backfill_resumes_without_rewriting_finished_pages(db, history_table):
    total, segments, page_size = 1200, 4, 20
    await fill(db, items, [Item(f"i{n:05d}", n) for n in range(total)])
    segment_of = await segments_of(db, items, segments)
    sizes = collections.Counter(segment_of.values())
    assert len(sizes) == segments
    assert all(size > 4 * page_size for size in sizes.values())

    crashing = True
    seen: collections.Counter[int] = collections.Counter()
    first_finished = anyio.Event()

    async def fn(item: Item) -> Item:
        segment = segment_of[item.id]
        if crashing:
            seen[segment] += 1
            if segment == 0 and seen[0] == sizes[0]:
                first_finished.set()
            elif segment != 0 and seen[segment] > sizes[segment] // 2:
                # Segments 1-3 stop half-way, in the middle of a page, until segment 0
                # has finished (written and saved as done); then the run crashes.
                await first_finished.wait()
                await anyio.sleep(0.5)
                raise RuntimeError("killed half-way")
        return bump(item)

    reports: list[CopyReport] = []
    migration = backfilling("1", fn, reports, segments=segments, page_size=page_size)
    migrator = Migrator(db, [migration], table=history_table)

    with pytest.raises(MigrationError, match="killed half-way") as info:
        await migrator.up()

    assert isinstance(info.value.__cause__, RuntimeError)
    assert reports == []
    record = (await migrator.history.records())["1"]
    assert record.status == "failed"
    assert record.error == "RuntimeError: killed half-way"
    assert await migrator.lock() is None
    assert len(await checkpoints(db, migrator)) == segments  # kept for the restart
    after_crash = await counters(db)
    done_before = {k for k, c in after_crash.items() if c == 1}
    assert set(after_crash.values()) == {0, 1}
    # Segment 0 was written entirely, the others in part (whole pages only).
    assert {k for k in done_before if segment_of[k] == 0} == {
        k for k, s in segment_of.items() if s == 0
    }
    for segment in range(1, segments):
        written = sum(1 for k in done_before if segment_of[k] == segment)
        assert 0 < written <= sizes[segment] // 2
        assert written % page_size == 0

    crashing = False
    [run] = await migrator.up()

    assert run.version == "1"
    [report] = reports
    assert report.segments == segments
    assert report.resumed == 1  # segment 0 was finished: skipped
    # The others restarted at their last saved page: nothing written is read again.
    assert report.scanned == total - len(done_before)
    assert report.written == report.scanned
    final = await counters(db)
    assert len(final) == total
    twice = [k for k, c in final.items() if c == 2]
    assert len(twice) <= segments * page_size
    assert twice == []  # the crash was in `fn`, before the page's writes: none repeated
    assert set(final.values()) == {1}
    assert (await migrator.history.records())["1"].status == "applied"
    assert await checkpoints(db, migrator) == []

    # Another migration's backfill (same name) has its own positions: a full pass.
    second: list[CopyReport] = []
    migrator = Migrator(
        db,
        [migration, backfilling("2", bump, second, segments=segments, page_size=100)],
        table=history_table,
    )
    [run] = await migrator.up()
    assert run.version == "2"
    assert second == [CopyReport(scanned=total, written=total, segments=segments, resumed=0)]
    assert set((await counters(db)).values()) == {2}
    assert await checkpoints(db, migrator) == []


async def test_two_backfills_of_one_migration_are_told_apart_by_name(db, history_table):
    await fill(db, items, [Item(f"i{n:03d}", n) for n in range(60)])
    broken = True
    reports: list[CopyReport] = []

    def second_fn(item: Item) -> Item:
        if broken:
            raise ValueError("second backfill fails")
        return bump(item)

    async def up(ctx):
        reports.append(await ctx.backfill(items, bump, segments=2, page_size=10, name="first"))
        reports.append(
            await ctx.backfill(items, second_fn, segments=2, page_size=10, name="second")
        )

    migrator = Migrator(db, [Migration("1", up)], table=history_table)
    with pytest.raises(MigrationError, match="second backfill fails"):
        await migrator.up()
    assert reports == [CopyReport(scanned=60, written=60, segments=2, resumed=0)]
    assert set((await counters(db)).values()) == {1}

    broken = False
    reports.clear()
    await migrator.up()
    # The first backfill is finished: skipped; the second runs in full.
    assert reports == [
        CopyReport(scanned=0, written=0, segments=2, resumed=2),
        CopyReport(scanned=60, written=60, segments=2, resumed=0),
    ]
    assert set((await counters(db)).values()) == {2}
    assert await checkpoints(db, migrator) == []


# --- what fn returns ------------------------------------------------------------------


async def test_fn_returning_none_skips_the_write(db, history_table):
    await fill(db, items, [Item(f"i{n:03d}", n) for n in range(50)])
    calls: list[str] = []

    def fn(item: Item) -> Item | None:
        calls.append(item.id)
        return bump(item) if item.value % 2 else None

    reports: list[CopyReport] = []
    migrator = Migrator(
        db, [backfilling("1", fn, reports, segments=3, page_size=7)], table=history_table
    )
    await migrator.up()

    assert sorted(calls) == [f"i{n:03d}" for n in range(50)]
    assert reports == [CopyReport(scanned=50, written=25, segments=3, resumed=0)]
    stored = await raw_items(db, items)
    for key, item in stored.items():
        odd = int(key[1:]) % 2
        assert item["counter"] == {"N": "1" if odd else "0"}
        assert item["label"] == {"S": "backfilled" if odd else ""}


async def test_async_fn(db, history_table):
    await fill(db, items, [Item(f"i{n:03d}", n) for n in range(40)])

    async def fn(item: Item) -> Item | None:
        await anyio.lowlevel.checkpoint()
        if item.value >= 30:
            return None
        item.value *= 10
        return item

    reports: list[CopyReport] = []
    migrator = Migrator(
        db, [backfilling("1", fn, reports, segments=1, page_size=1000)], table=history_table
    )
    await migrator.up()

    assert reports == [CopyReport(scanned=40, written=30, segments=1, resumed=0)]
    values = {k: int(i["value"]["N"]) for k, i in (await raw_items(db, items)).items()}
    assert values == {f"i{n:03d}": n * 10 if n < 30 else n for n in range(40)}


async def test_backfill_of_a_versioned_mapper_bumps_versions(db, history_table):
    await db.schema.create(accounts)
    await fill(db, accounts, [Account(f"a{n:02d}", n) for n in range(30)])
    before = {k: int(i["version"]["N"]) for k, i in (await raw_items(db, accounts)).items()}
    assert len(before) == 30

    def fn(account: Account) -> Account:
        account.balance += 100
        return account

    async def up(ctx):
        reports.append(await ctx.backfill(accounts, fn, segments=2, page_size=8))

    reports: list[CopyReport] = []
    await Migrator(db, [Migration("1", up)], table=history_table).up()

    assert reports == [CopyReport(scanned=30, written=30, segments=2, resumed=0)]
    after = await raw_items(db, accounts)
    for key, item in after.items():
        assert int(item["version"]["N"]) == before[key] + 1
        assert int(item["balance"]["N"]) == int(key[1:]) + 100
    loaded = await db.repository(accounts).get("a05")
    assert loaded == Account("a05", 105, before["a05"] + 1)


async def test_backfill_of_an_empty_table(db, history_table):
    reports: list[CopyReport] = []
    migrator = Migrator(
        db, [backfilling("1", bump, reports, segments=4, page_size=10)], table=history_table
    )
    await migrator.up()
    assert reports == [CopyReport(scanned=0, written=0, segments=4, resumed=0)]
    assert await checkpoints(db, migrator) == []


# --- copy_table -----------------------------------------------------------------------


async def put_raw_items(db, count: int) -> dict[str, dict[str, Any]]:
    """Items of `items` with attributes the class does not know."""
    table = db.table_name(items)
    written = {}
    for n in range(count):
        item = {
            "id": {"S": f"i{n:03d}"},
            "value": {"N": str(n)},
            "counter": {"N": "0"},
            "label": {"S": f"label {n}"},
            "legacy": {"M": {"tags": {"SS": ["a", "b"]}, "score": {"N": "1.5"}}},
            "blob": {"B": bytes([n % 256]) * 3},
        }
        if n % 3 == 0:
            item["sparse"] = {"NULL": True}
        written[item["id"]["S"]] = item
    async with db.unit_of_work() as uow:
        for item in written.values():
            uow.put_item(item, mapper=items)
    stored = {i["id"]["S"]: i for i in await raw_scan(db, table)}
    assert stored == written
    return written


async def test_copy_table_copies_items_exactly(db, history_table):
    source = await put_raw_items(db, 45)
    reports: list[CopyReport] = []

    async def up(ctx):
        await ctx.schema.create(items_copy)
        reports.append(await ctx.copy_table(items, items_copy, segments=3, page_size=10))

    async def down(ctx):
        await ctx.schema.delete(items_copy)

    migrator = Migrator(db, [Migration("1", up, down)], table=history_table)
    await migrator.up()

    assert reports == [CopyReport(scanned=45, written=45, segments=3, resumed=0)]
    assert await raw_items(db, items_copy) == source
    assert await raw_items(db, items) == source  # the source is untouched
    assert await checkpoints(db, migrator) == []

    await migrator.down(None)
    assert not await db.schema.exists(items_copy)


async def test_copy_table_with_a_transform_to_another_class(db, history_table):
    await put_raw_items(db, 30)

    def transform(item: Item) -> Summary | None:
        if item.value % 5 == 4:
            return None
        return Summary(f"s-{item.id}", item.value * 2)

    reports: list[CopyReport] = []

    async def up(ctx):
        await ctx.schema.create(summaries)
        reports.append(await ctx.copy_table(items, summaries, transform, segments=2, page_size=4))

    await Migrator(db, [Migration("1", up)], table=history_table).up()

    assert reports == [CopyReport(scanned=30, written=24, segments=2, resumed=0)]
    copied = await raw_items(db, summaries)
    assert copied == {
        f"s-i{n:03d}": {"key": {"S": f"s-i{n:03d}"}, "doubled": {"N": str(n * 2)}}
        for n in range(30)
        if n % 5 != 4
    }


async def test_copy_table_with_an_async_transform_resumes_after_a_crash(db, history_table):
    total = 100
    await fill(db, items, [Item(f"i{n:03d}", n) for n in range(total)])
    crash_at: int | None = 60
    calls: collections.Counter[str] = collections.Counter()

    async def transform(item: Item) -> Summary:
        await anyio.lowlevel.checkpoint()
        calls[item.id] += 1
        if crash_at is not None and sum(calls.values()) >= crash_at:
            raise RuntimeError("copy interrupted")
        return Summary(item.id, item.value * 2)

    reports: list[CopyReport] = []

    async def up(ctx):
        await ctx.schema.ensure(summaries)
        reports.append(
            await ctx.copy_table(
                items, summaries, transform, segments=2, page_size=10, name="summarise"
            )
        )

    migrator = Migrator(db, [Migration("1", up)], table=history_table)
    with pytest.raises(MigrationError, match="copy interrupted"):
        await migrator.up()
    copied = await raw_items(db, summaries)
    copied_before = len(copied)
    assert 20 <= copied_before < total
    # Whole pages were copied before the crash: in each segment, its first pages in
    # scan order (a segment that finished has a last page shorter than the others).
    for number in range(2):
        order = [
            i["id"]["S"]
            for i in await raw_scan(
                db, db.table_name(items), Segment=number, TotalSegments=2, Limit=10
            )
        ]
        done = [key in copied for key in order]
        count = sum(done)
        assert done == [True] * count + [False] * (len(order) - count), number
        assert count % 10 == 0 or count == len(order), (number, count, len(order))
    assert len(await checkpoints(db, migrator)) == 2

    crash_at = None
    await migrator.up()

    [report] = reports
    # Only what was not copied is read again, and the page the other segment was
    # writing when the crash cancelled it (written, but its position not saved).
    assert total - copied_before <= report.scanned <= total - copied_before + 10
    assert report.written == report.scanned
    assert await raw_items(db, summaries) == {
        f"i{n:03d}": {"key": {"S": f"i{n:03d}"}, "doubled": {"N": str(n * 2)}} for n in range(total)
    }
    assert set(calls.values()) <= {1, 2}
    assert sum(1 for c in calls.values() if c == 2) <= 2 * 10  # the pages in flight
    assert await checkpoints(db, migrator) == []


# --- bad arguments ----------------------------------------------------------------------


async def _noop(ctx) -> None:  # pragma: no cover - never run
    pass


@pytest.mark.parametrize(
    "kwargs",
    [
        {"segments": 0},
        {"segments": -1},
        {"segments": 1_000_001},
        {"segments": 1.0},
        {"segments": "4"},
        {"segments": True},
        {"segments": None},
        {"page_size": 0},
        {"page_size": 10_001},
        {"page_size": 2.5},
        {"page_size": False},
    ],
)
async def test_bad_segments_or_page_size(db, history_table, kwargs):
    context = MigrationContext(db, Migration("7", _noop), History(db, history_table))
    called: list[Item] = []

    def fn(item: Item) -> Item:  # pragma: no cover - never called
        called.append(item)
        return item

    name = next(iter(kwargs))
    with pytest.raises(MigrationError, match=name) as info:
        await context.backfill(items, fn, **kwargs)
    assert info.value.version == "7"
    with pytest.raises(MigrationError, match=name):
        await context.copy_table(items, items_copy, **kwargs)
    assert called == []
    assert context.checkpoints == set()


async def test_bad_page_size_fails_the_migration(db, history_table):
    await fill(db, items, [Item("i1")])

    async def up(ctx):
        await ctx.backfill(items, bump, page_size=0)

    migrator = Migrator(db, [Migration("1", up)], table=history_table)
    with pytest.raises(MigrationError, match="page_size") as info:
        await migrator.up()
    assert isinstance(info.value.__cause__, MigrationError)
    assert (await migrator.history.records())["1"].status == "failed"
    assert await counters(db) == {"i1": 0}


# --- dry runs -------------------------------------------------------------------------


async def test_dry_run_of_a_backfill_records_batch_writes_and_changes_nothing(db, history_table):
    total = 35
    await fill(db, items, [Item(f"i{n:03d}", n) for n in range(total)])
    before = await raw_items(db, items)
    reports: list[CopyReport] = []
    migrator = Migrator(
        db, [backfilling("1", bump, reports, segments=2, page_size=10)], table=history_table
    )

    [run] = await migrator.up(dry_run=True)

    assert reports == [CopyReport(scanned=total, written=total, segments=2, resumed=0)]
    assert {op for op, _ in run.calls} == {"BatchWriteItem"}
    table = db.table_name(items)
    puts = [
        entry["PutRequest"]["Item"]
        for _, request in run.calls
        for entry in request["RequestItems"][table]
    ]
    assert len(run.calls) >= 4  # a batch per page of 10, in 2 segments
    assert sorted(p["id"]["S"] for p in puts) == sorted(before)
    for put in puts:
        assert put["counter"] == {"N": "1"}
        assert put["label"] == {"S": "backfilled"}
    # Nothing changed: the items, the history (not even created), the lock.
    assert await raw_items(db, items) == before
    assert not await db.schema.exists(migrator.history.records_mapper)
    assert await migrator.lock() is None
    assert (await migrator.status())[0].state == "pending"

    # A dry run with the history table in place leaves it as it was too.
    await migrator.history.ensure()
    [run] = await migrator.up(dry_run=True)
    assert {op for op, _ in run.calls} == {"BatchWriteItem"}
    assert await raw_scan(db, migrator.history.table) == []
    assert await raw_items(db, items) == before


async def test_dry_run_of_a_copy_records_the_copy(db, history_table):
    source = await put_raw_items(db, 12)
    migrator = Migrator(
        db,
        [Migration("1", _copy)],
        table=history_table,
    )
    [run] = await migrator.up(dry_run=True)

    operations = [op for op, _ in run.calls]
    assert operations[0] == "CreateTable"
    assert set(operations[1:]) == {"BatchWriteItem"}
    target = db.table_name(items_copy)
    copied = {
        entry["PutRequest"]["Item"]["id"]["S"]: entry["PutRequest"]["Item"]
        for op, request in run.calls[1:]
        for entry in request["RequestItems"][target]
    }
    assert copied == source
    assert not await db.schema.exists(items_copy)


async def _copy(ctx: MigrationContext) -> None:
    await ctx.schema.create(items_copy)
    await ctx.copy_table(items, items_copy, segments=2, page_size=5)


# --- more resumption --------------------------------------------------------------------


@attrs.define
class Reading:
    sensor: int
    at: int
    value: int = 0


readings = Mapper(Reading, table="readings", partition_key="sensor", sort_key="at")


async def test_resume_on_a_table_with_number_keys_and_a_sort_key(db, history_table):
    await db.schema.create(readings)
    total = 120
    await fill(db, readings, [Reading(n % 7, n, n) for n in range(total)])
    crash_after: int | None = 50
    calls: collections.Counter[tuple[int, int]] = collections.Counter()

    def fn(reading: Reading) -> Reading:
        calls[reading.sensor, reading.at] += 1
        if crash_after is not None and sum(calls.values()) > crash_after:
            raise RuntimeError("stop")
        reading.value += 1000
        return reading

    reports: list[CopyReport] = []

    async def up(ctx):
        reports.append(await ctx.backfill(readings, fn, segments=1, page_size=8))

    migrator = Migrator(db, [Migration("1", up)], table=history_table)
    with pytest.raises(MigrationError, match="stop"):
        await migrator.up()
    crash_after = None
    await migrator.up()

    # One segment: the crash was in fn, mid-page; every page before it was saved.
    [report] = reports
    assert report.scanned == total - 48  # 6 pages of 8 were written and saved
    stored = await raw_scan(db, db.table_name(readings))
    assert sorted(int(i["value"]["N"]) for i in stored) == [n + 1000 for n in range(total)]
    assert set(calls.values()) <= {1, 2}
    assert sum(1 for c in calls.values() if c == 2) == 51 - 48  # the 51st raised


async def test_cancelling_a_backfill_releases_the_lock_and_resumes(db, history_table):
    await fill(db, items, [Item(f"i{n:03d}", n) for n in range(60)])
    cancel_after: int | None = 25
    seen = 0

    async def fn(item: Item) -> Item:
        nonlocal seen
        seen += 1
        if cancel_after is not None and seen > cancel_after:
            scope.cancel()
            await anyio.sleep(60)
        return bump(item)

    reports: list[CopyReport] = []
    migrator = Migrator(
        db, [backfilling("1", fn, reports, segments=2, page_size=5)], table=history_table
    )
    with anyio.move_on_after(30) as scope:
        await migrator.up()

    assert scope.cancelled_caught
    assert await migrator.lock() is None
    assert (await migrator.status())[0].state == "pending"
    written = sum(1 for c in (await counters(db)).values() if c == 1)
    assert 10 <= written <= 25

    cancel_after = None
    await migrator.up()
    [report] = reports
    assert report.scanned <= 60 - written + 5  # at most the page in flight again
    assert set((await counters(db)).values()) <= {1, 2}
    assert (await migrator.status())[0].state == "applied"
    assert await checkpoints(db, migrator) == []


async def test_checkpoints_of_an_earlier_run_with_other_segments_are_forgotten(db, history_table):
    await fill(db, items, [Item(f"i{n:03d}", n) for n in range(40)])
    segments = 4
    broken = True
    calls = itertools.count()

    def fn(item: Item) -> Item:
        # After every segment's first page (4 x 5 items): some positions are saved,
        # however the backend spreads the items over the segments.
        if broken and next(calls) >= 20:
            raise RuntimeError("crash")
        return bump(item)

    async def up(ctx):
        await ctx.backfill(items, fn, segments=segments, page_size=5)

    migrator = Migrator(db, [Migration("1", up)], table=history_table)
    with pytest.raises(MigrationError, match="crash"):
        await migrator.up()
    assert await checkpoints(db, migrator) != []

    # Restarted with another number of segments: a fresh pass, then success.
    broken = False
    segments = 2
    await migrator.up()
    assert (await migrator.status())[0].state == "applied"
    assert await checkpoints(db, migrator) == []
