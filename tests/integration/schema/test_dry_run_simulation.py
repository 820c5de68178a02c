"""A dry run reads what its own earlier steps would have made of existing tables."""

from __future__ import annotations

import contextlib

import attrs
import pytest

from dynamorm_async import GlobalIndex, Mapper, TableOptions


@attrs.define
class Gadget:
    id: str
    kind: str = ""
    expires: int | None = None


PLAIN = Mapper(Gadget, table="gadgets", partition_key="id")
INDEXED = Mapper(
    Gadget, table="gadgets", partition_key="id", indexes=[GlobalIndex("by-kind", "kind")]
)
FULL = Mapper(
    Gadget,
    table="gadgets",
    partition_key="id",
    indexes=[GlobalIndex("by-kind", "kind")],
    ttl_attribute="expires",
    options=TableOptions(stream="NEW_IMAGE", tags={"team": "a"}, deletion_protection=True),
)


@pytest.fixture
def dynamorm_mappers():
    return []


@pytest.fixture
async def db(dynamorm_db):
    yield dynamorm_db
    name = dynamorm_db.table_name(PLAIN)
    with contextlib.suppress(Exception):  # the table may be missing
        await dynamorm_db.client.update_table(TableName=name, DeletionProtectionEnabled=False)
    with contextlib.suppress(Exception):
        await dynamorm_db.client.delete_table(TableName=name)


@pytest.mark.not_on_dynamodb_local("no tagging (ListTagsOfResource is unknown)")
async def test_an_update_of_an_existing_table_then_diff_in_the_same_dry_run_is_empty(db):
    await db.schema.create(PLAIN)
    before = await db.schema.describe(PLAIN)
    view = db.dry_run()
    applied = await view.schema.update(FULL)
    assert {c.kind for c in applied.changes} == {
        "add_index",
        "stream",
        "ttl",
        "tags",
        "deletion_protection",
    }
    # The view sees the table as the recorded calls leave it...
    assert not await view.schema.diff(FULL)
    assert (await view.schema.describe(FULL))["StreamSpecification"]["StreamViewType"] == (
        "NEW_IMAGE"
    )
    # ...the real table is as it was, and its data is still read for real.
    assert await db.schema.describe(PLAIN) == before
    assert await db.schema.diff(PLAIN) == await db.schema.diff(PLAIN, options=None)
    await db.repository(PLAIN).put(Gadget("g1"))
    assert await view.repository(PLAIN).get("g1") == Gadget("g1")


@pytest.mark.not_on_dynamodb_local("no tagging (ListTagsOfResource is unknown)")
async def test_dropping_an_index_and_untagging_are_simulated(db):
    await db.schema.create(FULL)
    view = db.dry_run()
    await view.schema.drop_index(FULL, "by-kind")
    assert "GlobalSecondaryIndexes" not in await view.schema.describe(FULL)
    arn = (await db.schema.describe(FULL))["TableArn"]
    await view.transport.call("UntagResource", {"ResourceArn": arn, "TagKeys": ["team"]})
    assert (await view.schema.live(FULL)).tags == {}
    assert (await db.schema.live(FULL)).tags == {"team": "a"}  # the real tags are kept


async def test_a_table_deleted_in_the_dry_run_reads_as_missing(db):
    await db.schema.create(PLAIN)
    view = db.dry_run()
    await view.schema.delete(PLAIN)
    assert not await view.schema.exists(PLAIN)
    assert await db.schema.exists(PLAIN)
    assert [op for op, _ in view.transport.calls] == ["DeleteTable"]


async def test_a_table_created_in_the_dry_run_reads_as_empty(db):
    view = db.dry_run()
    await view.schema.create(INDEXED)
    repo = view.repository(INDEXED)
    assert await repo.get("nothing") is None
    assert await repo.scan().all() == []
    assert await repo.where("kind", "=", "x").all() == []
    assert await repo.batch_get(["a", "b"]) == [None, None]
    assert not await db.schema.exists(INDEXED)


async def test_changing_a_missing_table_records_the_call_only(db):
    view = db.dry_run()
    await view.schema.add_index(INDEXED, "by-kind")  # the real call would fail
    assert [op for op, _ in view.transport.calls] == ["UpdateTable"]
    assert not await view.schema.exists(INDEXED)
