"""Get, Put, Update and Delete operations and the exact request payloads they make."""

import attrs
import pytest

from dynamorm_async import Mapper, MappingError, Update, ValidationError, attr, query
from dynamorm_async.query import DeleteOp, GetOp, PutOp, UpdateOp


@attrs.define
class Address:
    city: str
    zip: str = ""


@attrs.define
class Order:
    customer: str
    number: int
    total: int = 0
    status: str = ""
    note: str | None = None
    address: Address | None = None
    tags: frozenset[str] = frozenset()
    counts: dict[str, int] = attrs.field(factory=dict)


ORDERS = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    field_names={"customer": "pk", "number": "sk", "status": "st"},
)
KEY = {"pk": {"S": "c1"}, "sk": {"N": "7"}}


def order(**changes):
    return attrs.evolve(Order("c1", 7, total=30, status="new"), **changes)


ITEM = {
    "pk": {"S": "c1"},
    "sk": {"N": "7"},
    "total": {"N": "30"},
    "st": {"S": "new"},
    "counts": {"M": {}},
}


# --- get ---------------------------------------------------------------------------------


def test_get():
    op = query.get(ORDERS, ("c1", 7))
    assert isinstance(op, GetOp)
    assert op.request("prod-orders") == {"TableName": "prod-orders", "Key": KEY}


@pytest.mark.parametrize("key", [("c1", 7), {"customer": "c1", "number": 7}, Order("c1", 7)])
def test_get_key_forms(key):
    assert query.get(ORDERS, key).request("orders")["Key"] == KEY


def test_get_consistent():
    assert query.get(ORDERS, ("c1", 7), consistent=True).request("orders") == {
        "TableName": "orders",
        "Key": KEY,
        "ConsistentRead": True,
    }


def test_get_with_projection_always_fetches_the_key():
    request = query.get(ORDERS, ("c1", 7), projection=["total", "address.city"]).request("orders")
    assert request == {
        "TableName": "orders",
        "Key": KEY,
        "ProjectionExpression": "#n0, #n1, #n2, #n3.#n4",
        "ExpressionAttributeNames": {
            "#n0": "pk",
            "#n1": "sk",
            "#n2": "total",
            "#n3": "address",
            "#n4": "city",
        },
    }


def test_get_projection_naming_a_key_field_lists_it_once():
    request = query.get(
        ORDERS, ("c1", 7), projection=[attr("number"), "status", "customer"]
    ).request("orders")
    assert request["ProjectionExpression"] == "#n0, #n1, #n2"
    assert request["ExpressionAttributeNames"] == {"#n0": "pk", "#n1": "sk", "#n2": "st"}


def test_get_projection_naming_a_field_twice_lists_it_once():
    # DynamoDB refuses a ProjectionExpression whose paths overlap.
    request = query.get(ORDERS, ("c1", 7), projection=["total", "total", attr("total")]).request(
        "orders"
    )
    assert request["ProjectionExpression"] == "#n0, #n1, #n2"
    assert request["ExpressionAttributeNames"] == {"#n0": "pk", "#n1": "sk", "#n2": "total"}


def test_get_projection_of_a_simple_key_table():
    @attrs.define
    class Doc:
        id: str
        body: str = ""

    docs = Mapper(Doc, table="docs", partition_key="id")
    assert query.get(docs, "d1", projection=["body"]).request("docs") == {
        "TableName": "docs",
        "Key": {"id": {"S": "d1"}},
        "ProjectionExpression": "#n0, #n1",
        "ExpressionAttributeNames": {"#n0": "id", "#n1": "body"},
    }


def test_get_unknown_projection_field_fails_when_built():
    with pytest.raises(MappingError, match="'totl', which is not a field; did you mean 'total'"):
        query.get(ORDERS, ("c1", 7), projection=["totl"])


def test_get_invalid_key_fails_when_built():
    with pytest.raises(ValidationError, match="Order key takes 2 value"):
        query.get(ORDERS, ("c1",))


def test_get_projection_over_4_kb_fails():
    op = query.get(ORDERS, ("c1", 7), projection=[f"counts.key{i}" for i in range(500)])
    with pytest.raises(ValidationError, match=r"ProjectionExpression is \d+ bytes"):
        op.request("orders")


# --- put -----------------------------------------------------------------------------------


def test_put():
    op = query.put(ORDERS, order())
    assert isinstance(op, PutOp)
    assert op.key == KEY
    assert op.item == ITEM
    assert op.condition is None
    assert op.expected_version is None
    assert op.request("orders") == {"TableName": "orders", "Item": ITEM}


def test_put_with_a_condition():
    op = query.put(ORDERS, order(), condition=(attr("status") == "new") & attr("note").not_exists())
    assert op.request("orders") == {
        "TableName": "orders",
        "Item": ITEM,
        "ConditionExpression": "#n0 = :v0 AND attribute_not_exists(#n1)",
        "ExpressionAttributeNames": {"#n0": "st", "#n1": "note"},
        "ExpressionAttributeValues": {":v0": {"S": "new"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_put_create():
    assert query.put(ORDERS, order(), create=True).request("orders") == {
        "TableName": "orders",
        "Item": ITEM,
        "ConditionExpression": "attribute_not_exists(#n0)",
        "ExpressionAttributeNames": {"#n0": "pk"},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_put_create_with_a_condition():
    request = query.put(ORDERS, order(), create=True, condition=attr("total") < 100).request("t")
    assert request["ConditionExpression"] == "#n0 < :v0 AND attribute_not_exists(#n1)"
    assert request["ExpressionAttributeNames"] == {"#n0": "total", "#n1": "pk"}
    assert request["ExpressionAttributeValues"] == {":v0": {"N": "100"}}


def test_put_return_old():
    assert query.put(ORDERS, order(), return_old=True).request("orders") == {
        "TableName": "orders",
        "Item": ITEM,
        "ReturnValues": "ALL_OLD",
    }


def test_put_of_another_class_fails():
    with pytest.raises(ValidationError, match="stores Order, not Address") as info:
        query.put(ORDERS, Address("Oslo"))
    assert info.value.operation == "PutItem"
    assert info.value.table is None  # the repository names the (templated) table
    with pytest.raises(ValidationError, match="stores Order, not tuple"):
        query.put(ORDERS, ("c1", 7))


def test_put_of_an_empty_key_fails():
    with pytest.raises(
        ValidationError, match=r"Order\.customer is a key field and cannot be empty"
    ):
        query.put(ORDERS, order(customer=""))


def test_put_condition_over_4_kb_fails():
    op = query.put(ORDERS, order(), condition=attr("status").is_in([f"s{i}" for i in range(700)]))
    with pytest.raises(
        ValidationError, match=r"ConditionExpression is \d+ bytes; DynamoDB allows at most 4096"
    ):
        op.request("orders")


# --- update --------------------------------------------------------------------------------


def test_update_by_key_requires_the_item_to_exist():
    op = query.update(ORDERS, ("c1", 7), Update.of(set={"total": 40}, remove=["note"]))
    assert isinstance(op, UpdateOp)
    assert op.must_exist is True
    assert op.expected_version is None
    assert op.request("orders") == {
        "TableName": "orders",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0 REMOVE #n1",
        "ConditionExpression": "attribute_exists(#n2)",
        "ExpressionAttributeNames": {"#n0": "total", "#n1": "note", "#n2": "pk"},
        "ExpressionAttributeValues": {":v0": {"N": "40"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_update_by_object_of_an_unversioned_mapper_requires_the_item_to_exist():
    op = query.update(ORDERS, order(total=1), Update.of(add={"total": 5}))
    assert op.must_exist is True
    assert op.request("orders") == {
        "TableName": "orders",
        "Key": KEY,
        "UpdateExpression": "ADD #n0 :v0",
        "ConditionExpression": "attribute_exists(#n1)",
        "ExpressionAttributeNames": {"#n0": "total", "#n1": "pk"},
        "ExpressionAttributeValues": {":v0": {"N": "5"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


@pytest.mark.parametrize("target", [("c1", 7), {"customer": "c1", "number": 7}, order()])
def test_upsert_has_no_existence_condition(target):
    op = query.update(ORDERS, target, Update.of(set={"total": 40}), upsert=True)
    assert op.must_exist is False
    assert op.condition is None
    assert op.request("orders") == {
        "TableName": "orders",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0",
        "ExpressionAttributeNames": {"#n0": "total"},
        "ExpressionAttributeValues": {":v0": {"N": "40"}},
        "ReturnValues": "ALL_NEW",
    }


def test_upsert_keeps_the_user_condition_only():
    op = query.update(
        ORDERS, ("c1", 7), Update.of(set={"total": 40}), condition=attr("total") < 40, upsert=True
    )
    assert op.must_exist is False
    assert op.request("orders") == {
        "TableName": "orders",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0",
        "ConditionExpression": "#n0 < :v0",
        "ExpressionAttributeNames": {"#n0": "total"},
        "ExpressionAttributeValues": {":v0": {"N": "40"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_update_condition_shares_placeholders_with_the_update():
    op = query.update(
        ORDERS,
        {"customer": "c1", "number": 7},
        Update.of(set={"total": 5, "status": "paid"}, add={"tags": {"x"}}),
        condition=(attr("total") > 5) & (attr("status") != "paid"),
    )
    assert op.request("orders") == {
        "TableName": "orders",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0, #n1 = :v1 ADD #n2 :v2",
        "ConditionExpression": "#n0 > :v0 AND #n1 <> :v1 AND attribute_exists(#n3)",
        "ExpressionAttributeNames": {"#n0": "total", "#n1": "st", "#n2": "tags", "#n3": "pk"},
        "ExpressionAttributeValues": {
            ":v0": {"N": "5"},
            ":v1": {"S": "paid"},
            ":v2": {"SS": ["x"]},
        },
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_update_existence_guard_comes_last_and_an_or_condition_is_parenthesized():
    op = query.update(
        ORDERS,
        ("c1", 7),
        Update.of(set={"total": 5}),
        condition=(attr("status") == "new") | (attr("note") == None),  # noqa: E711
    )
    request = op.request("orders")
    assert request["ConditionExpression"] == (
        "(#n1 = :v1 OR attribute_not_exists(#n2) OR #n2 = :v2) AND attribute_exists(#n3)"
    )
    assert request["ExpressionAttributeNames"] == {
        "#n0": "total",
        "#n1": "st",
        "#n2": "note",
        "#n3": "pk",
    }
    assert request["ExpressionAttributeValues"] == {
        ":v0": {"N": "5"},
        ":v1": {"S": "new"},
        ":v2": {"NULL": True},
    }


@pytest.mark.parametrize("return_values", ["ALL_NEW", "ALL_OLD"])
def test_update_return_values(return_values):
    op = query.update(ORDERS, ("c1", 7), Update.of(set={"total": 1}), return_values=return_values)
    assert op.request("orders")["ReturnValues"] == return_values


def test_update_return_nothing():
    request = query.update(
        ORDERS, ("c1", 7), Update.of(set={"total": 1}), return_values="NONE"
    ).request("orders")
    assert "ReturnValues" not in request


@pytest.mark.parametrize("return_values", ["UPDATED_NEW", "all_new", "", None])
def test_update_return_values_must_be_known(return_values):
    with pytest.raises(
        ValidationError, match="return_values must be 'NONE', 'ALL_NEW' or 'ALL_OLD'"
    ):
        query.update(ORDERS, ("c1", 7), Update.of(set={"total": 1}), return_values=return_values)


def test_update_needs_an_action():
    with pytest.raises(
        ValidationError, match="an update needs at least one of set, remove, add, delete"
    ):
        query.update(ORDERS, ("c1", 7), Update.of())


@pytest.mark.parametrize(
    "changes",
    [
        Update.of(set={"customer": "c2"}),
        Update.of(set={"number": 8}),
        Update.of(remove=["number"]),
        Update.of(add={"number": 1}),
        Update.of(set={attr("customer"): "c2"}),
    ],
)
def test_update_of_a_key_field_fails(changes):
    with pytest.raises(ValidationError, match="cannot update key field") as info:
        query.update(ORDERS, ("c1", 7), changes)
    assert info.value.operation == "UpdateItem"


def test_update_unknown_field_fails_when_built():
    with pytest.raises(MappingError, match="did you mean 'total'"):
        query.update(ORDERS, ("c1", 7), Update.of(set={"totl": 1}))
    with pytest.raises(MappingError, match="has no field 'cty'"):
        query.update(ORDERS, ("c1", 7), Update.of(set={"address.cty": "x"}))


def test_update_of_an_invalid_key_fails():
    with pytest.raises(ValidationError, match=r"Order\.number key value '7' is invalid"):
        query.update(ORDERS, ("c1", "7"), Update.of(set={"total": 1}))


def test_update_expression_over_4_kb_fails():
    op = query.update(ORDERS, ("c1", 7), Update.of(set={f"counts.k{i}": i for i in range(400)}))
    with pytest.raises(ValidationError, match=r"UpdateExpression is \d+ bytes"):
        op.request("orders")


# --- delete --------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [("c1", 7), {"customer": "c1", "number": 7}, Order("c1", 7)])
def test_delete(target):
    op = query.delete(ORDERS, target)
    assert isinstance(op, DeleteOp)
    assert op.request("orders") == {"TableName": "orders", "Key": KEY}


def test_delete_with_a_condition_and_return_old():
    op = query.delete(ORDERS, ("c1", 7), condition=attr("address.city") == "Oslo", return_old=True)
    assert op.request("orders") == {
        "TableName": "orders",
        "Key": KEY,
        "ConditionExpression": "#n0.#n1 = :v0",
        "ExpressionAttributeNames": {"#n0": "address", "#n1": "city"},
        "ExpressionAttributeValues": {":v0": {"S": "Oslo"}},
        "ReturnValues": "ALL_OLD",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_delete_of_an_invalid_key_fails():
    with pytest.raises(ValidationError, match="Order has a composite key"):
        query.delete(ORDERS, "c1")


# --- conditions must be conditions ---------------------------------------------------------


@pytest.mark.parametrize("condition", ["total > 5", True, 1, attr("total"), {"total": 5}])
def test_a_condition_must_be_a_condition(condition):
    match = r"condition must be built with attr\(\.\.\.\)"
    with pytest.raises(ValidationError, match=match):
        query.put(ORDERS, order(), condition=condition)
    with pytest.raises(ValidationError, match=match):
        query.update(ORDERS, ("c1", 7), Update.of(set={"total": 1}), condition=condition)
    with pytest.raises(ValidationError, match=match):
        query.delete(ORDERS, ("c1", 7), condition=condition)


def test_unknown_field_in_a_condition_fails():
    op = query.delete(ORDERS, ("c1", 7), condition=attr("totl") > 1)
    with pytest.raises(MappingError, match="did you mean 'total'"):
        op.request("orders")


# --- operations are data ----------------------------------------------------------------------


def test_requests_are_repeatable_and_independent():
    op = query.put(ORDERS, order(), condition=attr("total") > 5)
    first = op.request("a-table")
    second = op.request("b-table")
    assert first == {**second, "TableName": "a-table"}
    assert first["ExpressionAttributeValues"] is not second["ExpressionAttributeValues"]


def test_operations_are_frozen():
    op = query.get(ORDERS, ("c1", 7))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        op.consistent = True
