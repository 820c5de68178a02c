"""Schema planning, without I/O: `create_table_request`, `TableOptions` and `compare`.

Live tables are written by hand, shaped as DynamoDB's DescribeTable returns them.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import attrs
import pytest

from dynamorm_async import (
    GlobalIndex,
    LocalIndex,
    Mapper,
    MappingError,
    Projection,
    TableOptions,
    Throughput,
)
from dynamorm_async.db import Call, Change, LiveTable, SchemaDiff, create_table_request
from dynamorm_async.db._schema_plan import compare, gsi_create_request

TABLE = "prod-orders"
ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"
KMS_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@attrs.define
class Order:
    customer: str
    number: int
    status: str = ""
    region: str = ""
    created_at: int = 0
    total: int = 0
    note: str = ""
    label: str = ""
    expires: int | None = None


FIELD_NAMES = {
    "created_at": "createdAt",
    "total": "orderTotal",
    "note": "orderNote",
    "expires": "expiresAt",
}
BY_STATUS = GlobalIndex("by-status", partition_key="status", sort_key="created_at")
BY_REGION = GlobalIndex(
    "by-region", partition_key="region", projection=Projection.include("total", "note")
)
BY_CREATED = LocalIndex(
    "by-created", sort_key="created_at", projection=Projection.include("note", "label")
)
PROVISIONED = TableOptions(billing_mode="PROVISIONED", throughput=Throughput(5, 5))


def orders(
    *,
    indexes: tuple[GlobalIndex | LocalIndex, ...] = (BY_STATUS, BY_REGION, BY_CREATED),
    options: TableOptions | None = None,
    ttl: str | None = None,
) -> Mapper[Order]:
    return Mapper(
        Order,
        table="orders",
        partition_key="customer",
        sort_key="number",
        field_names=FIELD_NAMES,
        indexes=list(indexes),
        ttl_attribute=ttl,
        options=options,
    )


@attrs.define
class Plain:
    id: str
    value: int = 0


plain = Mapper(Plain, table="plain", partition_key="id")


# --- live descriptions, as DynamoDB returns them ---------------------------------------


def _units(spec: dict[str, Any]) -> dict[str, int]:
    # On-demand tables and indexes report zero units; DynamoDB adds NumberOfDecreasesToday.
    given = spec.get("ProvisionedThroughput") or {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    return {"NumberOfDecreasesToday": 0, **given}


def described(request: dict[str, Any]) -> dict[str, Any]:
    """DescribeTable's ``Table`` for a table created by `request` (CreateTable)."""
    request = copy.deepcopy(request)
    name = request["TableName"]
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
    table: dict[str, Any] = {
        "AttributeDefinitions": request["AttributeDefinitions"],
        "TableName": name,
        "KeySchema": request["KeySchema"],
        "TableStatus": "ACTIVE",
        "CreationDateTime": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        "ProvisionedThroughput": _units(request),
        "TableSizeBytes": 0,
        "ItemCount": 0,
        "TableArn": arn,
        "TableId": "0b3e6e4a-0000-0000-0000-000000000000",
        "BillingModeSummary": {"BillingMode": request["BillingMode"]},
        "DeletionProtectionEnabled": request.get("DeletionProtectionEnabled", False),
    }
    if "GlobalSecondaryIndexes" in request:
        table["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["IndexName"],
                "KeySchema": index["KeySchema"],
                "Projection": index["Projection"],
                "IndexStatus": "ACTIVE",
                "ProvisionedThroughput": _units(index),
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{arn}/index/{index['IndexName']}",
            }
            for index in request["GlobalSecondaryIndexes"]
        ]
    if "LocalSecondaryIndexes" in request:
        table["LocalSecondaryIndexes"] = [
            {
                **index,
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{arn}/index/{index['IndexName']}",
            }
            for index in request["LocalSecondaryIndexes"]
        ]
    stream = request.get("StreamSpecification")
    if stream and stream["StreamEnabled"]:
        table["StreamSpecification"] = stream
        table["LatestStreamLabel"] = "2024-01-01T00:00:00.000"
        table["LatestStreamArn"] = f"{arn}/stream/2024-01-01T00:00:00.000"
    sse = request.get("SSESpecification")
    if sse and sse["Enabled"]:
        key = sse["KMSMasterKeyId"]
        table["SSEDescription"] = {
            "Status": "ENABLED",
            "SSEType": "KMS",
            "KMSMasterKeyArn": key if key.startswith("arn:") else KMS_ARN,
        }
    if "TableClass" in request:
        table["TableClassSummary"] = {"TableClass": request["TableClass"]}
    return table


def live_of(
    mapper: Mapper[Any],
    options: TableOptions | None = None,
    *,
    ttl: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> LiveTable:
    """The live table exactly as `mapper` (with `options`) would have created it."""
    options = options or mapper.options
    description = described(create_table_request(mapper, TABLE, options))
    if ttl is None:
        if mapper.ttl_attribute is None:
            ttl = {"TimeToLiveStatus": "DISABLED"}
        else:
            attribute = mapper.stored_name(mapper.ttl_attribute)
            ttl = {"TimeToLiveStatus": "ENABLED", "AttributeName": attribute}
    return LiveTable(description, ttl, dict(options.tags) if tags is None else tags)


def altered(live: LiveTable, **description: Any) -> LiveTable:
    """`live` with some keys of its description replaced (a value of None removes one)."""
    desc = copy.deepcopy(dict(live.description))
    for key, value in description.items():
        if value is None:
            desc.pop(key, None)
        else:
            desc[key] = value
    return LiveTable(desc, live.ttl, live.tags)


def gsi(live: LiveTable, name: str) -> dict[str, Any]:
    return next(i for i in live.description["GlobalSecondaryIndexes"] if i["IndexName"] == name)


def only(diff: SchemaDiff) -> Change:
    assert len(diff.changes) == 1, str(diff)
    return diff.changes[0]


def ops(calls: tuple[Call, ...] | None) -> list[tuple[str, dict[str, Any]]]:
    assert calls is not None
    return [(c.operation, dict(c.request)) for c in calls]


FULL = TableOptions(
    billing_mode="PROVISIONED",
    throughput=Throughput(read=10, write=4),
    index_throughput={"by-region": Throughput(read=3, write=2)},
    stream="NEW_AND_OLD_IMAGES",
    sse_kms_key="alias/aws/dynamodb",
    tags={"team": "data", "env": "prod"},
    deletion_protection=True,
    table_class="STANDARD_INFREQUENT_ACCESS",
)


# --- create_table_request -------------------------------------------------------------


def test_create_request_defaults_to_on_demand_with_nothing_else():
    assert create_table_request(plain, "t-plain") == {
        "TableName": "t-plain",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def test_create_request_with_every_option():
    request = create_table_request(orders(), TABLE, FULL)
    assert request == {
        "TableName": TABLE,
        "KeySchema": [
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "number", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "number", "AttributeType": "N"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "createdAt", "AttributeType": "N"},
            {"AttributeName": "region", "AttributeType": "S"},
        ],
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 4},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "createdAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
                # Not in index_throughput: the table's.
                "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 4},
            },
            {
                "IndexName": "by-region",
                "KeySchema": [{"AttributeName": "region", "KeyType": "HASH"}],
                # Stored names, sorted.
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["orderNote", "orderTotal"],
                },
                "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 2},
            },
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by-created",
                "KeySchema": [
                    {"AttributeName": "customer", "KeyType": "HASH"},
                    {"AttributeName": "createdAt", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["label", "orderNote"],
                },
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSESpecification": {
            "Enabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": "alias/aws/dynamodb",
        },
        # Sorted by key.
        "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "data"}],
        "DeletionProtectionEnabled": True,
        "TableClass": "STANDARD_INFREQUENT_ACCESS",
    }


def test_create_request_on_demand_indexes_have_no_throughput():
    request = create_table_request(orders(), TABLE)
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in request
    for index in request["GlobalSecondaryIndexes"]:
        assert "ProvisionedThroughput" not in index
    for absent in (
        "StreamSpecification",
        "SSESpecification",
        "Tags",
        "DeletionProtectionEnabled",
        "TableClass",
    ):
        assert absent not in request


def test_create_request_uses_the_mappers_options_unless_given_others():
    mapper = orders(options=FULL)
    assert create_table_request(mapper, TABLE) == create_table_request(orders(), TABLE, FULL)
    # Options at the call win over the mapper's.
    assert create_table_request(mapper, TABLE, TableOptions())["BillingMode"] == ("PAY_PER_REQUEST")


def test_create_request_with_an_explicit_default_table_class_omits_it():
    options = TableOptions(table_class="STANDARD", deletion_protection=False, stream=None)
    request = create_table_request(plain, "t", options)
    assert "TableClass" not in request
    assert "DeletionProtectionEnabled" not in request
    assert "StreamSpecification" not in request


@pytest.mark.parametrize("view", ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"])
def test_create_request_stream_views(view):
    request = create_table_request(plain, "t", TableOptions(stream=view))
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view}


def test_create_request_sse_with_a_key_arn():
    request = create_table_request(plain, "t", TableOptions(sse_kms_key=KMS_ARN))
    assert request["SSESpecification"] == {
        "Enabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": KMS_ARN,
    }


def test_gsi_create_request_covers_table_and_index_keys():
    mapper = orders(options=PROVISIONED)
    request = gsi_create_request(mapper, TABLE, BY_STATUS)
    assert request == {
        "TableName": TABLE,
        "AttributeDefinitions": [
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "number", "AttributeType": "N"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "createdAt", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexUpdates": [
            {
                "Create": {
                    "IndexName": "by-status",
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "createdAt", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                }
            }
        ],
    }
    on_demand = gsi_create_request(orders(), TABLE, BY_STATUS)
    assert "ProvisionedThroughput" not in on_demand["GlobalSecondaryIndexUpdates"][0]["Create"]


# --- TableOptions ---------------------------------------------------------------------


def test_table_options_defaults_are_dynamodbs():
    options = TableOptions()
    assert options.billing_mode == "PAY_PER_REQUEST"
    assert options.throughput is None
    assert options.index_throughput == ()
    assert options.stream is None
    assert options.sse_kms_key is None
    assert options.tags == ()
    assert options.deletion_protection is False
    assert options.table_class == "STANDARD"
    assert orders().options == TableOptions()


def test_table_options_tags_are_sorted_pairs():
    options = TableOptions(tags={"b": "2", "a": "1"})
    assert options.tags == (("a", "1"), ("b", "2"))
    assert options == TableOptions(tags={"a": "1", "b": "2"})
    assert TableOptions(tags={}).tags == ()
    assert TableOptions(tags={"k": ""}).tags == (("k", ""),)  # an empty value is allowed


def test_table_options_are_hashable_like_the_other_frozen_specs():
    assert hash(Throughput(1, 1)) == hash(Throughput(1, 1))
    options = TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(5, 5),
        index_throughput={"by-status": Throughput(1, 1)},
    )
    assert hash(options) == hash(attrs.evolve(options))
    assert hash(TableOptions()) == hash(TableOptions())


def test_index_capacity_falls_back_to_the_tables():
    options = TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(5, 5),
        index_throughput={"by-region": Throughput(1, 2)},
    )
    assert options.index_capacity("by-region") == Throughput(1, 2)
    assert options.index_capacity("by-status") == Throughput(5, 5)
    assert TableOptions().index_capacity("by-status") is None


def test_throughput_request():
    assert Throughput(read=3, write=7).request() == {
        "ReadCapacityUnits": 3,
        "WriteCapacityUnits": 7,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"billing_mode": "PROVISIONED"}, "needs throughput"),
        ({"throughput": Throughput(5, 5)}, "PROVISIONED"),
        ({"index_throughput": {"by-status": Throughput(1, 1)}}, "PROVISIONED"),
        ({"billing_mode": "ON_DEMAND"}, "billing_mode"),
        ({"billing_mode": "provisioned", "throughput": Throughput(1, 1)}, "billing_mode"),
        ({"stream": "NEW"}, "stream"),
        ({"stream": "new_image"}, "stream"),
        ({"stream": True}, "stream"),
        ({"table_class": "INFREQUENT_ACCESS"}, "table_class"),
        ({"table_class": None}, "table_class"),
        ({"tags": [("env", "prod")]}, "tags"),
        ({"tags": "env=prod"}, "tags"),
        ({"tags": {"": "x"}}, "tags"),
        ({"tags": {"env": 1}}, "tags"),
        ({"tags": {1: "x"}}, "tags"),
        ({"tags": {"env": None}}, "tags"),
        ({"billing_mode": "PROVISIONED", "throughput": (5, 5)}, "Throughput"),
        (
            {
                "billing_mode": "PROVISIONED",
                "throughput": Throughput(5, 5),
                "index_throughput": {"by-status": {"ReadCapacityUnits": 1}},
            },
            "Throughput",
        ),
        ({"deletion_protection": 1}, "deletion_protection"),
        ({"deletion_protection": "yes"}, "deletion_protection"),
    ],
)
def test_table_options_validation(kwargs, message):
    with pytest.raises(MappingError, match=message):
        TableOptions(**kwargs)


@pytest.mark.parametrize("value", [0, -1, True, False, 1.5, "5", None])
@pytest.mark.parametrize("field", ["read", "write"])
def test_throughput_needs_positive_ints(field, value):
    kwargs = {"read": 1, "write": 1, field: value}
    with pytest.raises(MappingError, match=f"{field} must be a positive int"):
        Throughput(**kwargs)


def test_mapper_index_throughput_must_name_a_global_index():
    def options(name: str) -> TableOptions:
        return TableOptions(
            billing_mode="PROVISIONED",
            throughput=Throughput(5, 5),
            index_throughput={name: Throughput(1, 1)},
        )

    assert orders(options=options("by-status")).options.index_throughput == (
        ("by-status", Throughput(1, 1)),
    )
    with pytest.raises(MappingError, match="'by-created', which is not a global index"):
        orders(options=options("by-created"))  # a local index: no throughput of its own
    with pytest.raises(MappingError, match="'by-nothing', which is not a global index"):
        orders(options=options("by-nothing"))


def test_mapper_options_must_be_table_options():
    with pytest.raises(MappingError, match="options must be a TableOptions"):
        Mapper(Plain, table="plain", partition_key="id", options={"billing_mode": "PROVISIONED"})


# --- compare: the missing table and the matching one ------------------------------------


def test_missing_table_is_one_safe_create():
    mapper = orders(options=FULL)
    diff = compare(mapper, TABLE, None)
    change = only(diff)
    assert change.kind == "create_table"
    assert change.severity == "safe"
    assert change.subject == "table"
    assert (change.live, change.wanted) == (None, TABLE)
    assert ops(change.calls) == [("CreateTable", create_table_request(mapper, TABLE))]
    assert ops(change.undo) == [("DeleteTable", {"TableName": TABLE})]
    assert diff.safe == (change,)


def test_missing_table_with_ttl_also_turns_ttl_on():
    change = only(compare(orders(ttl="expires"), TABLE, None))
    assert ops(change.calls) == [
        ("CreateTable", create_table_request(orders(ttl="expires"), TABLE)),
        (
            "UpdateTimeToLive",
            {
                "TableName": TABLE,
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expiresAt"},
            },
        ),
    ]
    assert [c.wait for c in change.calls] == [True, False]


def test_missing_table_uses_the_options_given():
    change = only(compare(orders(), TABLE, None, FULL))
    assert change.calls[0].request == create_table_request(orders(), TABLE, FULL)


@pytest.mark.parametrize(
    "options",
    [
        TableOptions(),
        PROVISIONED,
        FULL,
        TableOptions(sse_kms_key=KMS_ARN, stream="KEYS_ONLY"),
        TableOptions(table_class="STANDARD_INFREQUENT_ACCESS"),
    ],
    ids=["default", "provisioned", "full", "sse-arn", "ia"],
)
@pytest.mark.parametrize("ttl", [None, "expires"])
def test_a_table_as_created_has_no_changes(options, ttl):
    mapper = orders(options=options, ttl=ttl)
    diff = compare(mapper, TABLE, live_of(mapper))
    assert not diff
    assert diff.changes == ()
    assert str(diff) == f"{TABLE}: up to date"


def test_live_without_a_keys_attribute_definition_is_not_a_change():
    # moto replaces AttributeDefinitions with the last UpdateTable's, forgetting the
    # earlier keys' types; a key with no reported type is taken as the model's.
    mapper = orders()
    live = live_of(mapper)
    only_table_keys = [
        d for d in live.description["AttributeDefinitions"] if d["AttributeName"] == "region"
    ]
    assert not compare(mapper, TABLE, altered(live, AttributeDefinitions=only_table_keys))
    assert not compare(mapper, TABLE, altered(live, AttributeDefinitions=None))


def test_old_table_without_billing_summary_is_provisioned():
    mapper = orders(options=PROVISIONED)
    assert not compare(mapper, TABLE, altered(live_of(mapper), BillingModeSummary=None))
    change = only(compare(orders(), TABLE, altered(live_of(mapper), BillingModeSummary=None)))
    assert (change.kind, change.live, change.wanted) == (
        "billing",
        "PROVISIONED",
        "PAY_PER_REQUEST",
    )


def test_ttl_being_enabled_counts_as_enabled():
    mapper = orders(ttl="expires")
    live = live_of(mapper, ttl={"TimeToLiveStatus": "ENABLING", "AttributeName": "expiresAt"})
    assert not compare(mapper, TABLE, live)


# --- compare: breaking changes ---------------------------------------------------------


def test_key_schema_change_is_breaking():
    mapper = orders()
    live = altered(live_of(mapper), KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}])
    change = only(compare(mapper, TABLE, live))
    assert change.kind == "key_schema"
    assert change.severity == "breaking"
    assert change.subject == "table"
    assert change.live == [["customer", "HASH", "S"]]
    assert change.wanted == [["customer", "HASH", "S"], ["number", "RANGE", "N"]]
    assert change.calls == ()
    assert change.undo is None
    assert not change.reversible
    assert change.description == (
        "table: key schema: (HASH customer:S) -> (HASH customer:S, RANGE number:N)"
    )


def test_key_attribute_type_change_is_breaking():
    mapper = orders()
    live = live_of(mapper)
    definitions = [
        {**d, "AttributeType": "S"} if d["AttributeName"] == "number" else d
        for d in live.description["AttributeDefinitions"]
    ]
    change = only(compare(mapper, TABLE, altered(live, AttributeDefinitions=definitions)))
    assert (change.kind, change.severity) == ("key_schema", "breaking")
    assert change.live == [["customer", "HASH", "S"], ["number", "RANGE", "S"]]
    assert change.wanted == [["customer", "HASH", "S"], ["number", "RANGE", "N"]]


def test_other_partition_key_is_breaking():
    other = Mapper(Plain, table="plain", partition_key="id")
    live = live_of(orders())
    diff = compare(other, TABLE, live)
    kinds = [(c.kind, c.severity) for c in diff.changes]
    assert ("key_schema", "breaking") in kinds
    assert diff.breaking[0].kind == "key_schema"


def test_local_index_added_is_breaking():
    live = live_of(orders(indexes=(BY_STATUS, BY_REGION)))
    change = only(compare(orders(), TABLE, live))
    assert (change.kind, change.severity, change.subject) == (
        "local_index",
        "breaking",
        "index by-created",
    )
    assert change.live is None
    assert change.wanted == {
        "keys": [["customer", "HASH", "S"], ["createdAt", "RANGE", "N"]],
        "projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["label", "orderNote"]},
    }
    assert change.calls == ()


def test_local_index_removed_is_breaking():
    change = only(compare(orders(indexes=(BY_STATUS, BY_REGION)), TABLE, live_of(orders())))
    assert (change.kind, change.severity, change.subject) == (
        "local_index",
        "breaking",
        "index by-created",
    )
    assert change.wanted is None
    assert change.live is not None


def test_local_index_changed_is_breaking():
    changed = LocalIndex("by-created", sort_key="created_at", projection="KEYS_ONLY")
    live = live_of(orders())
    change = only(compare(orders(indexes=(BY_STATUS, BY_REGION, changed)), TABLE, live))
    assert (change.kind, change.severity) == ("local_index", "breaking")
    assert change.wanted["projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert change.live["projection"]["ProjectionType"] == "INCLUDE"


def test_local_index_include_order_is_not_a_change():
    live = live_of(orders())
    lsi = copy.deepcopy(live.description["LocalSecondaryIndexes"])
    lsi[0]["Projection"]["NonKeyAttributes"].reverse()
    assert not compare(orders(), TABLE, altered(live, LocalSecondaryIndexes=lsi))


# --- compare: global indexes -----------------------------------------------------------


def test_missing_global_index_is_a_safe_add():
    mapper = orders()
    live = live_of(orders(indexes=(BY_STATUS, BY_CREATED)))
    change = only(compare(mapper, TABLE, live))
    assert (change.kind, change.severity, change.subject) == (
        "add_index",
        "safe",
        "index by-region",
    )
    assert change.live is None
    assert change.wanted == {
        "keys": [["region", "HASH", "S"]],
        "projection": {
            "ProjectionType": "INCLUDE",
            "NonKeyAttributes": ["orderNote", "orderTotal"],
        },
    }
    [(operation, request)] = ops(change.calls)
    assert operation == "UpdateTable"
    assert request == gsi_create_request(mapper, TABLE, BY_REGION)
    assert request["GlobalSecondaryIndexUpdates"] == [
        {
            "Create": {
                "IndexName": "by-region",
                "KeySchema": [{"AttributeName": "region", "KeyType": "HASH"}],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["orderNote", "orderTotal"],
                },
            }
        }
    ]
    defined = {d["AttributeName"]: d["AttributeType"] for d in request["AttributeDefinitions"]}
    assert defined == {"customer": "S", "number": "N", "region": "S"}
    assert ops(change.undo) == [
        (
            "UpdateTable",
            {
                "TableName": TABLE,
                "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by-region"}}],
            },
        )
    ]
    assert change.calls[0].wait is True


def test_missing_global_index_of_a_provisioned_table_gets_its_throughput():
    options = TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(5, 5),
        index_throughput={"by-region": Throughput(2, 1)},
    )
    live = live_of(orders(indexes=(BY_STATUS, BY_CREATED), options=PROVISIONED))
    change = only(compare(orders(options=options), TABLE, live))
    create = change.calls[0].request["GlobalSecondaryIndexUpdates"][0]["Create"]
    assert create["ProvisionedThroughput"] == {"ReadCapacityUnits": 2, "WriteCapacityUnits": 1}


def test_extra_global_index_is_a_safe_drop():
    legacy = GlobalIndex("by-label", partition_key="label", projection="KEYS_ONLY")
    live = live_of(orders(indexes=(BY_STATUS, BY_REGION, BY_CREATED, legacy)))
    change = only(compare(orders(), TABLE, live))
    assert (change.kind, change.severity, change.subject) == (
        "drop_index",
        "safe",
        "index by-label",
    )
    assert change.wanted is None
    assert change.live == {
        "keys": [["label", "HASH", "S"]],
        "projection": {"ProjectionType": "KEYS_ONLY"},
    }
    assert ops(change.calls) == [
        (
            "UpdateTable",
            {
                "TableName": TABLE,
                "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by-label"}}],
            },
        )
    ]
    # The undo creates it again from its live description.
    assert ops(change.undo) == [
        (
            "UpdateTable",
            {
                "TableName": TABLE,
                "AttributeDefinitions": [{"AttributeName": "label", "AttributeType": "S"}],
                "GlobalSecondaryIndexUpdates": [
                    {
                        "Create": {
                            "IndexName": "by-label",
                            "KeySchema": [{"AttributeName": "label", "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "KEYS_ONLY"},
                        }
                    }
                ],
            },
        )
    ]


def test_global_index_key_change_is_data():
    changed = GlobalIndex("by-status", partition_key="status", sort_key="total")
    live = live_of(orders())
    change = only(compare(orders(indexes=(changed, BY_REGION, BY_CREATED)), TABLE, live))
    assert (change.kind, change.severity, change.subject) == (
        "replace_index",
        "data",
        "index by-status",
    )
    assert change.calls == ()
    assert change.undo is None
    assert change.live["keys"] == [["status", "HASH", "S"], ["createdAt", "RANGE", "N"]]
    assert change.wanted["keys"] == [["status", "HASH", "S"], ["orderTotal", "RANGE", "N"]]


def test_global_index_projection_change_is_data():
    changed = GlobalIndex("by-region", partition_key="region", projection="ALL")
    live = live_of(orders())
    change = only(compare(orders(indexes=(BY_STATUS, changed, BY_CREATED)), TABLE, live))
    assert (change.kind, change.severity) == ("replace_index", "data")
    assert change.wanted["projection"] == {"ProjectionType": "ALL"}
    assert change.live["projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["orderNote", "orderTotal"],
    }
    assert "projection INCLUDE" in change.description


def test_global_index_include_order_is_not_a_change():
    live = live_of(orders())
    gsi(live, "by-region")["Projection"]["NonKeyAttributes"].reverse()
    assert not compare(orders(), TABLE, live)


# --- compare: billing and throughput ---------------------------------------------------


def test_billing_on_demand_to_provisioned():
    options = TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(8, 4),
        index_throughput={"by-region": Throughput(2, 1)},
    )
    change = only(compare(orders(options=options), TABLE, live_of(orders())))
    assert (change.kind, change.severity, change.subject) == ("billing", "safe", "table")
    assert (change.live, change.wanted) == ("PAY_PER_REQUEST", "PROVISIONED")
    assert ops(change.calls) == [
        (
            "UpdateTable",
            {
                "TableName": TABLE,
                "BillingMode": "PROVISIONED",
                "ProvisionedThroughput": {"ReadCapacityUnits": 8, "WriteCapacityUnits": 4},
                "GlobalSecondaryIndexUpdates": [
                    {
                        "Update": {
                            "IndexName": "by-status",
                            "ProvisionedThroughput": {
                                "ReadCapacityUnits": 8,
                                "WriteCapacityUnits": 4,
                            },
                        }
                    },
                    {
                        "Update": {
                            "IndexName": "by-region",
                            "ProvisionedThroughput": {
                                "ReadCapacityUnits": 2,
                                "WriteCapacityUnits": 1,
                            },
                        }
                    },
                ],
            },
        )
    ]
    assert ops(change.undo) == [
        ("UpdateTable", {"TableName": TABLE, "BillingMode": "PAY_PER_REQUEST"})
    ]


def test_billing_provisioned_to_on_demand():
    change = only(compare(orders(), TABLE, live_of(orders(options=PROVISIONED))))
    assert (change.kind, change.live, change.wanted) == (
        "billing",
        "PROVISIONED",
        "PAY_PER_REQUEST",
    )
    assert ops(change.calls) == [
        ("UpdateTable", {"TableName": TABLE, "BillingMode": "PAY_PER_REQUEST"})
    ]
    five = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert ops(change.undo) == [
        (
            "UpdateTable",
            {
                "TableName": TABLE,
                "BillingMode": "PROVISIONED",
                "ProvisionedThroughput": five,
                "GlobalSecondaryIndexUpdates": [
                    {"Update": {"IndexName": "by-status", "ProvisionedThroughput": five}},
                    {"Update": {"IndexName": "by-region", "ProvisionedThroughput": five}},
                ],
            },
        )
    ]


def test_billing_switch_without_table_indexes_has_no_index_updates():
    options = TableOptions(billing_mode="PROVISIONED", throughput=Throughput(1, 1))
    mapper = Mapper(Plain, table="plain", partition_key="id", options=options)
    change = only(compare(mapper, TABLE, live_of(plain)))
    assert change.calls[0].request == {
        "TableName": TABLE,
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    }


def test_table_throughput_change():
    wanted = TableOptions(billing_mode="PROVISIONED", throughput=Throughput(10, 5))
    mapper = Mapper(Plain, table="plain", partition_key="id", options=wanted)
    live = live_of(Mapper(Plain, table="plain", partition_key="id", options=PROVISIONED))
    change = only(compare(mapper, TABLE, live))
    assert (change.kind, change.severity, change.subject) == ("throughput", "safe", "table")
    assert change.live == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert change.wanted == {"ReadCapacityUnits": 10, "WriteCapacityUnits": 5}
    assert ops(change.calls) == [
        (
            "UpdateTable",
            {
                "TableName": TABLE,
                "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 5},
            },
        )
    ]
    assert ops(change.undo) == [
        (
            "UpdateTable",
            {
                "TableName": TABLE,
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            },
        )
    ]


def test_global_index_throughput_change():
    wanted = TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(5, 5),
        index_throughput={"by-status": Throughput(7, 3)},
    )
    change = only(compare(orders(options=wanted), TABLE, live_of(orders(options=PROVISIONED))))
    assert (change.kind, change.severity, change.subject) == (
        "throughput",
        "safe",
        "index by-status",
    )
    assert change.live == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert change.wanted == {"ReadCapacityUnits": 7, "WriteCapacityUnits": 3}
    update = {
        "IndexName": "by-status",
        "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
    }
    assert ops(change.calls) == [
        ("UpdateTable", {"TableName": TABLE, "GlobalSecondaryIndexUpdates": [{"Update": update}]})
    ]
    undo = change.undo[0].request["GlobalSecondaryIndexUpdates"][0]["Update"]
    assert undo["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def test_throughput_of_on_demand_tables_is_not_compared():
    # On-demand tables and indexes report zero units: not a throughput change.
    live = live_of(orders())
    assert live.description["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert not compare(orders(), TABLE, live)


def test_number_of_decreases_today_is_ignored():
    live = live_of(orders(options=PROVISIONED))
    live.description["ProvisionedThroughput"]["NumberOfDecreasesToday"] = 3
    gsi(live, "by-status")["ProvisionedThroughput"]["NumberOfDecreasesToday"] = 2
    assert not compare(orders(options=PROVISIONED), TABLE, live)


# --- compare: stream, TTL, SSE, protection, class, tags ---------------------------------


def stream_call(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("UpdateTable", {"TableName": TABLE, "StreamSpecification": spec})


def test_stream_on():
    change = only(
        compare(orders(options=TableOptions(stream="NEW_IMAGE")), TABLE, live_of(orders()))
    )
    assert (change.kind, change.severity, change.subject) == ("stream", "safe", "table")
    assert (change.live, change.wanted) == (None, "NEW_IMAGE")
    assert ops(change.calls) == [
        stream_call({"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    ]
    assert ops(change.undo) == [stream_call({"StreamEnabled": False})]


def test_stream_off():
    live = live_of(orders(options=TableOptions(stream="KEYS_ONLY")))
    change = only(compare(orders(), TABLE, live))
    assert (change.kind, change.live, change.wanted) == ("stream", "KEYS_ONLY", None)
    assert ops(change.calls) == [stream_call({"StreamEnabled": False})]


def test_stream_disabled_in_the_description_is_off():
    live = altered(live_of(orders()), StreamSpecification={"StreamEnabled": False})
    assert not compare(orders(), TABLE, live)


def test_stream_view_change_is_off_then_on():
    live = live_of(orders(options=TableOptions(stream="KEYS_ONLY")))
    mapper = orders(options=TableOptions(stream="NEW_AND_OLD_IMAGES"))
    change = only(compare(mapper, TABLE, live))
    assert (change.live, change.wanted) == ("KEYS_ONLY", "NEW_AND_OLD_IMAGES")
    assert ops(change.calls) == [
        stream_call({"StreamEnabled": False}),
        stream_call({"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}),
    ]
    assert all(c.wait for c in change.calls)  # the stream is off before it is on again
    assert ops(change.undo) == [
        stream_call({"StreamEnabled": False}),
        stream_call({"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}),
    ]


def ttl_call(enabled: bool, attribute: str) -> tuple[str, dict[str, Any]]:
    spec = {"Enabled": enabled, "AttributeName": attribute}
    return ("UpdateTimeToLive", {"TableName": TABLE, "TimeToLiveSpecification": spec})


def test_ttl_on():
    change = only(compare(orders(ttl="expires"), TABLE, live_of(orders())))
    assert (change.kind, change.severity, change.subject) == ("ttl", "safe", "table")
    assert (change.live, change.wanted) == (None, "expiresAt")
    assert ops(change.calls) == [ttl_call(True, "expiresAt")]
    assert [c.wait for c in change.calls] == [False]
    assert ops(change.undo) == [ttl_call(False, "expiresAt")]


def test_ttl_off():
    live = live_of(orders(ttl="expires"))
    change = only(compare(orders(), TABLE, live))
    assert (change.live, change.wanted) == ("expiresAt", None)
    assert ops(change.calls) == [ttl_call(False, "expiresAt")]


def test_ttl_moved_is_a_data_change_without_calls():
    # Off, then on again: DynamoDB refuses the second TTL change for about an hour.
    live = live_of(orders(), ttl={"TimeToLiveStatus": "ENABLED", "AttributeName": "old"})
    change = only(compare(orders(ttl="expires"), TABLE, live))
    assert (change.kind, change.severity) == ("ttl", "data")
    assert (change.live, change.wanted) == ("old", "expiresAt")
    assert change.calls == ()
    assert change.undo is None


def test_ttl_disabled_or_disabling_is_off():
    for status in ("DISABLED", "DISABLING"):
        live = live_of(orders(), ttl={"TimeToLiveStatus": status, "AttributeName": "expiresAt"})
        assert not compare(orders(), TABLE, live)
        assert only(compare(orders(ttl="expires"), TABLE, live)).kind == "ttl"


def sse_call(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("UpdateTable", {"TableName": TABLE, "SSESpecification": spec})


def test_sse_on():
    mapper = orders(options=TableOptions(sse_kms_key="alias/aws/dynamodb"))
    change = only(compare(mapper, TABLE, live_of(orders())))
    assert (change.kind, change.severity, change.subject) == ("sse", "safe", "table")
    assert (change.live, change.wanted) == (None, "alias/aws/dynamodb")
    assert ops(change.calls) == [
        sse_call({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/aws/dynamodb"})
    ]
    assert ops(change.undo) == [sse_call({"Enabled": False})]


def test_sse_off():
    live = live_of(orders(options=TableOptions(sse_kms_key=KMS_ARN)))
    change = only(compare(orders(), TABLE, live))
    assert (change.live, change.wanted) == (KMS_ARN, None)
    assert ops(change.calls) == [sse_call({"Enabled": False})]
    assert ops(change.undo) == [
        sse_call({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": KMS_ARN})
    ]


def test_sse_alias_matches_any_live_kms_key():
    live = live_of(orders(options=TableOptions(sse_kms_key=KMS_ARN)))
    assert not compare(orders(options=TableOptions(sse_kms_key="alias/mine")), TABLE, live)


def test_sse_other_key_arn_is_a_change():
    other = KMS_ARN.replace("1234abcd", "9999ffff")
    live = live_of(orders(options=TableOptions(sse_kms_key=KMS_ARN)))
    change = only(compare(orders(options=TableOptions(sse_kms_key=other)), TABLE, live))
    assert (change.kind, change.live, change.wanted) == ("sse", KMS_ARN, other)


def test_sse_with_an_aws_owned_key_is_off():
    # An AWS-owned key (DynamoDB's default) is described as disabled SSE, or not at all.
    for description in ({"Status": "DISABLED"}, None):
        live = altered(live_of(orders()), SSEDescription=description)
        assert not compare(orders(), TABLE, live)


def test_deletion_protection_on_and_off():
    protected = orders(options=TableOptions(deletion_protection=True))
    change = only(compare(protected, TABLE, live_of(orders())))
    assert (change.kind, change.severity, change.live, change.wanted) == (
        "deletion_protection",
        "safe",
        False,
        True,
    )
    assert ops(change.calls) == [
        ("UpdateTable", {"TableName": TABLE, "DeletionProtectionEnabled": True})
    ]
    assert ops(change.undo) == [
        ("UpdateTable", {"TableName": TABLE, "DeletionProtectionEnabled": False})
    ]
    change = only(compare(orders(), TABLE, live_of(protected)))
    assert ops(change.calls) == [
        ("UpdateTable", {"TableName": TABLE, "DeletionProtectionEnabled": False})
    ]
    # A description without the field is unprotected.
    assert not compare(orders(), TABLE, altered(live_of(orders()), DeletionProtectionEnabled=None))


def test_table_class_change():
    ia = orders(options=TableOptions(table_class="STANDARD_INFREQUENT_ACCESS"))
    change = only(compare(ia, TABLE, live_of(orders())))
    assert (change.kind, change.severity, change.live, change.wanted) == (
        "table_class",
        "safe",
        "STANDARD",
        "STANDARD_INFREQUENT_ACCESS",
    )
    assert ops(change.calls) == [
        ("UpdateTable", {"TableName": TABLE, "TableClass": "STANDARD_INFREQUENT_ACCESS"})
    ]
    assert ops(change.undo) == [("UpdateTable", {"TableName": TABLE, "TableClass": "STANDARD"})]
    back = only(compare(orders(), TABLE, live_of(ia)))
    assert (back.live, back.wanted) == ("STANDARD_INFREQUENT_ACCESS", "STANDARD")
    # An explicit STANDARD summary matches the default.
    live = altered(live_of(orders()), TableClassSummary={"TableClass": "STANDARD"})
    assert not compare(orders(), TABLE, live)


def test_tags_missing_or_different():
    mapper = orders(options=TableOptions(tags={"env": "prod", "team": "data"}))
    live = live_of(orders(), tags={"env": "dev", "owner": "someone"})
    change = only(compare(mapper, TABLE, live))
    assert (change.kind, change.severity, change.subject) == ("tags", "safe", "table")
    # Only declared tags are compared: "owner" is not the model's business.
    assert change.live == {"env": "dev"}
    assert change.wanted == {"env": "prod", "team": "data"}
    assert ops(change.calls) == [
        (
            "TagResource",
            {
                "ResourceArn": ARN,
                "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "data"}],
            },
        )
    ]
    assert [c.wait for c in change.calls] == [False]
    assert ops(change.undo) == [
        ("UntagResource", {"ResourceArn": ARN, "TagKeys": ["team"]}),
        ("TagResource", {"ResourceArn": ARN, "Tags": [{"Key": "env", "Value": "dev"}]}),
    ]


def test_tags_all_new_has_no_live_value():
    mapper = orders(options=TableOptions(tags={"env": "prod"}))
    change = only(compare(mapper, TABLE, live_of(orders(), tags={})))
    assert change.live is None
    assert ops(change.undo) == [("UntagResource", {"ResourceArn": ARN, "TagKeys": ["env"]})]


def test_extra_live_tags_are_ignored():
    mapper = orders(options=TableOptions(tags={"env": "prod"}))
    assert not compare(mapper, TABLE, live_of(mapper, tags={"env": "prod", "owner": "x"}))
    assert not compare(orders(), TABLE, live_of(orders(), tags={"owner": "x"}))


# --- ordering and the diff itself -------------------------------------------------------


def messy_live() -> LiveTable:
    """A live table that differs from `orders(options=...)` in every severity."""
    legacy = GlobalIndex("by-label", partition_key="label")
    changed = GlobalIndex("by-status", partition_key="status", sort_key="total")
    return live_of(orders(indexes=(changed, legacy)))  # no by-region, no local index


def test_changes_are_ordered_breaking_data_safe_with_billing_before_add_index():
    mapper = orders(
        options=TableOptions(
            billing_mode="PROVISIONED", throughput=Throughput(5, 5), stream="NEW_IMAGE"
        ),
        ttl="expires",
    )
    diff = compare(mapper, TABLE, messy_live())
    kinds = [(c.severity, c.kind, c.subject) for c in diff.changes]
    assert [severity for severity, _, _ in kinds] == sorted(
        (severity for severity, _, _ in kinds), key=["breaking", "data", "safe"].index
    )
    assert kinds[0] == ("breaking", "local_index", "index by-created")
    assert kinds[1] == ("data", "replace_index", "index by-status")
    safe = [(kind, subject) for _, kind, subject in kinds[2:]]
    assert ("billing", "table") in safe
    assert ("add_index", "index by-region") in safe
    assert ("drop_index", "index by-label") in safe
    assert ("stream", "table") in safe
    assert ("ttl", "table") in safe
    # The new index of a table turning provisioned needs the table provisioned first.
    assert safe.index(("billing", "table")) < safe.index(("add_index", "index by-region"))
    # The added index gets throughput, as the table will be provisioned by then.
    add = next(c for c in diff.safe if c.kind == "add_index")
    create = add.calls[0].request["GlobalSecondaryIndexUpdates"][0]["Create"]
    assert create["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    # The billing switch gives capacity to every live index (DynamoDB requires it),
    # also the one the model drops, and not to the new one.
    billing = next(c for c in diff.safe if c.kind == "billing")
    updated = [
        u["Update"]["IndexName"]
        for u in billing.calls[0].request.get("GlobalSecondaryIndexUpdates", ())
    ]
    assert sorted(updated) == ["by-label", "by-status"]


def test_schema_diff_accessors_str_and_dict():
    diff = compare(orders(options=TableOptions(stream="NEW_IMAGE")), TABLE, messy_live())
    assert diff
    assert diff.table == TABLE
    assert [c.kind for c in diff.breaking] == ["local_index"]
    assert [c.kind for c in diff.data] == ["replace_index"]
    assert {c.kind for c in diff.safe} == {"add_index", "drop_index", "stream"}
    assert diff.of("safe") == diff.safe
    assert diff.breaking + diff.data + diff.safe == diff.changes

    text = str(diff)
    lines = text.splitlines()
    assert lines[0] == f"{TABLE}: {len(diff.changes)} change(s)"
    assert lines[1].startswith("  [breaking] index by-created: local index: (none) -> (")
    assert '  [safe] table: stream: (none) -> "NEW_IMAGE"' in lines
    assert all(line.startswith("  [") for line in lines[1:])

    data = diff.to_dict()
    assert data["table"] == TABLE
    assert [c["kind"] for c in data["changes"]] == [c.kind for c in diff.changes]
    stream = next(c for c in data["changes"] if c["kind"] == "stream")
    assert stream == {
        "kind": "stream",
        "severity": "safe",
        "subject": "table",
        "live": None,
        "wanted": "NEW_IMAGE",
        "calls": [
            {
                "operation": "UpdateTable",
                "request": {
                    "TableName": TABLE,
                    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
                },
            }
        ],
    }
    assert json.loads(json.dumps(data)) == data  # plain data


def test_empty_schema_diff():
    diff = SchemaDiff("t")
    assert not diff
    assert bool(diff) is False
    assert str(diff) == "t: up to date"
    assert diff.to_dict() == {"table": "t", "changes": []}
    assert diff.safe == diff.data == diff.breaking == ()


def test_change_and_call_rendering():
    call = Call("UpdateTable", {"TableName": "t", "BillingMode": "PAY_PER_REQUEST"})
    assert str(call) == 'UpdateTable {"BillingMode": "PAY_PER_REQUEST", "TableName": "t"}'
    assert call.wait is True
    change = Change("billing", "safe", "table", "PROVISIONED", "PAY_PER_REQUEST", (call,), ())
    assert change.description == 'table: billing: "PROVISIONED" -> "PAY_PER_REQUEST"'
    assert str(change) == '[safe] table: billing: "PROVISIONED" -> "PAY_PER_REQUEST"'
    assert change.reversible
    assert not Change("key_schema", "breaking", "table", None, None).reversible
