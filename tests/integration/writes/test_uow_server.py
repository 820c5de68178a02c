"""Units of work against the server: batching, collapsing, single calls, failures.

Every test has fresh tables (the plugin's `dynamorm_db`). What the unit sends is read
from botocore's event hooks (`sent_requests`), and what it wrote from the tables with
the raw client.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter

import pytest
from _writes_helpers import (
    Account,
    Event,
    Tag,
    accounts,
    count_items,
    events,
    ident,
    operations,
    run_writes,
    sent_requests,
    stored,
    tags,
)

from dynamorm_async import (
    ItemAlreadyExists,
    TransactionCanceled,
    UnitOfWorkError,
    ValidationError,
    VersionConflict,
    attr,
)
from dynamorm_async.db import State


@pytest.fixture
def dynamorm_mappers():
    return [events, tags, accounts]


@pytest.fixture
def tag_repo(dynamorm_db):
    return dynamorm_db.repository(tags)


@pytest.fixture
def account_repo(dynamorm_db):
    return dynamorm_db.repository(accounts)


def entries(params):
    """The entries of a BatchWriteItem request, every table's."""
    return [e for table_entries in params["RequestItems"].values() for e in table_entries]


# --- batching --------------------------------------------------------------------------------

N = 10_000


async def test_ten_thousand_puts_across_two_tables_commit_in_ceil_n_over_25_requests(
    dynamorm_db,
):
    db = dynamorm_db
    with sent_requests(db) as sent:
        async with db.unit_of_work() as uow:
            for i in range(N):
                if i % 2:
                    uow.put(Event("big", i, "odd"))
                else:
                    uow.put(Tag(f"t{i}", "even", i))
    assert uow.state is State.COMMITTED
    assert operations(sent) == ["BatchWriteItem"] * math.ceil(N / 25)
    sizes = [len(entries(params)) for _, params in sent]
    assert max(sizes) == 25
    assert sum(sizes) == N
    assert await count_items(db, events) == N // 2
    assert await count_items(db, tags) == N // 2
    assert await db.repository(events).get(("big", N - 1)) == Event("big", N - 1, "odd")
    assert await db.repository(tags).get("t0") == Tag("t0", "even", 0)


async def test_duplicate_plain_writes_collapse_last_wins(dynamorm_db, tag_repo):
    await tag_repo.put(Tag("gone", "before"))
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            uow.put(Tag("t1", "first"))
            uow.put(Tag("t2", "only"))
            uow.put(Tag("t1", "second"))
            uow.put(Tag("t1", "last"))
            uow.put(Tag("gone", "again"))
            uow.delete("gone", mapper=tags)  # a put then a delete: the delete wins
            uow.delete("t3", mapper=tags)
            uow.put(Tag("t3", "back"))  # a delete then a put: the put wins
    assert len(uow) == 8  # every write recorded; collapsed when sent
    assert operations(sent) == ["BatchWriteItem"]
    sent_entries = entries(sent[0][1])
    assert len(sent_entries) == 4  # one entry per item
    t1 = [
        e for e in sent_entries if e.get("PutRequest", {}).get("Item", {}).get("id") == {"S": "t1"}
    ]
    assert [e["PutRequest"]["Item"]["label"] for e in t1] == [{"S": "last"}]
    assert {"DeleteRequest": {"Key": {"id": {"S": "gone"}}}} in sent_entries
    table = dynamorm_db.table_name(tags)
    assert await stored(dynamorm_db, tags) == {
        ident(table, {"id": "t1"}): Tag("t1", "last"),
        ident(table, {"id": "t2"}): Tag("t2", "only"),
        ident(table, {"id": "t3"}): Tag("t3", "back"),
    }


async def test_conditional_versioned_and_update_writes_go_as_single_calls(
    dynamorm_db, tag_repo, account_repo
):
    await tag_repo.put(Tag("c1", "counter", 1))
    await tag_repo.put(Tag("c2", "x"))
    await tag_repo.put(Tag("b2", "plain"))
    loaded = await account_repo.put(Account("a1", 100))
    doomed = await account_repo.put(Account("a3", 1))
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            uow.put(Tag("p1", "cond"), condition=attr("id").not_exists())
            uow.create(Tag("p2", "created"))
            uow.update("c1", add={"count": 2}, mapper=tags)
            bumped = uow.put(Account("a1", 90, version=loaded.version))
            fresh = uow.put(Account("a2", 5))
            uow.delete(Tag("c2"), condition=attr("label") == "x")
            uow.delete(doomed)
            uow.put(Tag("b1", "plain"))
            uow.delete("b2", mapper=tags)
    assert bumped == Account("a1", 90, version=loaded.version + 1)
    assert fresh == Account("a2", 5, version=1)
    assert Counter(operations(sent)) == {
        "PutItem": 4,
        "UpdateItem": 1,
        "DeleteItem": 2,
        "BatchWriteItem": 1,
    }
    (batch,) = [params for name, params in sent if name == "BatchWriteItem"]
    assert sorted(map(str, entries(batch))) == sorted(
        map(
            str,
            [
                {
                    "PutRequest": {
                        "Item": {"id": {"S": "b1"}, "label": {"S": "plain"}, "count": {"N": "0"}}
                    }
                },
                {"DeleteRequest": {"Key": {"id": {"S": "b2"}}}},
            ],
        )
    )
    singles = [params for name, params in sent if name != "BatchWriteItem"]
    # Every single write here carries a condition: the user's, create's or the version's.
    assert all("ConditionExpression" in params for params in singles)
    assert await account_repo.get("a1") == bumped
    assert await account_repo.get("a2") == fresh
    assert await account_repo.get("a3") is None
    assert await tag_repo.get("c1") == Tag("c1", "counter", 3)
    assert await tag_repo.get("c2") is None
    assert await tag_repo.get("p1") == Tag("p1", "cond")
    assert await tag_repo.get("p2") == Tag("p2", "created")
    assert await tag_repo.get("b1") == Tag("b1", "plain")
    assert await tag_repo.get("b2") is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("put_if", "put"),
        ("put", "put_if"),
        ("put", "update"),
        ("update", "update"),
        ("delete", "delete_if"),
        ("check", "put"),
        ("create", "delete"),
    ],
)
async def test_a_single_write_and_another_write_of_one_item_are_refused_when_added(
    dynamorm_db, first, second
):
    writes = {
        "put": lambda uow: uow.put(Tag("k", "v")),
        "put_if": lambda uow: uow.put(Tag("k", "v"), condition=attr("id").not_exists()),
        "update": lambda uow: uow.update("k", set={"label": "w"}, mapper=tags, upsert=True),
        "delete": lambda uow: uow.delete("k", mapper=tags),
        "delete_if": lambda uow: uow.delete("k", mapper=tags, condition=attr("count") == 0),
        "check": lambda uow: uow.check(tags, "k", attr("label").not_exists()),
        "create": lambda uow: uow.create(Tag("k", "v")),
    }
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            writes[first](uow)
            with pytest.raises(ValidationError, match="already writes the item"):
                writes[second](uow)
            assert len(uow) == 1  # the refused write is not recorded
            assert uow.state is State.ACTIVE
            uow.put(Event("k", 1))  # the same key value in another table is another item
    assert uow.state is State.COMMITTED  # the writes that were recorded all succeeded
    assert sent


async def test_two_writes_of_one_versioned_object_are_refused(dynamorm_db):
    async with dynamorm_db.unit_of_work() as uow:
        first = uow.put(Account("a1", 10))
        with pytest.raises(ValidationError, match="already writes the item"):
            uow.put(first)  # versioned writes are never batched: no collapsing
    assert await dynamorm_db.repository(accounts).get("a1") == Account("a1", 10, version=1)


# --- rollback and lifecycle --------------------------------------------------------------------


async def test_an_exception_in_the_block_sends_nothing(dynamorm_db, tag_repo):
    await tag_repo.put(Tag("keep", "before", 1))

    def writes(uow):
        uow.put(Tag("new", "x"))
        uow.update("keep", add={"count": 1}, mapper=tags)
        uow.delete("keep2", mapper=tags)
        uow.check(tags, "other", attr("count") == 1)
        raise RuntimeError("boom")

    uow = dynamorm_db.unit_of_work()
    with sent_requests(dynamorm_db) as sent, pytest.raises(RuntimeError, match="boom"):
        await run_writes(uow, writes)
    assert sent == []
    assert uow.state is State.ROLLED_BACK
    assert len(uow) == 0
    assert await stored(dynamorm_db, tags) == {
        ident(dynamorm_db.table_name(tags), {"id": "keep"}): Tag("keep", "before", 1)
    }


async def test_explicit_rollback_in_the_block_sends_nothing(dynamorm_db):
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            uow.put(Tag("new", "x"))
            uow.rollback()
    assert sent == []
    assert uow.state is State.ROLLED_BACK
    assert await count_items(dynamorm_db, tags) == 0


async def test_an_empty_unit_sends_nothing_and_commits(dynamorm_db):
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            pass
    assert sent == []
    assert uow.state is State.COMMITTED


async def test_lifecycle_misuse_after_commit(dynamorm_db):
    uow = dynamorm_db.unit_of_work()
    assert uow.state is State.ACTIVE
    uow.put(Tag("t1"))
    await uow.commit()
    assert uow.state is State.COMMITTED
    with pytest.raises(ValidationError, match="committed: writes cannot be added"):
        uow.put(Tag("t2"))
    with pytest.raises(ValidationError, match="committed: it cannot commit"):
        await uow.commit()
    with pytest.raises(ValidationError, match="committed: nothing to roll back"):
        uow.rollback()
    assert uow.state is State.COMMITTED
    assert await count_items(dynamorm_db, tags) == 1


async def test_lifecycle_misuse_after_rollback(dynamorm_db):
    uow = dynamorm_db.unit_of_work()
    uow.put(Tag("t1"))
    uow.rollback()
    with pytest.raises(ValidationError, match="rolled back"):
        uow.delete("t1", mapper=tags)
    with pytest.raises(ValidationError, match="rolled back"):
        await uow.commit()
    with pytest.raises(ValidationError, match="rolled back"):
        uow.rollback()
    assert uow.state is State.ROLLED_BACK
    assert await count_items(dynamorm_db, tags) == 0


async def test_lifecycle_misuse_after_failure(dynamorm_db, tag_repo):
    await tag_repo.put(Tag("dup"))
    uow = dynamorm_db.unit_of_work()
    uow.create(Tag("dup"))
    with pytest.raises(UnitOfWorkError):
        await uow.commit()
    assert uow.state is State.FAILED
    with pytest.raises(ValidationError, match="failed"):
        await uow.commit()
    with pytest.raises(ValidationError, match="failed"):
        uow.put(Tag("x"))
    with pytest.raises(ValidationError, match="failed"):
        uow.rollback()


async def test_commit_inside_the_block_is_not_repeated_on_exit(dynamorm_db):
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            uow.put(Tag("t1"))
            await uow.commit()
    assert operations(sent) == ["BatchWriteItem"]
    assert uow.state is State.COMMITTED


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_at_most_concurrency_requests_are_in_flight(dynamorm_db, concurrency):
    db = dynamorm_db
    original = db.transport.call
    in_flight = []
    peak = []

    async def call(operation, request, **kwargs):
        in_flight.append(operation)
        peak.append(len(in_flight))
        try:
            await asyncio.sleep(0.01)  # let the others start, if they may
            return await original(operation, request, **kwargs)
        finally:
            in_flight.pop()

    db.transport.call = call
    try:
        async with db.unit_of_work(concurrency=concurrency) as uow:
            for i in range(200):  # 8 chunks
                uow.put(Tag(f"t{i}"))
            for i in range(4):  # and single calls
                uow.create(Tag(f"c{i}"))
    finally:
        del db.transport.call
    assert len(peak) == 12
    assert max(peak) == concurrency
    assert await count_items(db, tags) == 204


async def test_concurrency_must_be_a_positive_int(dynamorm_db):
    with pytest.raises(ValidationError, match="concurrency"):
        dynamorm_db.unit_of_work(concurrency=0)


# --- keys alone --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda uow: uow.delete("k1"),
        lambda uow: uow.delete(("s", 1)),
        lambda uow: uow.delete({"id": "k1"}),
        lambda uow: uow.update("k1", set={"label": "x"}),
        lambda uow: uow.update(None, set={"label": "x"}),
    ],
    ids=["str", "tuple", "dict", "update-str", "none"],
)
async def test_a_key_alone_needs_mapper(dynamorm_db, write):
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            with pytest.raises(ValidationError, match="pass mapper="):
                write(uow)
            assert len(uow) == 0
    assert sent == []


async def test_keys_with_mapper_are_written(dynamorm_db, tag_repo):
    await tag_repo.put(Tag("k1", "x"))
    await tag_repo.put(Tag("k2", "x"))
    await dynamorm_db.repository(events).put(Event("s", 1))
    async with dynamorm_db.unit_of_work() as uow:
        uow.delete("k1", mapper=tags)
        uow.delete({"stream": "s", "seq": 1}, mapper=events)
        uow.update({"id": "k2"}, set={"label": "y"}, mapper=tags)
    assert await tag_repo.get("k1") is None
    assert await tag_repo.get("k2") == Tag("k2", "y")
    assert await count_items(dynamorm_db, events) == 0


# --- failures ----------------------------------------------------------------------------------


async def test_failing_create_is_reported_others_applied_then_retried(dynamorm_db, tag_repo):
    await tag_repo.put(Tag("dup", "old"))
    await tag_repo.put(Tag("c1", "counter", 1))

    def writes(uow):
        uow.create(Tag("dup", "new"))
        uow.put(Tag("ok1"))
        uow.put(Event("s", 1))
        uow.update("c1", add={"count": 1}, mapper=tags)

    uow = dynamorm_db.unit_of_work()
    with pytest.raises(UnitOfWorkError) as info:
        await run_writes(uow, writes)
    error = info.value
    assert uow.state is State.FAILED
    (failure,) = error.failures
    assert failure.operation == "PutItem"
    assert failure.table == tag_repo.table
    assert failure.key == {"id": "dup"}
    assert isinstance(failure.error, ItemAlreadyExists)
    assert failure.error.item == Tag("dup", "old")
    assert error.applied == 3
    assert "1 write(s) of the unit of work failed, 3 applied" in str(error)
    assert await tag_repo.get("dup") == Tag("dup", "old")
    assert await tag_repo.get("ok1") == Tag("ok1")
    assert await tag_repo.get("c1") == Tag("c1", "counter", 2)
    assert await dynamorm_db.repository(events).get(("s", 1)) == Event("s", 1)

    await tag_repo.delete("dup")  # the conflict goes away
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as again:
            again.retry(error)
    assert again.state is State.COMMITTED
    assert operations(sent) == ["PutItem"]  # only the failed write is sent again
    assert await tag_repo.get("dup") == Tag("dup", "new")
    assert await tag_repo.get("c1") == Tag("c1", "counter", 2)  # not added twice


async def test_retry_takes_a_list_of_failures(dynamorm_db, tag_repo):
    await tag_repo.put(Tag("dup", "old"))
    with pytest.raises(UnitOfWorkError) as info:
        await run_writes(dynamorm_db.unit_of_work(), lambda uow: uow.create(Tag("dup", "new")))
    await tag_repo.delete("dup")
    async with dynamorm_db.unit_of_work() as again:
        again.retry(list(info.value.failures))
    assert await tag_repo.get("dup") == Tag("dup", "new")


async def test_stale_versioned_put_is_reported_as_version_conflict(dynamorm_db, account_repo):
    loaded = await account_repo.put(Account("a1", 100))
    current = await account_repo.update(loaded, set={"balance": 50})

    def writes(uow):
        uow.put(Account("a1", 1, version=loaded.version))
        uow.put(Tag("t1"))

    with pytest.raises(UnitOfWorkError) as info:
        await run_writes(dynamorm_db.unit_of_work(), writes)
    (failure,) = info.value.failures
    assert isinstance(failure.error, VersionConflict)
    assert failure.error.item == current
    assert info.value.applied == 1
    assert await account_repo.get("a1") == current


async def test_failing_check_sends_nothing_else_and_reports_everything(dynamorm_db, tag_repo):
    await tag_repo.put(Tag("c1", "stock", 1))
    await tag_repo.put(Tag("c2", "stock", 9))
    await tag_repo.put(Tag("u1", "before"))
    before = await stored(dynamorm_db, tags)

    def writes(uow):
        uow.check(tags, "c1", attr("count") > 5)  # fails
        uow.check(tags, "c2", attr("count") > 5)  # holds
        uow.put(Tag("n1"))
        uow.put(Event("s", 1))
        uow.update("u1", set={"label": "after"}, mapper=tags)
        uow.put(Tag("n2"), condition=attr("id").not_exists())
        uow.delete("u2", mapper=tags)

    uow = dynamorm_db.unit_of_work()
    with sent_requests(dynamorm_db) as sent, pytest.raises(UnitOfWorkError) as info:
        await run_writes(uow, writes)
    # Only the checks went out, each as a transaction of one action.
    assert operations(sent) == ["TransactWriteItems", "TransactWriteItems"]
    assert all(len(params["TransactItems"]) == 1 for _, params in sent)
    error = info.value
    assert uow.state is State.FAILED
    assert error.applied == 0
    by_key = {(f.operation, f.table, tuple(f.key.values())): f for f in error.failures}
    assert set(by_key) == {
        ("ConditionCheck", tag_repo.table, ("c1",)),
        ("PutItem", tag_repo.table, ("n1",)),
        ("PutItem", dynamorm_db.table_name(events), ("s", "1")),
        ("UpdateItem", tag_repo.table, ("u1",)),
        ("PutItem", tag_repo.table, ("n2",)),
        ("DeleteItem", tag_repo.table, ("u2",)),
    }
    assert len(error.failures) == 6
    check = by_key[("ConditionCheck", tag_repo.table, ("c1",))].error
    assert isinstance(check, TransactionCanceled)
    (reason,) = check.failed
    assert reason.code == "ConditionalCheckFailed"
    assert reason.operation == "ConditionCheck"
    assert reason.item == Tag("c1", "stock", 1)
    skipped = [f for f in error.failures if f.operation != "ConditionCheck"]
    assert all(isinstance(f.error, ValidationError) for f in skipped)
    assert all("a check of this unit of work failed" in str(f.error) for f in skipped)
    assert await stored(dynamorm_db, tags) == before
    assert await count_items(dynamorm_db, events) == 0

    await tag_repo.update("c1", set={"count": 10})  # now the check holds
    async with dynamorm_db.unit_of_work() as again:
        again.retry(error)
    assert await tag_repo.get("n1") == Tag("n1")
    assert await tag_repo.get("u1") == Tag("u1", "after")
    assert await dynamorm_db.repository(events).get(("s", 1)) == Event("s", 1)


async def test_passing_checks_let_the_writes_go(dynamorm_db, tag_repo):
    await tag_repo.put(Tag("c1", "stock", 9))
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            uow.check(tags, "c1", attr("count") > 5)
            uow.put(Tag("n1"))
    assert operations(sent) == ["TransactWriteItems", "BatchWriteItem"]
    assert uow.state is State.COMMITTED
    assert await tag_repo.get("n1") == Tag("n1")
    assert await tag_repo.get("c1") == Tag("c1", "stock", 9)  # a check writes nothing


@pytest.mark.parametrize("attempts", [0, -1])
def test_attempts_must_be_a_positive_int(dynamorm_db, attempts):
    with pytest.raises(ValidationError, match="attempts"):
        dynamorm_db.unit_of_work(attempts=attempts)
