"""`db.schema` diff, update, ensure, index steps and dry runs against the embedded server."""

from __future__ import annotations

import contextlib
from typing import Any

import attrs
import pytest

from dynamorm_async import (
    GlobalIndex,
    LocalIndex,
    Mapper,
    MappingError,
    SchemaMismatch,
    TableOptions,
    Throughput,
    ValidationError,
)
from dynamorm_async.db import SchemaDiff, create_table_request
from dynamorm_async.db._schema_plan import gsi_create_request
from dynamorm_async.errors import DynamoDBError, TableNotFound
from dynamorm_async.transport import RecordingTransport


@attrs.define
class Widget:
    id: str
    color: str = "red"
    size: int = 0
    owner: str = ""
    expires: int | None = None
    deadline: int | None = None


BY_COLOR = GlobalIndex("by-color", partition_key="color", sort_key="size")
BY_OWNER = GlobalIndex("by-owner", partition_key="owner", projection="KEYS_ONLY")


def widgets(
    *indexes: GlobalIndex | LocalIndex,
    options: TableOptions | None = None,
    ttl: str | None = None,
    partition_key: str = "id",
) -> Mapper[Widget]:
    """A model of the one table these tests use, as it changes from test to test."""
    return Mapper(
        Widget,
        table="widgets",
        partition_key=partition_key,
        indexes=list(indexes),
        options=options,
        ttl_attribute=ttl,
    )


def provisioned(read: int = 5, write: int = 5, **indexes: Throughput) -> TableOptions:
    return TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(read, write),
        index_throughput={name.replace("_", "-"): units for name, units in indexes.items()},
    )


@pytest.fixture
def dynamorm_mappers():
    return []  # each test creates what it needs


@pytest.fixture
async def db(dynamorm_db):
    """`dynamorm_db`, whose tables are all deleted afterwards (even protected ones)."""
    yield dynamorm_db
    prefix = dynamorm_db.table_name(widgets()).removesuffix("widgets")
    client = dynamorm_db.client
    for name in (await client.list_tables())["TableNames"]:
        if name.startswith(prefix):
            with contextlib.suppress(Exception):
                await client.update_table(TableName=name, DeletionProtectionEnabled=False)
            with contextlib.suppress(TableNotFound):
                await client.delete_table(TableName=name)


def kinds(diff: SchemaDiff) -> list[tuple[str, str, str]]:
    return [(c.severity, c.kind, c.subject) for c in diff.changes]


async def gsis(db, mapper: Mapper[Any]) -> dict[str, dict[str, Any]]:
    table = await db.schema.describe(mapper)
    return {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes") or ()}


async def ttl_of(db, mapper: Mapper[Any]) -> dict[str, Any]:
    response = await db.client.describe_time_to_live(TableName=db.table_name(mapper))
    return response["TimeToLiveDescription"]


def units(spec: dict[str, Any]) -> tuple[int, int]:
    throughput = spec["ProvisionedThroughput"]
    return throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]


# --- create, then diff ------------------------------------------------------------------


@pytest.mark.moto_only
async def test_moto_forgets_earlier_key_definitions_on_add_index_yet_diff_is_empty(db):
    # moto replaces AttributeDefinitions with UpdateTable's: the keys of by-owner lose
    # their types once by-color is added. compare takes a missing type as the model's.
    await db.schema.create(widgets(BY_OWNER))
    mapper = widgets(BY_OWNER, BY_COLOR)
    await db.schema.update(mapper)
    table = await db.schema.describe(mapper)
    defined = {d["AttributeName"] for d in table["AttributeDefinitions"]}
    assert defined == {"id", "color", "size"}  # no "owner"
    assert set(await gsis(db, mapper)) == {"by-color", "by-owner"}
    assert not await db.schema.diff(mapper)
    assert await db.schema.ensure(mapper) is False


async def test_created_table_has_an_empty_diff(db):
    mapper = widgets(BY_COLOR, BY_OWNER)
    await db.schema.create(mapper)
    diff = await db.schema.diff(mapper)
    assert not diff
    assert diff.table == db.table_name(mapper)
    assert str(diff) == f"{db.table_name(mapper)}: up to date"
    assert await db.schema.update(mapper) == SchemaDiff(diff.table, ())


@pytest.mark.not_on_dynamodb_local(
    "no tagging: CreateTable drops Tags, ListTagsOfResource is unknown"
)
async def test_created_table_with_options_has_an_empty_diff(db):
    options = TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(4, 3),
        index_throughput={"by-owner": Throughput(2, 1)},
        stream="NEW_AND_OLD_IMAGES",
        tags={"env": "test", "team": "data"},
        deletion_protection=True,
    )
    mapper = widgets(BY_COLOR, BY_OWNER, options=options, ttl="expires")
    await db.schema.create(mapper)
    assert not await db.schema.diff(mapper)
    table = await db.schema.describe(mapper)
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert units(table) == (4, 3)
    indexes = await gsis(db, mapper)
    assert units(indexes["by-color"]) == (4, 3)  # the table's
    assert units(indexes["by-owner"]) == (2, 1)
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["DeletionProtectionEnabled"] is True
    assert await ttl_of(db, mapper) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    tags = await db.client.list_tags_of_resource(ResourceArn=table["TableArn"])
    assert {t["Key"]: t["Value"] for t in tags["Tags"]} == {"env": "test", "team": "data"}


async def test_diff_of_a_missing_table_is_its_creation(db):
    mapper = widgets(BY_COLOR, ttl="expires")
    diff = await db.schema.diff(mapper)
    assert kinds(diff) == [("safe", "create_table", "table")]
    assert [c.operation for c in diff.changes[0].calls] == ["CreateTable", "UpdateTimeToLive"]
    # update creates a missing table.
    applied = await db.schema.update(mapper)
    assert kinds(applied) == [("safe", "create_table", "table")]
    assert await db.schema.exists(mapper)
    assert (await ttl_of(db, mapper))["TimeToLiveStatus"] == "ENABLED"
    assert not await db.schema.diff(mapper)


# --- global indexes -----------------------------------------------------------------------


async def test_update_adds_a_new_global_index_that_is_then_queryable(db):
    await db.schema.create(widgets())
    mapper = widgets(BY_COLOR)
    diff = await db.schema.diff(mapper)
    assert kinds(diff) == [("safe", "add_index", "index by-color")]
    [call] = diff.changes[0].calls
    assert call.operation == "UpdateTable"
    assert call.request == gsi_create_request(mapper, diff.table, BY_COLOR)

    applied = await db.schema.update(mapper)
    assert applied.changes == diff.changes
    assert not await db.schema.diff(mapper)
    index = (await gsis(db, mapper))["by-color"]
    assert index["IndexStatus"] == "ACTIVE"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("color", "HASH"),
        ("size", "RANGE"),
    ]

    repo = db.repository(mapper)
    await repo.put(Widget("w1", color="blue", size=3))
    await repo.put(Widget("w2", color="blue", size=1))
    await repo.put(Widget("w3", color="green", size=2))
    found = await repo.where("color", "=", "blue").index("by-color").all()
    assert [w.id for w in found] == ["w2", "w1"]
    response = await db.client.query(
        TableName=repo.table,
        IndexName="by-color",
        KeyConditionExpression="color = :c",
        ExpressionAttributeValues={":c": {"S": "green"}},
    )
    assert [item["id"]["S"] for item in response["Items"]] == ["w3"]


async def test_extra_global_index_is_dropped_only_with_drop_indexes(db):
    await db.schema.create(widgets(BY_COLOR, BY_OWNER))
    mapper = widgets(BY_COLOR)
    diff = await db.schema.diff(mapper)
    assert kinds(diff) == [("safe", "drop_index", "index by-owner")]

    applied = await db.schema.update(mapper)
    assert not applied  # nothing applied for the extra index
    assert set(await gsis(db, mapper)) == {"by-color", "by-owner"}
    assert kinds(await db.schema.diff(mapper)) == [("safe", "drop_index", "index by-owner")]

    applied = await db.schema.update(mapper, drop_indexes=True)
    assert kinds(applied) == [("safe", "drop_index", "index by-owner")]
    assert set(await gsis(db, mapper)) == {"by-color"}
    assert not await db.schema.diff(mapper)


async def test_update_with_drop_indexes_false_still_applies_the_other_changes(db):
    await db.schema.create(widgets(BY_OWNER))
    mapper = widgets(BY_COLOR, options=TableOptions(stream="KEYS_ONLY"))
    applied = await db.schema.update(mapper)
    assert sorted(c.kind for c in applied.changes) == ["add_index", "stream"]
    assert set(await gsis(db, mapper)) == {"by-color", "by-owner"}
    assert kinds(await db.schema.diff(mapper)) == [("safe", "drop_index", "index by-owner")]


async def test_add_drop_and_replace_index(db):
    await db.schema.create(widgets())
    with_index = widgets(BY_COLOR)
    await db.schema.add_index(with_index, "by-color")
    assert set(await gsis(db, with_index)) == {"by-color"}
    assert not await db.schema.diff(with_index)

    # The index need not be in the model to be dropped.
    await db.schema.drop_index(widgets(), "by-color")
    assert await gsis(db, with_index) == {}
    assert not await db.schema.diff(widgets())

    keys_only = widgets(GlobalIndex("by-color", partition_key="color", projection="KEYS_ONLY"))
    await db.schema.add_index(keys_only, "by-color")
    diff = await db.schema.diff(with_index)
    assert kinds(diff) == [("data", "replace_index", "index by-color")]
    await db.schema.replace_index(with_index, "by-color")
    assert not await db.schema.diff(with_index)
    index = (await gsis(db, with_index))["by-color"]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert len(index["KeySchema"]) == 2


async def test_add_index_needs_a_global_index_of_the_model(db):
    await db.schema.create(widgets())
    with pytest.raises(MappingError, match="no global index 'by-nothing'"):
        await db.schema.add_index(widgets(BY_COLOR), "by-nothing")
    assert await gsis(db, widgets()) == {}


# --- billing, stream, TTL, protection, tags ----------------------------------------------


async def test_billing_to_provisioned_throughput_and_back(db):
    await db.schema.create(widgets(BY_COLOR, BY_OWNER))
    mapper = widgets(BY_COLOR, BY_OWNER, options=provisioned(6, 4, by_owner=Throughput(2, 2)))
    assert kinds(await db.schema.diff(mapper)) == [("safe", "billing", "table")]
    applied = await db.schema.update(mapper)
    assert [c.kind for c in applied.changes] == ["billing"]
    table = await db.schema.describe(mapper)
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert units(table) == (6, 4)
    indexes = await gsis(db, mapper)
    assert units(indexes["by-color"]) == (6, 4)
    assert units(indexes["by-owner"]) == (2, 2)
    assert not await db.schema.diff(mapper)

    # by-color has no throughput of its own: it follows the table's.
    more = widgets(BY_COLOR, BY_OWNER, options=provisioned(9, 4, by_owner=Throughput(3, 2)))
    assert kinds(await db.schema.diff(more)) == [
        ("safe", "throughput", "table"),
        ("safe", "throughput", "index by-color"),
        ("safe", "throughput", "index by-owner"),
    ]
    await db.schema.update(more)
    assert units(await db.schema.describe(more)) == (9, 4)
    indexes = await gsis(db, more)
    assert units(indexes["by-color"]) == (9, 4)
    assert units(indexes["by-owner"]) == (3, 2)
    assert not await db.schema.diff(more)

    on_demand = widgets(BY_COLOR, BY_OWNER)
    assert kinds(await db.schema.diff(on_demand)) == [("safe", "billing", "table")]
    await db.schema.update(on_demand)
    table = await db.schema.describe(on_demand)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert not await db.schema.diff(on_demand)


async def test_new_index_of_a_table_turning_provisioned(db):
    await db.schema.create(widgets(BY_OWNER))
    mapper = widgets(BY_COLOR, BY_OWNER, options=provisioned(5, 5))
    diff = await db.schema.diff(mapper)
    assert kinds(diff) == [("safe", "billing", "table"), ("safe", "add_index", "index by-color")]
    await db.schema.update(mapper)
    assert not await db.schema.diff(mapper)
    assert units((await gsis(db, mapper))["by-color"]) == (5, 5)


async def test_stream_enable_and_disable(db):
    await db.schema.create(widgets())
    streamed = widgets(options=TableOptions(stream="NEW_IMAGE"))
    applied = await db.schema.update(streamed)
    assert kinds(applied) == [("safe", "stream", "table")]
    table = await db.schema.describe(streamed)
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert "LatestStreamArn" in table
    assert not await db.schema.diff(streamed)

    applied = await db.schema.update(widgets())
    assert kinds(applied) == [("safe", "stream", "table")]
    assert "StreamSpecification" not in await db.schema.describe(widgets())
    assert not await db.schema.diff(widgets())


async def test_stream_view_change_is_planned_as_disable_then_enable(db):
    await db.schema.create(widgets(options=TableOptions(stream="KEYS_ONLY")))
    mapper = widgets(options=TableOptions(stream="NEW_AND_OLD_IMAGES"))
    [change] = (await db.schema.diff(mapper)).changes
    assert (change.kind, change.live, change.wanted) == (
        "stream",
        "KEYS_ONLY",
        "NEW_AND_OLD_IMAGES",
    )
    assert [c.request["StreamSpecification"] for c in change.calls] == [
        {"StreamEnabled": False},
        {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    ]


@pytest.mark.moto_only
async def test_moto_refuses_to_enable_a_stream_again_so_a_view_change_stops_halfway(db):
    # moto keeps the table's LatestStreamLabel after a stream is disabled and refuses
    # any later StreamEnabled (ResourceInUseException "Cannot enable stream"); DynamoDB
    # allows it. The view change's first call (disable) is applied, the second fails.
    await db.schema.create(widgets(options=TableOptions(stream="KEYS_ONLY")))
    mapper = widgets(options=TableOptions(stream="NEW_AND_OLD_IMAGES"))
    with pytest.raises(DynamoDBError) as info:
        await db.schema.update(mapper)
    assert info.value.code == "ResourceInUseException"
    assert "Cannot enable stream" in str(info.value)
    assert "StreamSpecification" not in await db.schema.describe(mapper)
    [change] = (await db.schema.diff(mapper)).changes
    assert (change.kind, change.live, change.wanted) == ("stream", None, "NEW_AND_OLD_IMAGES")


async def test_ttl_enable_move_and_disable(db):
    await db.schema.create(widgets())
    expiring = widgets(ttl="expires")
    assert kinds(await db.schema.diff(expiring)) == [("safe", "ttl", "table")]
    applied = await db.schema.update(expiring)
    assert kinds(applied) == [("safe", "ttl", "table")]
    assert await ttl_of(db, expiring) == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    assert not await db.schema.diff(expiring)

    # A move is two changes an hour apart on DynamoDB: update refuses it...
    moved = widgets(ttl="deadline")
    [change] = (await db.schema.diff(moved)).changes
    assert (change.severity, change.kind, change.live, change.wanted) == (
        "data",
        "ttl",
        "expires",
        "deadline",
    )
    with pytest.raises(SchemaMismatch):
        await db.schema.update(moved)
    assert (await ttl_of(db, moved))["AttributeName"] == "expires"

    # ...and it is done as TTL off, then (later) on for the other attribute.
    await db.schema.update(widgets())
    assert (await ttl_of(db, moved))["TimeToLiveStatus"] == "DISABLED"
    assert not await db.schema.diff(widgets())
    await db.schema.update(moved)
    assert await ttl_of(db, moved) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "deadline"}
    assert not await db.schema.diff(moved)


async def test_deletion_protection_on_refuses_delete_then_off(db):
    await db.schema.create(widgets())
    protected = widgets(options=TableOptions(deletion_protection=True))
    applied = await db.schema.update(protected)
    assert kinds(applied) == [("safe", "deletion_protection", "table")]
    assert (await db.schema.describe(protected))["DeletionProtectionEnabled"] is True
    assert not await db.schema.diff(protected)

    # DynamoDB (and moto) answer ValidationException: the library's ValidationError.
    with pytest.raises(ValidationError) as info:
        await db.schema.delete(protected)
    assert "protect" in str(info.value).lower()  # moto and DynamoDB word it differently
    assert info.value.operation == "DeleteTable"
    assert await db.schema.exists(protected)

    applied = await db.schema.update(widgets())
    assert kinds(applied) == [("safe", "deletion_protection", "table")]
    assert (await db.schema.describe(widgets()))["DeletionProtectionEnabled"] is False
    await db.schema.delete(widgets())
    assert not await db.schema.exists(widgets())


@pytest.mark.not_on_dynamodb_local("no tagging (TagResource is unknown)")
async def test_tags_are_added_and_extra_live_tags_ignored(db):
    await db.schema.create(widgets())
    arn = (await db.schema.describe(widgets()))["TableArn"]
    await db.client.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "owner", "Value": "ops"}, {"Key": "env", "Value": "dev"}]
    )
    tagged = widgets(options=TableOptions(tags={"env": "test", "team": "data"}))
    [change] = (await db.schema.diff(tagged)).changes
    assert (change.kind, change.live, change.wanted) == (
        "tags",
        {"env": "dev"},
        {"env": "test", "team": "data"},
    )
    applied = await db.schema.update(tagged)
    assert kinds(applied) == [("safe", "tags", "table")]
    listed = await db.client.list_tags_of_resource(ResourceArn=arn)
    assert {t["Key"]: t["Value"] for t in listed["Tags"]} == {
        "env": "test",
        "team": "data",
        "owner": "ops",  # not the model's: left alone
    }
    assert not await db.schema.diff(tagged)
    assert not await db.schema.diff(widgets())  # a model without tags ignores them all


# --- update refuses data and breaking changes ------------------------------------------


@pytest.mark.parametrize(
    ("model", "severity", "kind"),
    [
        (
            widgets(
                GlobalIndex("by-color", partition_key="color", projection="KEYS_ONLY"),
                options=TableOptions(stream="NEW_IMAGE"),
            ),
            "data",
            "replace_index",
        ),
        (
            widgets(BY_COLOR, partition_key="owner", options=TableOptions(stream="NEW_IMAGE")),
            "breaking",
            "key_schema",
        ),
    ],
    ids=["data", "breaking"],
)
async def test_update_refuses_unsafe_changes_before_sending_anything(db, model, severity, kind):
    await db.schema.create(widgets(BY_COLOR))
    before = await db.schema.describe(widgets())
    diff = await db.schema.diff(model)
    assert ("safe", "stream", "table") in kinds(diff)  # a safe change too: not applied either
    with pytest.raises(SchemaMismatch) as info:
        await db.schema.update(model)
    exc = info.value
    assert isinstance(exc, MappingError)
    assert exc.operation == "update"
    assert exc.table == db.table_name(model)
    assert [(c.severity, c.kind) for c in exc.changes] == [(severity, kind)]
    assert kind.replace("_", " ") in str(exc)
    assert await db.schema.describe(widgets()) == before
    with pytest.raises(SchemaMismatch):
        await db.schema.update(model, drop_indexes=True)
    assert await db.schema.describe(widgets()) == before


# --- ensure ------------------------------------------------------------------------------


async def test_ensure_creates_when_missing_then_accepts_the_table(db):
    mapper = widgets(BY_COLOR, ttl="expires")
    assert await db.schema.ensure(mapper) is True
    assert await db.schema.exists(mapper)
    assert (await ttl_of(db, mapper))["TimeToLiveStatus"] == "ENABLED"
    assert not await db.schema.diff(mapper)
    assert await db.schema.ensure(mapper) is False


async def test_ensure_raises_on_a_key_change(db):
    await db.schema.create(widgets())
    with pytest.raises(SchemaMismatch) as info:
        await db.schema.ensure(widgets(partition_key="owner"))
    assert isinstance(info.value, MappingError)
    assert info.value.operation == "ensure"
    assert [c.kind for c in info.value.changes] == ["key_schema"]
    assert "key schema" in str(info.value)


async def test_ensure_raises_on_a_missing_global_index(db):
    await db.schema.create(widgets())
    before = await db.schema.describe(widgets())
    with pytest.raises(SchemaMismatch) as info:
        await db.schema.ensure(widgets(BY_COLOR, options=TableOptions(stream="NEW_IMAGE")))
    # Only what blocks the model's reads and writes; the stream is left to update.
    assert [(c.kind, c.subject) for c in info.value.changes] == [("add_index", "index by-color")]
    assert await db.schema.describe(widgets()) == before  # never altered here


async def test_ensure_ignores_billing_and_other_settings(db):
    await db.schema.create(widgets(BY_COLOR, BY_OWNER))
    mapper = widgets(
        BY_COLOR,
        options=TableOptions(
            billing_mode="PROVISIONED",
            throughput=Throughput(5, 5),
            stream="NEW_IMAGE",
            deletion_protection=True,
        ),
    )
    assert await db.schema.ensure(mapper) is False
    table = await db.schema.describe(mapper)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "StreamSpecification" not in table
    assert set(await gsis(db, mapper)) == {"by-color", "by-owner"}  # extra index: fine
    assert {c.kind for c in (await db.schema.diff(mapper)).changes} == {
        "billing",
        "stream",
        "deletion_protection",
        "drop_index",
    }


# --- dry runs ----------------------------------------------------------------------------


async def test_dry_run_update_records_calls_and_changes_nothing(db):
    await db.schema.create(widgets())
    before = await db.schema.describe(widgets())
    mapper = widgets(BY_COLOR, options=TableOptions(stream="NEW_IMAGE"), ttl="expires")
    diff = await db.schema.diff(mapper)

    view = db.dry_run()
    assert isinstance(view.transport, RecordingTransport)
    assert not isinstance(db.transport, RecordingTransport)
    applied = await view.schema.update(mapper)
    assert applied.changes == diff.changes
    expected = [(c.operation, dict(c.request)) for change in diff.changes for c in change.calls]
    assert view.transport.calls == expected
    assert [operation for operation, _ in view.transport.calls] == [
        "UpdateTable",  # stream
        "UpdateTable",  # add by-color
        "UpdateTimeToLive",
    ]
    assert await db.schema.describe(widgets()) == before
    assert (await ttl_of(db, mapper))["TimeToLiveStatus"] == "DISABLED"
    assert await db.schema.diff(mapper) == diff


async def test_dry_run_create_of_a_missing_table(db):
    mapper = widgets(BY_COLOR, ttl="expires")
    view = db.dry_run()
    await view.schema.create(mapper)
    name = db.table_name(mapper)
    assert view.transport.calls == [
        ("CreateTable", create_table_request(mapper, name)),
        (
            "UpdateTimeToLive",
            {
                "TableName": name,
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"},
            },
        ),
    ]
    assert not await db.schema.exists(mapper)
    assert name not in (await db.client.list_tables())["TableNames"]
    # In the view, the table reads as new and empty.
    assert await view.schema.exists(mapper)
    table = await view.schema.describe(mapper)
    assert (table["TableName"], table["TableStatus"], table["ItemCount"]) == (name, "ACTIVE", 0)
    assert [i["IndexStatus"] for i in table["GlobalSecondaryIndexes"]] == ["ACTIVE"]
    assert await view.repository(mapper).scan().all() == []
    # ensure, in the view, sees the recorded table and sends nothing more.
    assert await view.schema.ensure(mapper) is False
    assert len(view.transport.calls) == 2


async def test_dry_run_create_of_a_provisioned_table_then_diff_is_empty(db):
    mapper = widgets(BY_COLOR, options=provisioned(2, 2))
    view = db.dry_run()
    await view.schema.create(mapper)
    assert not await view.schema.diff(mapper)


async def test_dry_run_create_of_an_on_demand_table_then_diff_is_empty(db):
    mapper = widgets(BY_COLOR)
    view = db.dry_run()
    await view.schema.create(mapper)
    assert not await view.schema.diff(mapper)
    await view.schema.update(mapper)
    assert [operation for operation, _ in view.transport.calls] == ["CreateTable"]


async def test_dry_run_create_with_ttl_then_diff_is_empty(db):
    mapper = widgets(options=provisioned(1, 1), ttl="expires")  # provisioned: see above
    view = db.dry_run()
    await view.schema.create(mapper)
    assert not await view.schema.diff(mapper)


async def test_dry_run_create_with_sse_class_and_tags_then_diff_is_empty(db):
    options = TableOptions(
        billing_mode="PROVISIONED",  # see above
        throughput=Throughput(1, 1),
        sse_kms_key="alias/aws/dynamodb",
        table_class="STANDARD_INFREQUENT_ACCESS",
        tags={"env": "test"},
    )
    mapper = widgets(options=options)
    view = db.dry_run()
    await view.schema.create(mapper)
    assert not await view.schema.diff(mapper)


async def test_dry_run_delete_and_index_steps_change_nothing(db):
    await db.schema.create(widgets(BY_OWNER))
    before = await db.schema.describe(widgets())
    view = db.dry_run()
    await view.schema.add_index(widgets(BY_COLOR), "by-color")
    await view.schema.drop_index(widgets(), "by-owner")
    await view.schema.delete(widgets())
    assert [operation for operation, _ in view.transport.calls] == [
        "UpdateTable",
        "UpdateTable",
        "DeleteTable",
    ]
    assert await db.schema.describe(widgets()) == before


# --- what moto does not do ------------------------------------------------------------


@pytest.mark.moto_only
async def test_moto_ignores_update_table_sse_and_table_class_so_diff_still_reports_them(db):
    # Documents docs/guide/schema.md "Local servers": moto accepts UpdateTable's
    # SSESpecification and TableClass but applies neither. DynamoDB applies them.
    await db.schema.create(widgets())
    mapper = widgets(
        options=TableOptions(
            sse_kms_key="alias/aws/dynamodb", table_class="STANDARD_INFREQUENT_ACCESS"
        )
    )
    wanted = [("safe", "sse", "table"), ("safe", "table_class", "table")]
    assert kinds(await db.schema.diff(mapper)) == wanted
    applied = await db.schema.update(mapper)  # accepted, without an error
    assert kinds(applied) == wanted
    table = await db.schema.describe(mapper)
    assert "SSEDescription" not in table
    assert "TableClassSummary" not in table
    assert kinds(await db.schema.diff(mapper)) == wanted


@pytest.mark.moto_only
async def test_moto_applies_sse_at_create_table_but_never_a_table_class(db):
    # At CreateTable moto keeps SSESpecification (and reports the key id given as the
    # KMSMasterKeyArn) but still ignores TableClass: no TableClassSummary, ever.
    mapper = widgets(
        options=TableOptions(
            sse_kms_key="alias/aws/dynamodb", table_class="STANDARD_INFREQUENT_ACCESS"
        )
    )
    await db.schema.create(mapper)
    table = await db.schema.describe(mapper)
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert "TableClassSummary" not in table
    assert kinds(await db.schema.diff(mapper)) == [("safe", "table_class", "table")]
