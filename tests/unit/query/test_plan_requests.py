"""Query and Scan plans: the exact request payloads, projections, keys and `explain()`."""

import attrs
import pytest

from dynamorm_async import (
    Explain,
    GlobalIndex,
    LocalIndex,
    Mapper,
    ValidationError,
    attr,
    where,
)
from dynamorm_async.query import Plan, QuerySpec, fingerprint, plan

TABLE = "prod-orders"


@attrs.define
class Order:
    customer: str
    number: int
    status: str = ""
    total: int = 0
    created: str = ""
    note: str = ""
    data: bytes = b""


#: Stored names differ from Python names for the keys and for status.
ORDERS = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    field_names={"customer": "pk", "number": "sk", "status": "st"},
    indexes=[
        LocalIndex("lsi-created", sort_key="created", projection="KEYS_ONLY"),
        LocalIndex("lsi-total", sort_key="total"),
        GlobalIndex("gsi-status", partition_key="status", sort_key="created", projection=["note"]),
    ],
)


@attrs.define
class Counter:
    id: int
    hits: int
    label: str = ""


#: A partition key alone, numeric, and a required non-key field.
COUNTERS = Mapper(Counter, table="counters", partition_key="id")

C1 = attr("customer") == "c1"


def run(mapper=ORDERS, *conditions, **options) -> Plan:
    return plan(mapper, QuerySpec(conditions=tuple(conditions), **options), TABLE)


# --- key conditions and filters --------------------------------------------------------


def test_req_partition_equality_only():
    assert run(ORDERS, C1).request == {
        "TableName": TABLE,
        "KeyConditionExpression": "#n0 = :v0",
        "ExpressionAttributeNames": {"#n0": "pk"},
        "ExpressionAttributeValues": {":v0": {"S": "c1"}},
    }


def test_req_numeric_partition_key():
    assert run(COUNTERS, attr("id") == 7).request == {
        "TableName": TABLE,
        "KeyConditionExpression": "#n0 = :v0",
        "ExpressionAttributeNames": {"#n0": "id"},
        "ExpressionAttributeValues": {":v0": {"N": "7"}},
    }


def test_req_key_condition_and_filter_share_placeholders():
    p = run(ORDERS, C1, attr("number") > 5, attr("note") == "c1", attr("total") >= 5)
    assert p.request == {
        "TableName": TABLE,
        "KeyConditionExpression": "#n0 = :v0 AND #n1 > :v1",
        "FilterExpression": "#n2 = :v0 AND #n3 >= :v1",
        "ExpressionAttributeNames": {"#n0": "pk", "#n1": "sk", "#n2": "note", "#n3": "total"},
        "ExpressionAttributeValues": {":v0": {"S": "c1"}, ":v1": {"N": "5"}},
    }
    assert p.filtered


@pytest.mark.parametrize(
    "bounds",
    [
        (attr("number") >= 3, attr("number") <= 9),
        (attr("number") <= 9, attr("number") >= 3),
        (attr("number").between(3, 9),),
        (where("number", "between", 3, 9),),
    ],
    ids=["ge-le", "le-ge", "between", "where-between"],
)
def test_req_sort_key_range_is_one_between(bounds):
    assert run(ORDERS, C1, *bounds).request == {
        "TableName": TABLE,
        "KeyConditionExpression": "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2",
        "ExpressionAttributeNames": {"#n0": "pk", "#n1": "sk"},
        "ExpressionAttributeValues": {":v0": {"S": "c1"}, ":v1": {"N": "3"}, ":v2": {"N": "9"}},
    }


@pytest.mark.parametrize("op", ["=", "<", "<=", ">", ">="])
def test_req_sort_key_comparison(op):
    p = run(ORDERS, C1, where("number", op, 4))
    assert p.request["KeyConditionExpression"] == f"#n0 = :v0 AND #n1 {op} :v1"
    assert p.request["ExpressionAttributeValues"][":v1"] == {"N": "4"}


def test_req_begins_with_on_a_local_index_sort_key():
    assert run(ORDERS, C1, attr("created").begins_with("2024-")).request == {
        "TableName": TABLE,
        "IndexName": "lsi-created",
        "KeyConditionExpression": "#n0 = :v0 AND begins_with(#n1, :v1)",
        "Select": "ALL_ATTRIBUTES",
        "ExpressionAttributeNames": {"#n0": "pk", "#n1": "created"},
        "ExpressionAttributeValues": {":v0": {"S": "c1"}, ":v1": {"S": "2024-"}},
    }


def test_req_global_index_uses_stored_names():
    p = run(ORDERS, attr("status") == "new", attr("created") > "2024", as_dicts=True)
    assert p.request == {
        "TableName": TABLE,
        "IndexName": "gsi-status",
        "KeyConditionExpression": "#n0 = :v0 AND #n1 > :v1",
        "ExpressionAttributeNames": {"#n0": "st", "#n1": "created"},
        "ExpressionAttributeValues": {":v0": {"S": "new"}, ":v1": {"S": "2024"}},
    }


def test_req_where_conditions_then_filters_are_anded():
    spec = QuerySpec(
        conditions=(C1, attr("note") == "a"),
        filters=((attr("total") > 3) | (attr("total") < 1),),
    )
    assert plan(ORDERS, spec, TABLE).request == {
        "TableName": TABLE,
        "KeyConditionExpression": "#n0 = :v0",
        "FilterExpression": "#n1 = :v1 AND (#n2 > :v2 OR #n2 < :v3)",
        "ExpressionAttributeNames": {"#n0": "pk", "#n1": "note", "#n2": "total"},
        "ExpressionAttributeValues": {
            ":v0": {"S": "c1"},
            ":v1": {"S": "a"},
            ":v2": {"N": "3"},
            ":v3": {"N": "1"},
        },
    }


def test_req_filters_alone_make_the_filter():
    spec = QuerySpec(conditions=(C1,), filters=(attr("status") == "x", ~attr("note").exists()))
    p = plan(ORDERS, spec, TABLE)
    assert p.request["FilterExpression"] == "#n1 = :v1 AND NOT (attribute_exists(#n2))"
    assert p.request["ExpressionAttributeNames"] == {"#n0": "pk", "#n1": "st", "#n2": "note"}


def test_req_or_of_non_key_conditions_is_a_filter():
    p = run(ORDERS, C1, (attr("note") == "a") | (attr("status") == "b"))
    assert p.request["KeyConditionExpression"] == "#n0 = :v0"
    assert p.request["FilterExpression"] == "#n1 = :v1 OR #n2 = :v2"


def test_req_binary_value_in_a_filter():
    p = run(ORDERS, C1, attr("data") == b"\x00\xff")
    assert p.request["ExpressionAttributeValues"][":v1"] == {"B": b"\x00\xff"}


def test_req_no_filter_means_not_filtered():
    p = run(ORDERS, C1, attr("number") < 3)
    assert "FilterExpression" not in p.request
    assert not p.filtered


# --- options -------------------------------------------------------------------------------


def test_req_descending_and_consistent():
    p = run(ORDERS, C1, descending=True, consistent=True)
    assert p.request["ScanIndexForward"] is False
    assert p.request["ConsistentRead"] is True


def test_req_defaults_leave_options_out():
    p = run(ORDERS, C1, limit=10, offset=3)
    for key in ("ScanIndexForward", "ConsistentRead", "Limit", "Select", "IndexName"):
        assert key not in p.request
    assert "ProjectionExpression" not in p.request
    assert "TotalSegments" not in p.request


def test_req_index_name_for_indexes_only():
    assert run(ORDERS, C1, index="lsi-total").request["IndexName"] == "lsi-total"
    assert "IndexName" not in run(ORDERS, C1).request


# --- projections ---------------------------------------------------------------------------


def test_req_projection_always_includes_the_table_keys():
    p = run(ORDERS, C1, projection=(attr("note"), attr("status")))
    assert p.request["ProjectionExpression"] == "#n0, #n1, #n2, #n3"
    assert p.request["ExpressionAttributeNames"] == {
        "#n0": "pk",
        "#n1": "sk",
        "#n2": "note",
        "#n3": "st",
    }


def test_req_projection_of_a_key_is_not_repeated():
    p = run(ORDERS, C1, projection=(attr("number"),))
    assert p.request["ProjectionExpression"] == "#n0, #n1"


def test_req_projection_shares_names_with_the_filter():
    p = run(ORDERS, C1, attr("note") == "x", projection=(attr("note"),))
    assert p.request["FilterExpression"] == "#n1 = :v1"
    assert p.request["ProjectionExpression"] == "#n0, #n2, #n1"
    assert p.request["ExpressionAttributeNames"] == {"#n0": "pk", "#n1": "note", "#n2": "sk"}


def test_req_projection_leaving_out_a_required_field_fails_for_objects():
    with pytest.raises(ValidationError) as info:
        run(COUNTERS, attr("id") == 1, projection=(attr("label"),))
    assert "hits" in str(info.value)


def test_req_projection_leaving_out_a_required_field_is_fine_for_dicts():
    p = run(COUNTERS, attr("id") == 1, projection=(attr("label"),), as_dicts=True)
    assert p.request["ProjectionExpression"] == "#n0, #n1"
    assert p.request["ExpressionAttributeNames"] == {"#n0": "id", "#n1": "label"}


def test_req_projection_with_required_fields_works_for_objects():
    p = run(COUNTERS, attr("id") == 1, projection=(attr("hits"),))
    assert p.request["ProjectionExpression"] == "#n0, #n1"


@pytest.mark.parametrize(
    ("options", "select"),
    [
        ({"index": "lsi-created"}, "ALL_ATTRIBUTES"),  # holds only keys: fetch the rest
        ({"index": "lsi-created", "as_dicts": True}, "ALL_ATTRIBUTES"),
        ({"index": "lsi-created", "projection": (attr("created"),)}, None),
        ({"index": "lsi-created", "projection": (attr("note"),)}, None),
        ({"index": "lsi-total"}, None),  # holds everything
        ({}, None),
    ],
    ids=["lsi-keys", "lsi-keys-dicts", "lsi-covered", "lsi-projected", "lsi-all", "table"],
)
def test_req_select_all_attributes_only_for_a_local_index_that_does_not_cover(options, select):
    p = run(ORDERS, C1, **options)
    assert p.request.get("Select") == select


def test_req_local_index_projection_outside_it_has_no_select():
    p = run(ORDERS, C1, index="lsi-created", projection=(attr("note"),))
    # table keys, the field, and the index's sort key (a page may resume from an item)
    assert p.request["ProjectionExpression"] == "#n0, #n1, #n2, #n3"
    assert p.request["ExpressionAttributeNames"]["#n3"] == "created"
    assert "Select" not in p.request


def test_req_global_index_for_dicts_has_no_select():
    p = run(ORDERS, attr("status") == "new", as_dicts=True)
    assert p.index == "gsi-status"
    assert "Select" not in p.request


# --- scans ---------------------------------------------------------------------------------


def test_req_scan_payload():
    p = run(ORDERS, C1, attr("number") > 2, scan=True, segments=4, consistent=True)
    assert p.operation == "Scan"
    assert p.request == {
        "TableName": TABLE,
        "FilterExpression": "#n0 = :v0 AND #n1 > :v1",
        "ConsistentRead": True,
        "ExpressionAttributeNames": {"#n0": "pk", "#n1": "sk"},
        "ExpressionAttributeValues": {":v0": {"S": "c1"}, ":v1": {"N": "2"}},
        "TotalSegments": 4,
    }


def test_req_scan_of_an_index_with_filters_and_projection():
    spec = QuerySpec(
        conditions=(attr("note") == "n",),
        filters=(attr("status") == "s",),
        index="gsi-status",
        scan=True,
        projection=(attr("note"),),
    )
    assert plan(ORDERS, spec, TABLE).request == {
        "TableName": TABLE,
        "IndexName": "gsi-status",
        "FilterExpression": "#n0 = :v0 AND #n1 = :v1",
        "ProjectionExpression": "#n2, #n3, #n0, #n1, #n4",
        "ExpressionAttributeNames": {
            "#n0": "note",
            "#n1": "st",
            "#n2": "pk",
            "#n3": "sk",
            "#n4": "created",
        },
        "ExpressionAttributeValues": {":v0": {"S": "n"}, ":v1": {"S": "s"}},
    }


def test_req_empty_scan():
    assert run(ORDERS, scan=True).request == {"TableName": TABLE}


def test_req_fallback_scan_payload_keeps_all_conditions_as_filter():
    p = run(ORDERS, attr("note") == "x", attr("total") > 1, allow_scan=True, segments=2)
    assert p.request == {
        "TableName": TABLE,
        "FilterExpression": "#n0 = :v0 AND #n1 > :v1",
        "ExpressionAttributeNames": {"#n0": "note", "#n1": "total"},
        "ExpressionAttributeValues": {":v0": {"S": "x"}, ":v1": {"N": "1"}},
        "TotalSegments": 2,
    }


# --- key names, partition and fingerprint --------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "options", "expected"),
    [
        ((C1,), {}, {"pk", "sk"}),
        ((C1,), {"index": "lsi-created"}, {"pk", "sk", "created"}),
        ((C1,), {"index": "lsi-total"}, {"pk", "sk", "total"}),
        ((attr("status") == "s",), {"as_dicts": True}, {"pk", "sk", "st", "created"}),
        ((), {"scan": True}, {"pk", "sk"}),
        ((), {"scan": True, "index": "lsi-total"}, {"pk", "sk", "total"}),
        (
            (),
            {"scan": True, "index": "gsi-status", "as_dicts": True},
            {"pk", "sk", "st", "created"},
        ),
        ((attr("note") == "x",), {"allow_scan": True}, {"pk", "sk"}),
    ],
    ids=["table", "lsi-created", "lsi-total", "gsi", "scan", "scan-lsi", "scan-gsi", "fallback"],
)
def test_req_key_names_are_stored_table_and_index_keys(conditions, options, expected):
    assert run(ORDERS, *conditions, **options).key_names == frozenset(expected)


def test_req_key_names_for_a_partition_key_only_table():
    assert run(COUNTERS, attr("id") == 1).key_names == frozenset({"id"})


def test_req_partition_is_the_stored_name_and_encoded_value():
    assert run(ORDERS, C1, attr("number") > 1).partition == ("pk", {"S": "c1"})
    assert run(ORDERS, C1, index="lsi-total").partition == ("pk", {"S": "c1"})
    gsi = run(ORDERS, attr("status") == "new", as_dicts=True)
    assert gsi.partition == ("st", {"S": "new"})
    assert run(COUNTERS, attr("id") == 42).partition == ("id", {"N": "42"})


def test_req_scans_have_no_partition():
    assert run(ORDERS, C1, scan=True).partition is None
    assert run(ORDERS, attr("note") == "x", allow_scan=True).partition is None


def test_req_fingerprint_is_that_of_the_request():
    p = run(ORDERS, C1, attr("number") > 1)
    assert p.fingerprint == fingerprint(p.request)
    assert isinstance(p.fingerprint, bytes)
    assert len(p.fingerprint) == 32


def test_req_fingerprint_same_query_same_fingerprint():
    assert run(ORDERS, C1, limit=5).fingerprint == run(ORDERS, C1, limit=50).fingerprint


@pytest.mark.parametrize(
    ("conditions", "options"),
    [
        ((attr("customer") == "c2",), {}),
        ((C1, attr("number") > 1), {}),
        ((C1,), {"descending": True}),
        ((C1,), {"consistent": True}),
        ((C1,), {"index": "lsi-total"}),
        ((C1,), {"projection": (attr("note"),)}),
        ((C1, attr("note") == "x"), {}),
        ((C1,), {"scan": True}),
    ],
    ids=["partition", "sort", "descending", "consistent", "index", "projection", "filter", "scan"],
)
def test_req_fingerprint_changes_with_the_query(conditions, options):
    assert run(ORDERS, *conditions, **options).fingerprint != run(ORDERS, C1).fingerprint


# --- explain -------------------------------------------------------------------------------


def test_req_explain_fields():
    p = run(
        ORDERS,
        C1,
        attr("created") > "2024",
        attr("total") == 5,
        attr("data") == b"\x01",
        projection=(attr("note"),),
        index="lsi-created",
    )
    e = p.explain()
    assert isinstance(e, Explain)
    assert e.operation == "Query"
    assert e.table == TABLE
    assert e.index == "lsi-created"
    assert e.key_condition == "#n0 = :v0 AND #n1 > :v1"
    assert e.filter == "#n2 = :v2 AND #n3 = :v3"
    assert e.projection == "#n0, #n4, #n5, #n1"  # the index's key last
    assert e.names == {
        "#n0": "pk",
        "#n1": "created",
        "#n2": "total",
        "#n3": "data",
        "#n4": "sk",
        "#n5": "note",
    }
    assert e.values == {":v0": "c1", ":v1": "2024", ":v2": 5, ":v3": b"\x01"}
    assert type(e.values[":v2"]) is int
    assert e.considered == p.considered
    assert e.request == p.request
    assert e.read_units_per_page == 128


def test_req_explain_of_a_scan():
    e = run(ORDERS, attr("note") == "x", index="lsi-total", scan=True).explain()
    assert e.operation == "Scan"
    assert e.index == "lsi-total"
    assert e.key_condition is None
    assert e.filter == "#n0 = :v0"
    assert e.projection is None
    assert e.values == {":v0": "x"}


def test_req_explain_of_an_empty_scan_has_no_placeholders():
    e = run(ORDERS, scan=True).explain()
    assert e.names == {}
    assert e.values == {}
    assert e.filter is None


@pytest.mark.parametrize(
    ("consistent", "limit", "item_size", "units"),
    [
        (False, None, None, 128),
        (True, None, None, 256),
        (False, 10, None, 128),  # no size: the bound for a full page
        (True, None, 1000, 256),  # no limit: the bound for a full page
        (False, 10, 1000, 1.5),  # ceil(10 000 / 4096) = 3 units, halved
        (True, 10, 1000, 3),
        (False, 1, 1, 0.5),
        (True, 3, 4096, 3),
        (True, 3, 4097, 4),
        (False, 100_000, 400, 128),  # capped at a full page
        (True, 100_000, 400, 256),
    ],
)
def test_req_explain_read_units(consistent, limit, item_size, units):
    p = run(ORDERS, C1, consistent=consistent, limit=limit)
    assert p.explain(item_size=item_size).read_units_per_page == units


def test_req_explain_read_units_basis():
    p = run(ORDERS, C1, limit=10)
    assert "full 1 MB page" in p.explain().read_units_basis
    assert "eventually consistent" in p.explain().read_units_basis
    basis = p.explain(item_size=1000).read_units_basis
    assert "10 items of 1000 bytes" in basis
    strong = run(ORDERS, C1, consistent=True).explain().read_units_basis
    assert "strongly consistent" in strong


def test_req_explain_str_of_an_index_query():
    p = run(
        ORDERS,
        C1,
        attr("total") > 5,
        attr("note") == "x",
        descending=True,
        consistent=True,
        projection=(attr("note"),),
    )
    text = str(p.explain())
    lines = text.splitlines()
    assert lines[0] == f"Query on {TABLE!r} using index 'lsi-total'"
    assert "  key condition: #n0 = :v0 AND #n1 > :v1" in lines
    assert "  filter:        #n2 = :v2" in lines
    assert "  projection:    #n0, #n3, #n2, #n1" in lines
    assert "  names:         #n0=pk, #n1=total, #n2=note, #n3=sk" in lines
    assert "  values:        :v0='c1', :v1=5, :v2='x'" in lines
    assert "  options:       consistent read, descending" in lines
    assert any(line.startswith("  read units:    ~256 per page") for line in lines)
    start = lines.index("  considered:")
    assert lines[start + 1 :] == [f"    {name}: {verdict}" for name, verdict in p.considered]
    assert [name for name, _ in p.considered] == ["table", "lsi-created", "lsi-total", "gsi-status"]


def test_req_explain_str_of_a_table_query_and_of_a_scan():
    text = str(run(ORDERS, C1).explain())
    assert text.splitlines()[0] == f"Query on {TABLE!r} using the table"
    assert "eventually consistent, ascending" in text
    assert "filter:" not in text
    assert "projection:" not in text

    scan = str(run(ORDERS, attr("note") == "x", allow_scan=True, segments=4).explain())
    assert scan.splitlines()[0] == f"Scan on {TABLE!r} using the table"
    assert "4 segment(s)" in scan
    assert "    scan: chosen: the whole table" in scan
    for name in ("table", "lsi-created", "lsi-total", "gsi-status"):
        assert f"    {name}: rejected: " in scan


def test_req_explain_str_is_multiline_for_every_plan():
    for p in (run(ORDERS, C1), run(ORDERS, scan=True), run(COUNTERS, attr("id") == 1)):
        text = str(p.explain())
        assert text.count("\n") >= 4
        assert "considered:" in text
