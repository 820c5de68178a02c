"""Units of work and batch reads while the service misbehaves.

Faults are injected at our own transport (`Faults` wraps ``Transport._send``; the
aiobotocore client is never touched): BatchWriteItem forwards only some items of each
request to the real server and returns the rest as UnprocessedItems, BatchGetItem
likewise with UnprocessedKeys, and requests fail with throttling, HTTP 500 or a
dropped connection, before being forwarded or after (the server applied the write,
the response was lost). Hypothesis draws the workload and a seeded fault plan.

The property of a unit of work: after the commit, every write the unit holds is
either applied (the item has its latest value, or is gone for a delete) or listed
once in `UnitOfWorkError.failures`. A listed write was not applied, or, only when its
request's response was lost, was applied anyway: the item is then in its state from
before the unit, or in its new one, never anything else.
"""

from __future__ import annotations

import itertools
import time

import pytest
import pytest_asyncio
from _writes_helpers import (
    Event,
    FaultPlan,
    Faults,
    Tag,
    events,
    fast_retries,
    ident,
    raw_put,
    run_writes,
    stored,
    tags,
)
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    BatchGetError,
    DynamoDBError,
    DynamORMError,
    ThrottledError,
    TransportError,
    UnitOfWorkError,
)
from dynamorm_async.db import State
from dynamorm_async.testing.pytest_plugin import open_test_database

_runs = itertools.count(1)


@pytest.fixture
def dynamorm_mappers():
    return [events, tags]


@pytest.fixture
def db(dynamorm_db):
    fast_retries(dynamorm_db)
    return dynamorm_db


# --- the unit of work under faults --------------------------------------------------------------

KEYS = 30  # per table: small enough for duplicates, large enough for several chunks

writes_strategy = st.lists(
    st.tuples(
        st.sampled_from(["events", "tags"]),
        st.integers(0, KEYS - 1),
        st.sampled_from(["put", "put", "delete"]),
    ),
    min_size=5,
    max_size=70,
)
write_plans = st.builds(
    FaultPlan,
    seed=st.integers(0, 2**32 - 1),
    hold_back=st.sampled_from([0.0, 0.3, 0.7, 1.0]),
    stuck=st.sampled_from([0.0, 0.05, 0.3]),
    # 0.9: most requests fail even after the transport's 4 tries.
    error=st.sampled_from([0.0, 0.3, 0.9]),
)
# Always run: 70 writes of 60 items over both tables (three chunks, duplicates, puts
# over deletes)
# with every kind of fault at once.
HEAVY = [
    (("events", "tags")[(i // KEYS) % 2], (i * 7) % KEYS, "delete" if i % 4 == 0 else "put")
    for i in range(70)
]


def _objects(run: int, table: str, index: int, label: str) -> Event | Tag:
    if table == "events":
        return Event(f"r{run}", index, label)
    return Tag(f"r{run}-{index}", label)


async def _state(db, run: int) -> dict:
    """The items of this run (this example) in both tables."""
    tag = f"r{run}"
    everything = {**(await stored(db, events)), **(await stored(db, tags))}
    return {
        key: obj
        for key, obj in everything.items()
        if (obj.stream if isinstance(obj, Event) else obj.id.split("-")[0]) == tag
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writes=writes_strategy,
    plan=write_plans,
    concurrency=st.integers(1, 4),
    attempts=st.integers(1, 4),
)
@example(HEAVY, FaultPlan(seed=1, hold_back=0.3, stuck=0.05, error=0.9), 3, 2)
@example(HEAVY, FaultPlan(seed=2, hold_back=0.7, error=0.3), 1, 4)
@example(HEAVY, FaultPlan(seed=3, hold_back=1.0), 4, 1)
async def test_every_write_is_applied_or_reported(db, writes, plan, concurrency, attempts):
    fast_retries(db)
    run = next(_runs)
    mappers = {"events": events, "tags": tags}
    tables = {name: db.table_name(m) for name, m in mappers.items()}

    # Items already there: the even ones (so that deletes find something, sometimes).
    initial: dict = {}
    for name, mapper in mappers.items():
        objects = [_objects(run, name, i, "seed") for i in range(0, KEYS, 2)]
        await raw_put(db, mapper, objects)
        for obj in objects:
            initial[ident(tables[name], mapper.key_of(obj))] = obj

    # The unit: the last write of each item wins.
    final: dict = {}
    operations: dict = {}
    with Faults(db, plan, [events, tags], run_tag=f"r{run}") as faults:
        try:
            async with db.unit_of_work(
                concurrency=concurrency, attempts=attempts, deadline=10
            ) as uow:
                for position, (name, index, action) in enumerate(writes):
                    mapper = mappers[name]
                    obj = _objects(run, name, index, f"w{position}")
                    key = ident(tables[name], mapper.key_of(obj))
                    if action == "put":
                        uow.put(obj)
                        final[key] = obj
                        operations[key] = "PutItem"
                    else:
                        uow.delete(obj)
                        final[key] = None
                        operations[key] = "DeleteItem"
            error = None
        except UnitOfWorkError as exc:
            error = exc

    state = await _state(db, run)
    assert faults.problems == []  # no request over 25 items, none naming an item twice

    failures = error.failures if error is not None else ()
    reported = [ident(f.table, f.key) for f in failures]
    assert len(reported) == len(set(reported)), "a write is reported twice"
    assert set(reported) <= set(final), "a failure is reported for an item the unit lacks"
    for failure in failures:
        key = ident(failure.table, failure.key)
        assert failure.operation == operations[key]
        assert isinstance(failure.error, DynamORMError)

    for key, expected in final.items():
        actual = state.get(key)
        before = initial.get(key)
        if key in reported:
            if key in faults.forwarded:
                # Sent and applied, but the response was lost: reported, yet applied.
                assert key in faults.lost, key
                assert actual == expected, key
            else:
                assert actual == before, key  # never reached the server: untouched
        else:
            assert key in faults.forwarded, f"{key} neither written nor reported"
            assert actual == expected, key
    for key, value in state.items():  # nothing else changed
        if key not in final:
            assert value == initial.get(key), key

    event(f"reported {'none' if not reported else 'some' if set(reported) < set(final) else 'all'}")
    event(f"reported yet applied: {bool(set(reported) & faults.forwarded)}")
    if error is None:
        assert uow.state is State.COMMITTED
    else:
        assert uow.state is State.FAILED
        assert error.applied + len(error.failures) == len(final)
        # With every fault gone, the failures retried in a new unit all get through.
        async with db.unit_of_work() as again:
            again.retry(error)
        state = await _state(db, run)
        for key, expected in final.items():
            assert state.get(key) == expected, key


async def test_unprocessed_items_are_retried_until_written(db):
    plan = FaultPlan(seed=7, hold_back=0.6)
    objects = [Tag(f"t{i}", "v") for i in range(60)]
    with Faults(db, plan, [tags]) as faults:
        async with db.unit_of_work(attempts=50) as uow:
            for obj in objects:
                uow.put(obj)
    assert uow.state is State.COMMITTED
    assert faults.requests["BatchWriteItem"] > 3  # the 3 chunks, and retries of what was left
    table = db.table_name(tags)
    assert await stored(db, tags) == {ident(table, {"id": o.id}): o for o in objects}


async def test_stuck_items_are_sent_attempts_times_then_reported(db):
    plan = FaultPlan(seed=1, hold_back=1.0)  # every item is handed back, every time
    uow = db.unit_of_work(attempts=3)

    def writes(uow):
        for i in range(30):  # two chunks: 25 and 5
            uow.put(Tag(f"t{i}"))

    with Faults(db, plan, [tags]) as faults, pytest.raises(UnitOfWorkError) as info:
        await run_writes(uow, writes)
    assert faults.requests["BatchWriteItem"] == 2 * 3
    error = info.value
    assert error.applied == 0
    assert sorted(f.key["id"] for f in error.failures) == sorted(f"t{i}" for i in range(30))
    assert all("unprocessed" in str(f.error) for f in error.failures)
    assert all(isinstance(f.error, DynamORMError) for f in error.failures)
    assert await stored(db, tags) == {}


async def test_deadline_stops_retrying_unprocessed_items(db):
    plan = FaultPlan(seed=1, hold_back=1.0)
    start = time.perf_counter()
    uow = db.unit_of_work(attempts=100_000, deadline=0.2)
    with Faults(db, plan, [tags]), pytest.raises(UnitOfWorkError) as info:
        await run_writes(uow, lambda uow: uow.put(Tag("t1")))
    assert time.perf_counter() - start < 5
    assert [f.key for f in info.value.failures] == [{"id": "t1"}]
    assert uow.state is State.FAILED


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("throttled", ThrottledError), ("server", DynamoDBError), ("transport", TransportError)],
)
async def test_a_request_failing_past_its_retries_reports_its_items(db, kind, cls):
    plan = FaultPlan(seed=3, error=1.0, kinds=(kind,), when=("before",))

    def writes(uow):
        uow.put(Tag("t1"))
        uow.update("t2", set={"label": "x"}, mapper=tags, upsert=True)

    faults = Faults(db, plan, [tags], operations=("BatchWriteItem",))
    with faults, pytest.raises(UnitOfWorkError) as info:
        await run_writes(db.unit_of_work(), writes)
    # The transport retried the request as its policy says, then the unit reported it;
    # a whole batch refused for throughput counts as unprocessed items instead, and has
    # the unit's budget (attempts=10).
    expected = 10 if kind == "throttled" else db.transport.retry_policy.attempts
    assert faults.requests["BatchWriteItem"] == expected
    (failure,) = info.value.failures
    assert failure.key == {"id": "t1"}
    assert failure.operation == "PutItem"
    assert type(failure.error) is cls
    assert info.value.applied == 1  # the update went through
    assert await db.repository(tags).get("t2") == Tag("t2", "x")
    assert await db.repository(tags).get("t1") is None


async def test_a_write_applied_but_whose_response_is_lost_is_reported_and_present(db):
    plan = FaultPlan(seed=3, error=1.0, kinds=("transport",), when=("after",))
    faults = Faults(db, plan, [tags], operations=("BatchWriteItem",))
    with faults, pytest.raises(UnitOfWorkError) as info:
        await run_writes(db.unit_of_work(), lambda uow: uow.put(Tag("t1", "v")))
    assert faults.lost == {ident(db.table_name(tags), {"id": "t1"})}
    (failure,) = info.value.failures
    assert isinstance(failure.error, TransportError)
    assert info.value.applied == 0
    # Reported as failed, yet the server applied it: the unit cannot know.
    assert await db.repository(tags).get("t1") == Tag("t1", "v")


# --- batch reads under faults ------------------------------------------------------------------

STORED = 120  # t0..t119 exist; t120..t159 do not


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def read_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [tags])
    try:
        await raw_put(db, tags, [Tag(f"t{i}", f"label{i}", i) for i in range(STORED)])
        yield db
    finally:
        await db.schema.delete(tags, wait=False)
        await db.close()


read_plans = st.builds(
    FaultPlan,
    seed=st.integers(0, 2**32 - 1),
    hold_back=st.sampled_from([0.0, 0.3, 0.7]),
    stuck=st.sampled_from([0.0, 0.02, 0.2]),
    error=st.sampled_from([0.0, 0.3]),
    error_once=st.just(True),  # transient errors only: the transport's retries absorb them
)


def _expected(i: int) -> Tag | None:
    return Tag(f"t{i}", f"label{i}", i) if i < STORED else None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.integers(1, 230).flatmap(
        lambda n: st.lists(st.integers(0, STORED + 39), min_size=n, max_size=n)
    ),
    plan=read_plans,
    consistent=st.booleans(),
)
@example(
    [*range(STORED + 40), *range(0, STORED + 40, 5)],
    FaultPlan(seed=1, hold_back=0.3, stuck=0.02, error=0.3, error_once=True),
    True,
)
@example(list(range(150)), FaultPlan(seed=2, hold_back=0.7, error=0.3, error_once=True), False)
async def test_batch_get_is_complete_or_lists_exactly_the_missing_keys(
    read_db, picks, plan, consistent
):
    fast_retries(read_db)
    repo = read_db.repository(tags)
    keys = [f"t{i}" for i in picks]
    table = repo.table
    with Faults(read_db, plan, [tags]) as faults:
        try:
            result = await repo.batch_get(keys, consistent=consistent)
            error = None
        except BatchGetError as exc:
            error = exc
    assert faults.problems == []  # at most 100 keys a request, none twice
    assert set(faults.consistent) <= {consistent}  # retries keep ConsistentRead
    requested = {ident(table, {"id": k}) for k in keys}
    never_answered = requested - faults.answered
    event(f"batch_get {'raised' if error else 'complete'}, {len(set(picks))} keys")
    if error is None:
        assert never_answered == set()
        assert result == [_expected(i) for i in picks]
    else:
        listed = [ident(t, k) for t, k in error.unprocessed]
        assert len(listed) == len(set(listed))
        assert set(listed) == never_answered
        assert all(t == table for t, _ in error.unprocessed)
        stuck = {i for i in requested if faults._stuck(i)}
        assert stuck <= set(listed)


async def test_batch_get_retries_unprocessed_keys_until_read(read_db):
    fast_retries(read_db)
    repo = read_db.repository(tags)
    keys = [f"t{i}" for i in range(0, 160, 3)]
    with Faults(read_db, FaultPlan(seed=11, hold_back=0.5), [tags]) as faults:
        result = await repo.batch_get(keys)
    assert result == [_expected(int(k[1:])) for k in keys]
    assert faults.requests["BatchGetItem"] > 1


async def test_batch_get_error_lists_the_stuck_keys(read_db):
    fast_retries(read_db)
    repo = read_db.repository(tags)
    keys = [f"t{i}" for i in range(STORED + 10)]
    plan = FaultPlan(seed=5, stuck=0.05)
    with Faults(read_db, plan, [tags]) as faults, pytest.raises(BatchGetError) as info:
        await repo.batch_get(keys)
    stuck = sorted(k for k in keys if faults._stuck(ident(repo.table, {"id": k})))
    assert stuck  # the seed does leave some keys stuck
    assert sorted(k["id"] for _, k in info.value.unprocessed) == stuck
    assert all(t == repo.table for t, _ in info.value.unprocessed)


async def test_batch_get_error_found_is_what_the_call_would_have_returned(read_db):
    fast_retries(read_db)
    repo = read_db.repository(tags)
    keys = ["t1", "t200", "t2"]
    stuck = ident(repo.table, {"id": "t2"})

    class StuckT2(Faults):
        def _stuck(self, item):
            return item == stuck

    with StuckT2(read_db, FaultPlan(), [tags]), pytest.raises(BatchGetError) as info:
        await repo.batch_get(keys)
    assert [k for _, k in info.value.unprocessed] == [{"id": "t2"}]
    assert info.value.found == [Tag("t1", "label1", 1), None, None]


async def test_batch_get_raises_the_error_of_a_request_that_keeps_failing(read_db):
    fast_retries(read_db)
    repo = read_db.repository(tags)
    faults = Faults(read_db, FaultPlan(seed=2, error=1.0), [tags])
    with faults, pytest.raises(DynamORMError):
        await repo.batch_get(["t1", "t2"])
