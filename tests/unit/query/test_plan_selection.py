"""Query planning: which table or index serves a query, why the others do not, and scans.

Every test calls the pure `plan` function: nothing is sent anywhere.
"""

import attrs
import pytest

from dynamorm_async import (
    GlobalIndex,
    LocalIndex,
    Mapper,
    NoIndexForQuery,
    ValidationError,
    attr,
    size,
    where,
)
from dynamorm_async.query import Plan, QuerySpec, plan

TABLE = "prod-orders"


@attrs.define
class Order:
    customer: str
    number: int
    status: str = ""
    total: int = 0
    created: str = ""
    region: str = ""
    note: str = ""
    tags: frozenset[str] = frozenset()


#: Candidates, in declaration order: table, an LSI that holds only keys, an LSI that
#: holds everything, a GSI with a sort key that holds keys + region, a GSI that holds
#: everything, and a GSI on region.
ORDERS = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    indexes=[
        LocalIndex("lsi-created", sort_key="created", projection="KEYS_ONLY"),
        LocalIndex("lsi-total", sort_key="total", projection="ALL"),
        GlobalIndex("gsi-status", partition_key="status", sort_key="total", projection=["region"]),
        GlobalIndex("gsi-status-all", partition_key="status", projection="ALL"),
        GlobalIndex("gsi-region", partition_key="region", sort_key="created"),
    ],
)
ORDER_CANDIDATES = [
    "table",
    "lsi-created",
    "lsi-total",
    "gsi-status",
    "gsi-status-all",
    "gsi-region",
]


@attrs.define
class Event:
    """A table alone, with a string sort key (begins_with works on it)."""

    stream: str
    at: str
    kind: str = ""
    body: str = ""


EVENTS = Mapper(Event, table="events", partition_key="stream", sort_key="at")


def run(mapper=ORDERS, *conditions, **options) -> Plan:
    return plan(mapper, QuerySpec(conditions=tuple(conditions), **options), TABLE)


def verdicts(p: Plan) -> dict[str, str]:
    return dict(p.considered)


def rejection(mapper, *conditions, **options) -> NoIndexForQuery:
    with pytest.raises(NoIndexForQuery) as info:
        run(mapper, *conditions, **options)
    return info.value


C1 = attr("customer") == "c1"


# --- candidates and the partition key --------------------------------------------------


def test_sel_partition_equality_picks_table_and_lists_every_candidate_in_order():
    p = run(ORDERS, C1)
    assert p.operation == "Query"
    assert p.index is None
    assert [name for name, _ in p.considered] == ORDER_CANDIDATES
    found = verdicts(p)
    assert found["table"] == "chosen: key condition on customer ="
    assert found["lsi-total"] == "usable, ranked lower: key condition on customer ="
    assert found["gsi-status"].startswith("rejected: ")
    assert "'status'" in found["gsi-status"]


def test_sel_considered_keeps_declaration_order_when_an_index_is_chosen():
    p = run(ORDERS, attr("region") == "eu")
    assert p.index == "gsi-region"
    assert [name for name, _ in p.considered] == ORDER_CANDIDATES
    assert verdicts(p)["gsi-region"] == "chosen: key condition on region ="


def test_sel_string_form_equality_is_a_key_condition():
    p = run(EVENTS, where("stream", "==", "s1"), where("at", ">=", "2024"))
    assert verdicts(p)["table"] == "chosen: key condition on stream = and at >="


def test_sel_conditions_given_separately_are_anded():
    together = run(EVENTS, (attr("stream") == "s1") & (attr("at") > "a"))
    apart = run(EVENTS, attr("stream") == "s1", attr("at") > "a")
    assert together.request == apart.request
    assert together.considered == apart.considered


@pytest.mark.parametrize(
    "condition",
    [
        attr("stream") != "s1",
        attr("stream") < "s1",
        attr("stream") >= "s1",
        attr("stream").between("a", "b"),
        attr("stream").begins_with("s"),
        attr("stream").is_in(["s1", "s2"]),
        attr("stream").contains("s"),
        attr("stream").exists(),
        ~(attr("stream") == "s1"),
        size("stream") == 2,
        attr("stream") == None,  # noqa: E711 - builds a condition
        attr("stream") == attr("kind"),
        attr("stream", 0) == "s1",
        attr("stream.sub") == "s1",
        (attr("stream") == "s1") | (attr("stream") == "s2"),
        (attr("stream") == "s1") | (attr("kind") == "k"),
        where("stream", "in", "s1", "s2"),
    ],
    ids=repr,
)
def test_sel_partition_key_needs_a_plain_top_level_equality(condition):
    error = rejection(EVENTS, condition)
    assert error.rejected == (
        ("table", "it needs an equality condition (=) on its partition key 'stream'"),
    )


@pytest.mark.parametrize(
    "extra",
    [
        attr("stream").begins_with("s"),
        attr("stream") != "s2",
        attr("stream").exists(),
        attr("stream") == "s1",  # the same equality twice is still two conditions
        (attr("stream") == "s2") | (attr("kind") == "k"),
        size("stream") > 1,
        attr("kind") == attr("stream"),
    ],
    ids=repr,
)
def test_sel_a_second_condition_on_the_partition_key_rejects(extra):
    error = rejection(EVENTS, attr("stream") == "s1", extra)
    ((name, reason),) = error.rejected
    assert name == "table"
    assert reason.startswith("there are 2 conditions on its partition key 'stream'")
    assert "cannot filter on its key attributes" in reason


# --- the sort key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "described"),
    [
        (attr("at") == "2024", "at ="),
        (attr("at") < "2024", "at <"),
        (attr("at") <= "2024", "at <="),
        (attr("at") > "2024", "at >"),
        (attr("at") >= "2024", "at >="),
        (attr("at").between("2023", "2024"), "at between"),
        (attr("at").begins_with("2024-"), "at begins_with"),
        (where("at", "between", ("2023", "2024")), "at between"),
        (where("at", "begins_with", "2024"), "at begins_with"),
    ],
    ids=repr,
)
def test_sel_one_sort_key_condition_joins_the_key_condition(condition, described):
    p = run(EVENTS, attr("stream") == "s1", condition)
    assert verdicts(p) == {"table": f"chosen: key condition on stream = and {described}"}
    assert "FilterExpression" not in p.request
    assert not p.filtered


@pytest.mark.parametrize(
    "pair",
    [
        (attr("at") >= "2023", attr("at") <= "2024"),
        (attr("at") <= "2024", attr("at") >= "2023"),
    ],
    ids=["ge-le", "le-ge"],
)
def test_sel_ge_and_le_on_the_sort_key_merge_into_between(pair):
    p = run(EVENTS, attr("stream") == "s1", *pair)
    assert verdicts(p)["table"].startswith("chosen: key condition on stream = and at ")
    assert p.request["KeyConditionExpression"] == "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2"
    assert p.request["ExpressionAttributeValues"][":v1"] == {"S": "2023"}
    assert p.request["ExpressionAttributeValues"][":v2"] == {"S": "2024"}
    assert "FilterExpression" not in p.request


@pytest.mark.parametrize(
    "conditions",
    [
        (attr("at") != "x",),
        (attr("at").is_in(["a", "b"]),),
        (attr("at").contains("x"),),
        (attr("at").exists(),),
        (attr("at").not_exists(),),
        (attr("at").attribute_type("S"),),
        (~(attr("at") > "a"),),
        (size("at") > 1,),
        (attr("at") == None,),  # noqa: E711 - builds a condition
        (attr("at") > attr("body"),),
        (attr("at").between("a", attr("body")),),
        ((attr("at") > "a") | (attr("kind") == "k"),),
        ((attr("at") > "a") | (attr("at") < "0"),),
        (attr("at") > "a", attr("at") > "b"),
        (attr("at") > "a", attr("at") < "z"),
        (attr("at") >= "a", attr("at") < "z"),
        (attr("at") >= "a", attr("at") >= "b"),
        (attr("at") == "a", attr("at") == "a"),
        (attr("at") >= "a", attr("at") <= "z", attr("at") != "m"),
        (attr("at").begins_with("a"), attr("at") <= "z"),
    ],
    ids=repr,
)
def test_sel_other_sort_key_conditions_reject_the_candidate(conditions):
    error = rejection(EVENTS, attr("stream") == "s1", *conditions)
    ((name, reason),) = error.rejected
    assert name == "table"
    assert reason.startswith("the conditions on its sort key 'at' are not one key condition")
    assert "between()" in reason


def test_sel_sort_key_the_table_cannot_use_falls_to_an_index_that_filters_it():
    # number is the table's sort key; for the LSIs it is just an attribute.
    p = run(ORDERS, C1, attr("number") != 5)
    found = verdicts(p)
    assert found["table"].startswith("rejected: the conditions on its sort key 'number'")
    assert p.index == "lsi-total"  # the LSI that covers beats the one that does not
    assert found["lsi-created"].startswith("usable, ranked lower:")
    assert "FilterExpression" in p.request


# --- filters ---------------------------------------------------------------------------


def test_sel_filters_never_become_key_conditions():
    spec = QuerySpec(filters=(attr("stream") == "s1",))
    with pytest.raises(NoIndexForQuery) as info:
        plan(EVENTS, spec, TABLE)
    assert info.value.rejected == (
        ("table", "it needs an equality condition (=) on its partition key 'stream'"),
    )


@pytest.mark.parametrize("key", ["stream", "at"])
def test_sel_a_filter_on_a_key_attribute_rejects_the_candidate(key):
    spec = QuerySpec(conditions=(attr("stream") == "s1",), filters=(attr(key) > "a",))
    with pytest.raises(NoIndexForQuery) as info:
        plan(EVENTS, spec, TABLE)
    assert info.value.rejected == (
        ("table", f"the filter reads its key attribute {key!r} (DynamoDB refuses that)"),
    )


def test_sel_a_filter_on_an_index_key_rejects_only_that_index():
    spec = QuerySpec(
        conditions=(attr("status") == "new",), filters=(attr("total") > 5,), as_dicts=True
    )
    p = plan(ORDERS, spec, TABLE)
    found = verdicts(p)
    assert found["gsi-status"] == (
        "rejected: the filter reads its key attribute 'total' (DynamoDB refuses that)"
    )
    assert p.index == "gsi-status-all"
    assert p.filtered


def test_sel_filter_on_table_sort_key_moves_the_query_to_a_local_index():
    spec = QuerySpec(conditions=(C1,), filters=(attr("number") > 3,))
    p = plan(ORDERS, spec, TABLE)
    found = verdicts(p)
    assert found["table"] == (
        "rejected: the filter reads its key attribute 'number' (DynamoDB refuses that)"
    )
    assert p.index == "lsi-total"
    assert found["lsi-total"] == "chosen: key condition on customer ="


def test_sel_remaining_conditions_become_the_filter():
    p = run(ORDERS, C1, attr("note") == "x", attr("tags").contains("a"))
    assert p.index is None
    assert p.filtered
    assert p.request["FilterExpression"].count(" AND ") == 1


# --- consistency and projections of indexes --------------------------------------------


def test_sel_global_index_refuses_consistent_reads():
    error = rejection(ORDERS, attr("region") == "eu", consistent=True)
    found = dict(error.rejected)
    assert found["gsi-region"] == "a global index does not support consistent reads"
    assert found["gsi-status"] == "a global index does not support consistent reads"


def test_sel_local_index_allows_consistent_reads():
    p = run(ORDERS, C1, attr("total") > 5, consistent=True)
    assert p.index == "lsi-total"
    assert p.request["ConsistentRead"] is True


def test_sel_global_index_rejects_a_filter_on_what_it_does_not_project():
    error = rejection(ORDERS, attr("status") == "new", attr("note") == "x", index="gsi-status")
    assert error.rejected == (
        (
            "gsi-status",
            "it does not project note, which the filter reads "
            "(a global index can only filter on what it projects)",
        ),
    )


def test_sel_global_index_filter_on_unprojected_field_rejects_even_for_dicts():
    p = run(ORDERS, attr("status") == "new", attr("note") == "x", as_dicts=True)
    assert verdicts(p)["gsi-status"].startswith("rejected: it does not project note")
    assert p.index == "gsi-status-all"


def test_sel_global_index_filter_on_projected_field_is_accepted():
    p = run(
        ORDERS, attr("status") == "new", attr("region") == "eu", index="gsi-status", as_dicts=True
    )
    assert p.index == "gsi-status"
    assert p.filtered


def test_sel_global_index_missing_result_fields_rejected_for_objects():
    error = rejection(ORDERS, attr("status") == "new", attr("total") > 1, index="gsi-status")
    ((name, reason),) = error.rejected
    assert name == "gsi-status"
    assert reason.startswith("it does not project created, note, tags;")
    assert ".as_dicts()" in reason
    assert ".project(" in reason


def test_sel_global_index_missing_result_fields_accepted_for_dicts_with_a_note():
    p = run(ORDERS, attr("status") == "new", attr("total") > 1, as_dicts=True)
    assert p.index == "gsi-status"
    assert verdicts(p)["gsi-status"] == (
        "chosen: key condition on status = and total >; "
        "returns only its projected attributes, not created, note, tags"
    )


def test_sel_global_index_projection_inside_what_it_holds_covers():
    p = run(
        ORDERS,
        attr("status") == "new",
        attr("total") > 1,
        projection=(attr("region"),),
    )
    assert p.index == "gsi-status"
    assert verdicts(p)["gsi-status"] == "chosen: key condition on status = and total >"


def test_sel_global_index_projection_outside_what_it_holds_rejected_even_for_dicts():
    error = rejection(
        ORDERS,
        attr("status") == "new",
        attr("total") > 1,
        index="gsi-status",
        projection=(attr("note"),),
        as_dicts=True,
    )
    ((_, reason),) = error.rejected
    assert reason.startswith("it does not project note;")


def test_sel_keys_only_global_index_holds_table_and_index_keys():
    @attrs.define
    class Item:
        pk: str
        sk: str
        gk: str = ""
        gs: int = 0
        other: str = ""

    items = Mapper(
        Item,
        table="items",
        partition_key="pk",
        sort_key="sk",
        indexes=[
            GlobalIndex("gsi-keys", partition_key="gk", sort_key="gs", projection="KEYS_ONLY")
        ],
    )
    # sk is a table key: a global index always holds it, so the filter may read it.
    spec = QuerySpec(conditions=(attr("gk") == "g", attr("sk") > "a"), as_dicts=True)
    p = plan(items, spec, TABLE)
    assert p.index == "gsi-keys"
    assert verdicts(p)["gsi-keys"] == (
        "chosen: key condition on gk =; returns only its projected attributes, not other"
    )
    with pytest.raises(NoIndexForQuery, match="it does not project other;"):
        plan(items, attrs.evolve(spec, as_dicts=False), TABLE)


def test_sel_local_index_that_does_not_cover_is_accepted_with_a_note():
    p = run(ORDERS, C1, attr("created") > "2024")
    assert p.index == "lsi-created"
    assert verdicts(p)["lsi-created"] == (
        "chosen: key condition on customer = and created >; "
        "reads note, region, status, tags, total from the table (extra read units)"
    )
    assert p.request["Select"] == "ALL_ATTRIBUTES"


# --- ranking ---------------------------------------------------------------------------


def test_sel_rank_sort_key_constrained_beats_table():
    p = run(ORDERS, C1, attr("total") >= 10)
    assert p.index == "lsi-total"
    assert verdicts(p)["table"] == "usable, ranked lower: key condition on customer ="


def test_sel_rank_sort_key_constrained_beats_coverage():
    # lsi-created does not cover, the table does; the constrained sort key wins.
    p = run(ORDERS, C1, attr("created").begins_with("2024"))
    assert p.index == "lsi-created"


def test_sel_rank_sort_key_constrained_gsi_that_does_not_cover_beats_one_that_does():
    p = run(ORDERS, attr("status") == "new", attr("total") < 3, as_dicts=True)
    assert p.index == "gsi-status"
    found = verdicts(p)
    assert found["gsi-status-all"] == "usable, ranked lower: key condition on status ="


def test_sel_rank_covering_beats_declaration_order():
    p = run(ORDERS, attr("status") == "new", as_dicts=True)
    assert p.index == "gsi-status-all"
    found = verdicts(p)
    assert found["gsi-status"] == (
        "usable, ranked lower: key condition on status =; "
        "returns only its projected attributes, not created, note, tags"
    )


def test_sel_rank_table_beats_local_index_when_equal():
    p = run(ORDERS, C1)
    assert p.index is None


def test_sel_rank_table_beats_covering_global_index():
    @attrs.define
    class Doc:
        pk: str
        alt: str

    docs = Mapper(Doc, table="docs", partition_key="pk", indexes=[GlobalIndex("gsi-alt", "alt")])
    p = plan(docs, QuerySpec(conditions=(attr("pk") == "a", attr("alt") == "b")), TABLE)
    assert p.index is None
    assert verdicts(p) == {
        "table": "chosen: key condition on pk =",
        "gsi-alt": "usable, ranked lower: key condition on alt =",
    }


def test_sel_rank_local_beats_global_then_declaration_order():
    @attrs.define
    class Row:
        pk: str
        sk: str
        lk: str = ""
        other: str = ""

    rows = Mapper(
        Row,
        table="rows",
        partition_key="pk",
        sort_key="sk",
        indexes=[
            GlobalIndex("gsi-one", partition_key="pk"),
            GlobalIndex("gsi-two", partition_key="pk"),
            LocalIndex("lsi-lk", sort_key="lk"),
        ],
    )
    # sk != x rules the table out; everything else is equal.
    p = plan(rows, QuerySpec(conditions=(attr("pk") == "a", attr("sk") != "x")), TABLE)
    assert p.index == "lsi-lk"
    found = verdicts(p)
    assert found["gsi-one"] == "usable, ranked lower: key condition on pk ="
    assert found["gsi-two"] == "usable, ranked lower: key condition on pk ="

    global_only = Mapper(
        Row,
        table="rows",
        partition_key="pk",
        sort_key="sk",
        indexes=[GlobalIndex("gsi-one", partition_key="pk"), GlobalIndex("gsi-two", "pk")],
    )
    p = plan(global_only, QuerySpec(conditions=(attr("pk") == "a", attr("sk") != "x")), TABLE)
    assert p.index == "gsi-one"
    reordered = Mapper(
        Row,
        table="rows",
        partition_key="pk",
        sort_key="sk",
        indexes=[GlobalIndex("gsi-two", partition_key="pk"), GlobalIndex("gsi-one", "pk")],
    )
    p = plan(reordered, QuerySpec(conditions=(attr("pk") == "a", attr("sk") != "x")), TABLE)
    assert p.index == "gsi-two"


def test_sel_exactly_one_candidate_is_chosen():
    p = run(ORDERS, C1, attr("total") > 1, attr("status") == "x")
    chosen = [name for name, verdict in p.considered if verdict.startswith("chosen: ")]
    assert chosen == ["lsi-total"]
    assert all(
        verdict.startswith(("chosen: ", "usable, ranked lower: ", "rejected: "))
        for _, verdict in p.considered
    )


# --- index hints -----------------------------------------------------------------------


def test_sel_hint_considers_only_that_index():
    p = run(ORDERS, C1, index="lsi-created")
    assert p.index == "lsi-created"
    assert [name for name, _ in p.considered] == ["lsi-created"]
    assert p.considered[0][1].startswith("chosen: key condition on customer =")


def test_sel_hint_overrides_ranking():
    assert run(ORDERS, C1).index is None
    assert run(ORDERS, C1, index="lsi-total").index == "lsi-total"


def test_sel_hint_unknown_name_suggests_close_matches():
    with pytest.raises(ValidationError) as info:
        run(ORDERS, C1, index="gsi-statu")
    assert not isinstance(info.value, NoIndexForQuery)
    message = str(info.value)
    assert "no index 'gsi-statu'" in message
    assert "did you mean 'gsi-status'" in message


def test_sel_hint_unknown_name_without_close_match_lists_indexes():
    with pytest.raises(ValidationError) as info:
        run(ORDERS, C1, index="zzzzzz")
    message = str(info.value)
    assert "did you mean" not in message
    for name in ORDER_CANDIDATES[1:]:
        assert repr(name) in message


def test_sel_hint_on_a_mapper_without_indexes():
    with pytest.raises(ValidationError, match=r"its indexes: none"):
        run(EVENTS, attr("stream") == "s", index="by-kind")


def test_sel_hint_that_cannot_serve_names_it():
    with pytest.raises(NoIndexForQuery) as info:
        run(ORDERS, C1, index="gsi-region")
    error = info.value
    assert error.rejected == (
        ("gsi-region", "it needs an equality condition (=) on its partition key 'region'"),
    )
    assert "index 'gsi-region' cannot serve this query" in str(error)


def test_sel_hint_that_cannot_serve_does_not_fall_back_to_a_scan():
    with pytest.raises(NoIndexForQuery):
        run(ORDERS, C1, index="gsi-region", allow_scan=True)


def test_sel_hint_does_not_make_the_table_a_candidate():
    with pytest.raises(NoIndexForQuery) as info:
        run(ORDERS, C1, attr("region") == "eu", index="gsi-status-all")
    assert [name for name, _ in info.value.rejected] == ["gsi-status-all"]


@attrs.define
class Thing:
    pk: str
    sk: str
    other: str = ""


#: An index may legally be named "table" (3+ characters of A-Za-z0-9_.-).
THINGS = Mapper(
    Thing,
    table="things",
    partition_key="pk",
    sort_key="sk",
    indexes=[GlobalIndex("table", partition_key="other")],
)


def test_sel_hint_for_an_index_named_table_reads_that_index():
    p = run(THINGS, attr("pk") == "a", attr("other") == "x", index="table")
    assert p.index == "table"
    assert p.request["IndexName"] == "table"
    assert p.considered == (("table", "chosen: key condition on other ="),)


def test_sel_scan_hint_for_an_index_named_table_scans_that_index():
    p = run(THINGS, attr("other") == "x", index="table", scan=True)
    assert p.request.get("IndexName") == "table"
    assert p.considered == (("table", "chosen: scan of the whole index 'table'"),)


# --- nothing fits ----------------------------------------------------------------------


def test_sel_nothing_fits_lists_every_candidate_and_reason():
    with pytest.raises(NoIndexForQuery) as info:
        run(ORDERS, attr("note") == "x")
    error = info.value
    assert [name for name, _ in error.rejected] == ORDER_CANDIDATES
    assert all(reason for _, reason in error.rejected)
    message = str(error)
    for name, reason in error.rejected:
        assert f"{name}: {reason}" in message
    assert "allow_scan=True" in message
    assert isinstance(error, ValidationError)


def test_sel_nothing_fits_with_allow_scan_scans_the_table():
    p = run(ORDERS, attr("note") == "x", attr("total") > 3, allow_scan=True)
    assert p.operation == "Scan"
    assert p.index is None
    assert "KeyConditionExpression" not in p.request
    assert p.request["FilterExpression"] == "#n0 = :v0 AND #n1 > :v1"
    name, verdict = p.considered[0]
    assert name == "scan"
    assert verdict == "chosen: the whole table, as no table or index fits (allow_scan=True)"
    assert [n for n, _ in p.considered[1:]] == ORDER_CANDIDATES
    assert all(v.startswith("rejected: ") for _, v in p.considered[1:])
    assert p.partition is None


def test_sel_allow_scan_is_not_used_when_a_query_fits():
    p = run(ORDERS, C1, allow_scan=True)
    assert p.operation == "Query"
    assert "scan" not in verdicts(p)


def test_sel_allow_scan_fallback_refuses_descending():
    with pytest.raises(ValidationError, match="no descending"):
        run(ORDERS, attr("note") == "x", allow_scan=True, descending=True)


def test_sel_allow_scan_fallback_with_a_global_index_only_consistency_problem():
    p = run(ORDERS, attr("status") == "x", consistent=True, allow_scan=True)
    assert p.operation == "Scan"
    assert p.request["ConsistentRead"] is True
    assert verdicts(p)["gsi-status-all"] == (
        "rejected: a global index does not support consistent reads"
    )


# --- explicit scans --------------------------------------------------------------------


def test_sel_scan_reads_the_table_even_with_a_key_equality():
    p = run(ORDERS, C1, attr("number") > 3, scan=True)
    assert p.operation == "Scan"
    assert p.index is None
    assert p.considered == (("table", "chosen: scan of the whole table"),)
    assert "KeyConditionExpression" not in p.request
    assert p.request["FilterExpression"] == "#n0 = :v0 AND #n1 > :v1"
    assert p.partition is None


def test_sel_scan_without_conditions_has_no_filter():
    p = run(ORDERS, scan=True)
    assert p.request == {"TableName": TABLE}
    assert not p.filtered


def test_sel_scan_of_a_hinted_index():
    p = run(ORDERS, attr("note") == "x", index="gsi-status-all", scan=True)
    assert p.operation == "Scan"
    assert p.index == "gsi-status-all"
    assert p.request["IndexName"] == "gsi-status-all"
    assert p.considered == (("gsi-status-all", "chosen: scan of the whole index 'gsi-status-all'"),)


def test_sel_scan_refuses_descending():
    with pytest.raises(ValidationError) as info:
        run(ORDERS, scan=True, descending=True)
    assert type(info.value) is ValidationError


def test_sel_scan_of_a_global_index_refuses_consistent_reads():
    with pytest.raises(ValidationError) as info:
        run(ORDERS, index="gsi-region", scan=True, consistent=True)
    assert type(info.value) is ValidationError
    assert "'gsi-region'" in str(info.value)


def test_sel_scan_of_table_or_local_index_allows_consistent_reads():
    assert run(ORDERS, scan=True, consistent=True).request["ConsistentRead"] is True
    p = run(ORDERS, index="lsi-total", scan=True, consistent=True)
    assert p.request["ConsistentRead"] is True
    assert p.request["IndexName"] == "lsi-total"


def test_sel_scan_of_a_global_index_that_does_not_cover_objects():
    with pytest.raises(NoIndexForQuery) as info:
        run(ORDERS, index="gsi-status", scan=True)
    assert [name for name, _ in info.value.rejected] == ["gsi-status"]
    assert "cannot serve this scan" in str(info.value)
    p = run(ORDERS, index="gsi-status", scan=True, as_dicts=True)
    assert p.index == "gsi-status"


def test_sel_scan_segments():
    assert run(ORDERS, scan=True, segments=4).request["TotalSegments"] == 4
    assert "TotalSegments" not in run(ORDERS, scan=True, segments=1).request
    assert "TotalSegments" not in run(ORDERS, C1, segments=4).request
    fallback = run(ORDERS, attr("note") == "x", allow_scan=True, segments=3)
    assert fallback.request["TotalSegments"] == 3


# --- projections the class cannot be built from ----------------------------------------


@attrs.define
class Ticket:
    queue: str
    seq: int
    title: str
    body: str = ""


TICKETS = Mapper(Ticket, table="tickets", partition_key="queue", sort_key="seq")


def test_sel_projection_leaving_out_a_required_field_is_refused():
    with pytest.raises(ValidationError) as info:
        run(TICKETS, attr("queue") == "q", projection=(attr("body"),))
    assert type(info.value) is ValidationError
    assert "title" in str(info.value)
    assert ".as_dicts()" in str(info.value)


def test_sel_projection_check_comes_before_planning():
    # No candidate fits either; the projection problem is reported, not NoIndexForQuery.
    with pytest.raises(ValidationError) as info:
        run(TICKETS, attr("body") == "x", projection=(attr("body"),))
    assert type(info.value) is ValidationError


def test_sel_projection_with_required_fields_or_dicts_is_accepted():
    assert run(TICKETS, attr("queue") == "q", projection=(attr("title"),)).operation == "Query"
    p = run(TICKETS, attr("queue") == "q", projection=(attr("body"),), as_dicts=True)
    assert "ProjectionExpression" in p.request


# --- plans for queries of the same shape -------------------------------------------------


def test_sel_same_shape_other_values_gets_its_own_values():
    first = run(EVENTS, attr("stream") == "s1", attr("at") > "a", attr("kind") == "k1")
    second = run(EVENTS, attr("stream") == "s2", attr("at") > "b", attr("kind") == "k2")
    assert first.considered == second.considered
    assert first.partition == ("stream", {"S": "s1"})
    assert second.partition == ("stream", {"S": "s2"})
    assert second.request["ExpressionAttributeValues"] == {
        ":v0": {"S": "s2"},
        ":v1": {"S": "b"},
        ":v2": {"S": "k2"},
    }


def test_sel_same_shape_other_table_name():
    spec = QuerySpec(conditions=(attr("stream") == "s1",))
    assert plan(EVENTS, spec, "dev-events").request["TableName"] == "dev-events"
    assert plan(EVENTS, spec, "prod-events").request["TableName"] == "prod-events"


def test_sel_a_none_value_is_not_planned_like_a_value():
    assert run(EVENTS, attr("stream") == "s1", attr("at") == "x").operation == "Query"
    with pytest.raises(NoIndexForQuery):
        run(EVENTS, attr("stream") == "s1", attr("at") == None)  # noqa: E711
    with pytest.raises(NoIndexForQuery):
        run(EVENTS, attr("stream") == None)  # noqa: E711
    assert run(EVENTS, attr("stream") == "s1", attr("at") == "y").operation == "Query"


def test_sel_a_path_value_is_not_planned_like_a_value():
    assert run(EVENTS, attr("stream") == "s1", attr("at") > "x").operation == "Query"
    with pytest.raises(NoIndexForQuery):
        run(EVENTS, attr("stream") == "s1", attr("at") > attr("body"))


def test_sel_options_are_part_of_the_plan():
    query = (attr("status") == "new",)
    assert run(ORDERS, *query, as_dicts=True).index == "gsi-status-all"
    with pytest.raises(NoIndexForQuery):
        run(ORDERS, *query, consistent=True)
    assert run(ORDERS, *query, consistent=True, allow_scan=True).operation == "Scan"
    assert run(ORDERS, *query, index="gsi-status", as_dicts=True).index == "gsi-status"
    assert run(ORDERS, *query).index == "gsi-status-all"
    assert run(ORDERS, *query, scan=True).operation == "Scan"


def test_sel_projection_is_part_of_the_plan():
    query = (attr("status") == "new",)
    assert run(ORDERS, *query, projection=(attr("region"),), index="gsi-status").index
    with pytest.raises(NoIndexForQuery):
        run(ORDERS, *query, projection=(attr("note"),), index="gsi-status")


def test_sel_begins_with_on_a_number_sort_key_is_not_a_key_condition():
    # DynamoDB's begins_with works on strings and binary only: on the number sort key
    # it cannot be a key condition, nor a filter (a key attribute). An LSI, where
    # "number" is not a key, can still serve it as a filter.
    p = run(ORDERS, C1, attr("number").begins_with("1"))
    assert verdicts(p)["table"].startswith("rejected: the conditions on its sort key 'number'")
    assert p.index is not None  # an LSI
    assert "begins_with" in p.request["FilterExpression"]
