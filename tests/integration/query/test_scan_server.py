"""Scans, plain and parallel: every item exactly once, filters, projections, counts,
and parallel scans that stop early or fail without leaving tasks behind.

240 readings of 12 devices are written once for the module; every test only reads
them. Parallel scans are compared as sorted key lists, so a duplicate would show.
"""

from __future__ import annotations

import asyncio
import contextlib

import attrs
import pytest
import pytest_asyncio
from _query_helpers import keys, new_tasks_left, seed, sent_requests

from dynamorm_async import (
    GlobalIndex,
    Mapper,
    NoIndexForQuery,
    TableNotFound,
    ValidationError,
    attr,
)
from dynamorm_async.testing.pytest_plugin import open_test_database


@attrs.define
class Reading:
    device: str
    at: int
    value: int
    unit: str = "C"
    label: str | None = None


readings = Mapper(
    Reading,
    table="readings",
    partition_key="device",
    sort_key="at",
    indexes=[GlobalIndex("by-label", partition_key="label", projection="KEYS_ONLY")],
)
never_created = Mapper(Reading, table="never-created", partition_key="device", sort_key="at")

READINGS = [
    Reading(
        f"d{d:02d}",
        at,
        value=(d * 37 + at * 11) % 100,
        unit="F" if d % 3 == 0 else "C",
        label="hot" if (d + at) % 7 == 0 else None,
    )
    for d in range(12)
    for at in range(20)
]
ALL_KEYS = sorted(keys(READINGS, "device", "at"))


def sorted_keys(items):
    return sorted(keys(items, "device", "at"))


def expected_keys(predicate):
    return sorted(keys((r for r in READINGS if predicate(r)), "device", "at"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [readings])
    try:
        await seed(db, readings, READINGS)
        yield db
    finally:
        await db.schema.delete(readings, wait=False)
        await db.close()


@pytest.fixture
def repo(shared_db):
    return shared_db.repository(readings)


# --- plain scans -------------------------------------------------------------------------------


async def test_scan_returns_every_item(repo):
    items = await repo.scan().all()
    assert sorted_keys(items) == ALL_KEYS
    assert sorted(items, key=lambda r: (r.device, r.at)) == READINGS
    explain = repo.scan().explain()
    assert (explain.operation, explain.index, explain.filter) == ("Scan", None, None)


async def test_scan_filtered(repo):
    hot_f = (attr("value") > 50) & (attr("unit") == "F")
    expected = expected_keys(lambda r: r.value > 50 and r.unit == "F")
    assert 0 < len(expected) < len(READINGS)
    assert sorted_keys(await repo.scan(hot_f).all()) == expected
    assert sorted_keys(await repo.scan().filter(hot_f).all()) == expected
    two = repo.scan(attr("value") > 50, attr("unit") == "F")  # conditions are ANDed
    assert sorted_keys(await two.all()) == expected
    where = repo.scan().where("value", ">", 50).where("unit", "=", "F")
    assert sorted_keys(await where.all()) == expected
    # A scan may filter on key attributes (a query may not).
    on_keys = repo.scan().filter(attr("device") == "d03").filter(attr("at") < 5)
    assert sorted_keys(await on_keys.all()) == [("d03", at) for at in range(5)]


async def test_scan_projected_objects_take_defaults(repo):
    items = await repo.scan().project("value").all()
    by_key = {(r.device, r.at): r for r in items}
    assert sorted(by_key) == ALL_KEYS
    for reading in READINGS:
        got = by_key[reading.device, reading.at]
        assert got == Reading(reading.device, reading.at, reading.value)  # unit and label: defaults


async def test_scan_projection_missing_a_required_field_sends_nothing(repo, shared_db):
    with sent_requests(shared_db) as sent, pytest.raises(ValidationError, match="value"):
        await repo.scan().project("unit").all()
    assert sent == []


async def test_scan_as_dicts(repo):
    rows = await repo.scan().as_dicts().all()
    by_key = {(r["device"], r["at"]): r for r in rows}
    assert len(rows) == len(READINGS)
    for reading in READINGS:
        expected = attrs.asdict(reading)
        if reading.label is None:
            del expected["label"]  # None is not stored: the dict holds what was read
        assert by_key[reading.device, reading.at] == expected
    projected = await repo.scan().project("unit").as_dicts().all()
    assert sorted(projected, key=lambda r: (r["device"], r["at"])) == [
        {"device": r.device, "at": r.at, "unit": r.unit} for r in READINGS
    ]


async def test_scan_limit(repo):
    items = await repo.scan().limit(15).all()
    assert len(items) == len(set(keys(items, "device", "at"))) == 15
    filtered = await repo.scan(attr("unit") == "F").limit(15).all()
    assert len(filtered) == 15
    assert all(r.unit == "F" for r in filtered)
    assert await repo.scan().count() == len(READINGS)
    assert await repo.scan().limit(15).count() == 15
    assert await repo.scan(attr("unit") == "F").count() == len(
        expected_keys(lambda r: r.unit == "F")
    )


async def test_scan_of_a_keys_only_sparse_index(repo):
    q = repo.scan().index("by-label").as_dicts()
    rows = await q.all()
    hot = [r for r in READINGS if r.label is not None]
    assert sorted(rows, key=lambda r: (r["device"], r["at"])) == [
        {"device": r.device, "at": r.at, "label": "hot"} for r in hot
    ]
    assert await q.count() == len(hot)
    with pytest.raises(NoIndexForQuery, match="does not project"):
        await repo.scan().index("by-label").all()  # objects need value


async def test_descending_scan_does_not_exist(repo):
    assert not hasattr(repo.scan(), "order")
    with pytest.raises(ValidationError, match="no particular order"):
        await repo.where("value", "=", 3).allow_scan().order(descending=True).all()


# --- parallel scans ------------------------------------------------------------------------------


@pytest.mark.parametrize("segments", [2, 4, 7])
async def test_parallel_scan_returns_every_item_exactly_once(repo, shared_db, segments):
    q = repo.scan().segments(segments)
    assert q.explain().request["TotalSegments"] == segments
    with sent_requests(shared_db) as sent:
        items = await q.all()
    assert sorted_keys(items) == ALL_KEYS
    assert sorted(params["Segment"] for _, params in sent) == list(range(segments))
    assert sorted_keys([r async for r in repo.scan(segments=segments)]) == ALL_KEYS


async def test_parallel_scan_filtered_and_projected(repo):
    q = repo.scan(attr("value") < 30, segments=4).project("value").as_dicts()
    rows = await q.all()
    assert sorted(rows, key=lambda r: (r["device"], r["at"])) == [
        {"device": r.device, "at": r.at, "value": r.value} for r in READINGS if r.value < 30
    ]


async def test_parallel_scan_count(repo, shared_db):
    with sent_requests(shared_db) as sent:
        assert await repo.scan().segments(4).count() == len(READINGS)
    assert sorted((params["Segment"], params["Select"]) for _, params in sent) == [
        (s, "COUNT") for s in range(4)
    ]
    hot = repo.scan(attr("unit") == "F").segments(4)
    assert await hot.count() == len(expected_keys(lambda r: r.unit == "F"))
    assert await repo.scan().segments(4).limit(10).count() == 10


async def test_parallel_scan_limit_and_first(repo):
    items = await repo.scan().segments(4).limit(10).all()
    assert len(set(keys(items, "device", "at"))) == 10
    first = await repo.scan().segments(4).first()
    assert (first.device, first.at) in set(ALL_KEYS)


async def test_parallel_scan_has_no_pages(repo):
    with pytest.raises(ValidationError, match="async for"):
        await repo.scan().segments(4).page(size=10)


async def test_segments_must_be_valid(repo):
    for bad in (0, -1, 1_000_001, 2.0, True):
        with pytest.raises(ValidationError):
            repo.scan().segments(bad)


# --- stopping a parallel scan early leaves nothing running -----------------------------------------


async def test_breaking_out_of_a_parallel_scan_leaves_no_tasks(repo):
    before = asyncio.all_tasks()
    async for reading in repo.scan().segments(8):
        assert isinstance(reading, Reading)
        break
    assert await new_tasks_left(before) == set()


async def test_closing_a_parallel_scan_leaves_no_tasks(repo):
    before = asyncio.all_tasks()
    items = repo.scan().segments(8).__aiter__()
    async with contextlib.aclosing(items):
        await anext(items)
        await asyncio.sleep(0.05)  # the segments fill the queue and wait
        assert asyncio.all_tasks() - before  # they are running now
    assert await new_tasks_left(before) == set()


async def test_an_error_in_the_consumer_leaves_no_tasks(repo):
    before = asyncio.all_tasks()

    async def consume():
        async for _ in repo.scan().segments(8):
            raise RuntimeError("consumer failed")

    with pytest.raises(RuntimeError, match="consumer"):
        await consume()
    assert await new_tasks_left(before) == set()


async def test_cancelling_the_consumer_leaves_no_tasks(repo):
    before = asyncio.all_tasks()
    started = asyncio.Event()

    async def consume():
        async for _ in repo.scan().segments(8):
            started.set()
            await asyncio.sleep(10)  # a slow consumer

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await new_tasks_left(before) == set()


async def test_limit_on_a_parallel_scan_leaves_no_tasks(repo):
    before = asyncio.all_tasks()
    assert len(await repo.scan().segments(8).limit(3).all()) == 3
    assert await new_tasks_left(before) == set()


# --- a table that does not exist -----------------------------------------------------------------


@pytest.mark.parametrize("segments", [1, 4])
async def test_scan_of_a_missing_table_raises_table_not_found(shared_db, segments):
    repo = shared_db.repository(never_created)
    before = asyncio.all_tasks()
    with pytest.raises(TableNotFound) as info:
        await asyncio.wait_for(repo.scan().segments(segments).all(), 10)
    assert info.value.table == shared_db.table_name(never_created)
    assert info.value.operation == "Scan"
    with pytest.raises(TableNotFound):
        await asyncio.wait_for(repo.scan().segments(segments).count(), 10)
    with pytest.raises(TableNotFound):
        await asyncio.wait_for(repo.where("device", "=", "d01").all(), 10)
    assert await new_tasks_left(before) == set()


# --- faults at our own transport layer (the requests still go to the server) ------------------


@contextlib.contextmanager
def failing_segment(db, segment: int, error: BaseException):
    """Make the Database's transport raise `error` for one scan segment; count the calls."""
    transport = db.transport
    real = transport.call
    calls: list[int | None] = []

    async def call(operation, request, **kwargs):
        calls.append(request.get("Segment"))
        if request.get("Segment") == segment:
            raise error
        await asyncio.sleep(0.01)  # the other segments are still busy when it fails
        # Small pages, so that every segment has many requests still to make.
        return await real(operation, {**request, "Limit": 2}, **kwargs)

    transport.call = call
    try:
        yield calls
    finally:
        del transport.call


async def test_a_failing_segment_of_a_count_stops_the_others(repo, shared_db):
    with failing_segment(shared_db, 0, ValidationError("boom")) as calls:
        with pytest.raises(ValidationError, match="boom"):
            await repo.scan(segments=3).count()
        sent = len(calls)
        await asyncio.sleep(0.3)
        assert len(calls) == sent  # nothing more was sent after the error


async def test_a_stray_cancellation_in_a_segment_surfaces_instead_of_hanging(repo, shared_db):
    with (
        failing_segment(shared_db, 1, asyncio.CancelledError()),
        pytest.raises(asyncio.CancelledError),
    ):
        await asyncio.wait_for(repo.scan(segments=3).all(), timeout=10)


async def test_a_parallel_scan_with_a_limit_asks_each_segment_for_no_more(repo, shared_db):
    with sent_requests(shared_db) as sent:
        first = await repo.scan(segments=4).first()
    assert first is not None
    assert sent
    assert {params.get("Limit") for _, params in sent} == {1}
