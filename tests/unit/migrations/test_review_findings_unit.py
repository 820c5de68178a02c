"""Review findings without I/O: schema plans and migration discovery.

Every test is ``xfail(strict=True)``: it fails today for the reason given.
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import attrs
import pytest

from dynamorm_async import Mapper, TableOptions, Throughput
from dynamorm_async.cli._scaffold import migration_source
from dynamorm_async.db import LiveTable
from dynamorm_async.db._schema_plan import compare
from dynamorm_async.errors import DynamORMError
from dynamorm_async.migrations import Migration, discover
from dynamorm_async.migrations._migration import ordered

TABLE = "prod-things"
ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"


@attrs.define
class Thing:
    id: str
    kind: str = ""
    expires: int | None = None
    deadline: int | None = None


async def _step(ctx: Any) -> None:  # pragma: no cover - never run
    pass


@pytest.fixture(autouse=True)
def _no_bytecode(monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


def description(*, billing: str = "PAY_PER_REQUEST", gsis: list[dict[str, Any]] = ()) -> dict:
    table: dict[str, Any] = {
        "TableName": TABLE,
        "TableArn": ARN,
        "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingModeSummary": {"BillingMode": billing},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        "DeletionProtectionEnabled": False,
    }
    if gsis:
        table["GlobalSecondaryIndexes"] = list(gsis)
        table["AttributeDefinitions"].append({"AttributeName": "kind", "AttributeType": "S"})
    return table


# --- TTL cannot be moved in two back-to-back UpdateTimeToLive calls --------------------


def test_moving_ttl_to_another_attribute_is_not_a_two_call_safe_change():
    mapper = Mapper(Thing, table=TABLE, partition_key="id", ttl_attribute="deadline")
    live = LiveTable(description(), {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}, {})

    [change] = compare(mapper, TABLE, live).changes

    assert change.kind == "ttl"
    ttl_calls = [c for c in change.calls if c.operation == "UpdateTimeToLive"]
    # Either one call (impossible: a move needs off then on) or not applied online.
    assert len(ttl_calls) <= 1 or change.severity != "safe"


# --- the undo of a dropped index on a table turned provisioned --------------------------


def test_down_recreating_a_dropped_index_on_a_provisioned_table_has_throughput():
    gsi = {
        "IndexName": "by-kind",
        "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "IndexStatus": "ACTIVE",
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
    }
    live = LiveTable(description(gsis=[gsi]), {"TimeToLiveStatus": "DISABLED"}, {})
    options = TableOptions(billing_mode="PROVISIONED", throughput=Throughput(5, 5))
    mapper = Mapper(Thing, table=TABLE, partition_key="id", options=options)

    diff = compare(mapper, TABLE, live)
    assert [c.kind for c in diff.changes] == ["billing", "drop_index"]
    # A generated down undoes newest first (see cli._scaffold._steps).
    source = migration_source("0002", "drop", diff.changes, mapper=("app.models", "things"))
    down = source[source.index("async def down") :]
    assert down.index('"Create"') < down.index('"BillingMode"')  # recreate runs first
    undo_sequence = [call for change in reversed(diff.changes) for call in change.undo or ()]
    create = undo_sequence[0].request["GlobalSecondaryIndexUpdates"][0]["Create"]
    assert "ProvisionedThroughput" in create


# --- a DescribeTable without the expected fields -----------------------------------------


def test_a_description_without_key_schema_raises_a_library_error():
    mapper = Mapper(Thing, table=TABLE, partition_key="id")
    live = LiveTable({"TableName": TABLE, "TableStatus": "ACTIVE"}, {}, {})
    with pytest.raises(DynamORMError):
        compare(mapper, TABLE, live)


# --- versions that sort as equals ---------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [("1", "01"), ("1.0", "1.00"), ("v2", "v002")])
def test_versions_with_one_sort_key_have_a_fixed_order_or_are_refused(a, b):
    first, second = Migration(a, _step), Migration(b, _step)
    try:
        one = [m.version for m in ordered([first, second])]
        other = [m.version for m in ordered([second, first])]
    except DynamORMError:
        return  # refusing them is a fix too
    assert one == other


# --- one Migration bound to two names ----------------------------------------------------


def test_one_migration_under_two_names_is_not_a_duplicate(tmp_path):
    (tmp_path / "0001_first.py").write_text(
        textwrap.dedent(
            """
            from dynamorm_async.migrations import Migration

            async def up(ctx):
                pass

            migration = Migration("0001", up)
            latest = migration
            """
        )
    )
    assert [m.version for m in discover(tmp_path)] == ["0001"]
