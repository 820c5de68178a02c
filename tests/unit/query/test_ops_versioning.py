"""Optimistic locking with a version attribute, and the 400 KB item limit."""

import attrs
import pytest

from dynamorm_async import ItemTooLarge, Mapper, Update, ValidationError, attr, query
from dynamorm_async.convert import MAX_ITEM_BYTES


@attrs.define
class Product:
    id: str
    price: int = 0
    name: str = ""
    version: int = 0


PRODUCTS = Mapper(Product, table="products", partition_key="id", version_attribute="version")
KEY = {"id": {"S": "p1"}}


def item(price=10, name="DDIA", version=1):
    return {
        "id": {"S": "p1"},
        "price": {"N": str(price)},
        "name": {"S": name},
        "version": {"N": str(version)},
    }


@attrs.define
class Line:
    order: str
    line: int
    qty: int = 0
    rev: int = 0


LINES = Mapper(
    Line,
    table="lines",
    partition_key="order",
    sort_key="line",
    version_attribute="rev",
    field_names={"order": "pk", "rev": "_v"},
)


# --- put -----------------------------------------------------------------------------------


def test_put_of_a_version_0_object_requires_an_unversioned_item_and_stores_version_1():
    # Version 0 is "never versioned": no item, or one stored before the mapper had a
    # version attribute. The guard is on the version attribute, not the key.
    product = Product("p1", 10, "DDIA")
    op = query.put(PRODUCTS, product)
    assert op.request("products") == {
        "TableName": "products",
        "Item": item(version=1),
        "ConditionExpression": "attribute_not_exists(#n0)",
        "ExpressionAttributeNames": {"#n0": "version"},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert op.expected_version == 0
    assert op.stored == Product("p1", 10, "DDIA", version=1)
    assert product.version == 0  # the caller's object is left alone


def test_put_of_a_loaded_object_checks_and_bumps_the_version():
    op = query.put(PRODUCTS, Product("p1", 10, "DDIA", version=3))
    assert op.request("products") == {
        "TableName": "products",
        "Item": item(version=4),
        "ConditionExpression": "#n0 = :v0",
        "ExpressionAttributeNames": {"#n0": "version"},
        "ExpressionAttributeValues": {":v0": {"N": "3"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert op.expected_version == 3
    assert op.stored.version == 4


def test_put_version_guard_is_added_to_the_user_condition():
    op = query.put(PRODUCTS, Product("p1", 10, "DDIA", version=3), condition=attr("price") > 3)
    assert op.request("products") == {
        "TableName": "products",
        "Item": item(version=4),
        "ConditionExpression": "#n0 > :v0 AND #n1 = :v0",
        "ExpressionAttributeNames": {"#n0": "price", "#n1": "version"},
        "ExpressionAttributeValues": {":v0": {"N": "3"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_put_create_of_a_new_object_has_one_existence_check():
    op = query.put(PRODUCTS, Product("p1", 10, "DDIA"), create=True)
    request = op.request("products")
    assert request["ConditionExpression"] == "attribute_not_exists(#n0)"
    assert request["ExpressionAttributeNames"] == {"#n0": "id"}
    assert request["Item"] == item(version=1)
    assert op.expected_version is None  # the existence check says it all


@pytest.mark.parametrize("version", [1, 3, 41])
def test_put_create_of_a_versioned_object_bumps_any_version_and_only_checks_existence(version):
    op = query.put(PRODUCTS, Product("p1", 10, "DDIA", version=version), create=True)
    assert op.request("products") == {
        "TableName": "products",
        "Item": item(version=version + 1),
        "ConditionExpression": "attribute_not_exists(#n0)",
        "ExpressionAttributeNames": {"#n0": "id"},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert op.expected_version is None
    assert op.create is True
    assert op.stored == Product("p1", 10, "DDIA", version=version + 1)
    assert not op.is_version_conflict({"version": {"N": str(version)}})


def test_put_create_of_a_versioned_object_with_a_user_condition():
    op = query.put(LINES, Line("o1", 2, qty=1, rev=4), create=True, condition=attr("qty") < 5)
    request = op.request("lines")
    assert request["ConditionExpression"] == "#n0 < :v0 AND attribute_not_exists(#n1)"
    assert request["ExpressionAttributeNames"] == {"#n0": "qty", "#n1": "pk"}
    assert request["ExpressionAttributeValues"] == {":v0": {"N": "5"}}
    assert request["Item"]["_v"] == {"N": "5"}
    assert op.expected_version is None


def test_put_with_stored_names():
    op = query.put(LINES, Line("o1", 2, qty=5, rev=7))
    assert op.request("lines") == {
        "TableName": "lines",
        "Item": {"pk": {"S": "o1"}, "line": {"N": "2"}, "qty": {"N": "5"}, "_v": {"N": "8"}},
        "ConditionExpression": "#n0 = :v0",
        "ExpressionAttributeNames": {"#n0": "_v"},
        "ExpressionAttributeValues": {":v0": {"N": "7"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert op.key == {"pk": {"S": "o1"}, "line": {"N": "2"}}
    new = query.put(LINES, Line("o1", 2)).request("lines")
    assert new["ConditionExpression"] == "attribute_not_exists(#n0)"
    assert new["ExpressionAttributeNames"] == {"#n0": "_v"}  # the stored version name


@pytest.mark.parametrize("version", [-1, "3", 1.0, True])
def test_put_of_an_invalid_version_fails(version):
    with pytest.raises(ValidationError, match=r"Product\.version must be an int >= 0"):
        query.put(PRODUCTS, Product("p1", version=version))


def test_is_version_conflict():
    new = query.put(PRODUCTS, Product("p1"))
    assert not new.is_version_conflict(None)  # no item: a failure was something else
    # An item stored before versioning (no version attribute) counts as version 0.
    assert not new.is_version_conflict({"id": {"S": "p1"}, "price": {"N": "1"}})
    assert new.is_version_conflict({"version": {"N": "1"}})
    loaded = query.put(PRODUCTS, Product("p1", version=3))
    assert loaded.is_version_conflict(None)  # deleted since it was loaded
    assert not loaded.is_version_conflict({"version": {"N": "3"}})
    assert loaded.is_version_conflict({"version": {"N": "4"}})
    assert loaded.is_version_conflict({"id": {"S": "p1"}})
    unversioned = query.put(Mapper(Product, table="products", partition_key="id"), Product("p1"))
    assert not unversioned.is_version_conflict({"version": {"N": "9"}})


# --- update --------------------------------------------------------------------------------


def test_update_of_an_object_checks_and_bumps_the_version():
    op = query.update(PRODUCTS, Product("p1", 10, version=3), Update.of(set={"price": 12}))
    assert op.request("products") == {
        "TableName": "products",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0, #n1 = :v1",
        "ConditionExpression": "#n1 = :v2",
        "ExpressionAttributeNames": {"#n0": "price", "#n1": "version"},
        "ExpressionAttributeValues": {":v0": {"N": "12"}, ":v1": {"N": "4"}, ":v2": {"N": "3"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert op.expected_version == 3


def test_upsert_of_a_version_0_object_only_requires_no_version():
    op = query.update(PRODUCTS, Product("p1"), Update.of(set={"name": "x"}), upsert=True)
    assert op.must_exist is False
    assert op.expected_version == 0
    assert op.request("products") == {
        "TableName": "products",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0, #n1 = :v1",
        "ConditionExpression": "attribute_not_exists(#n1)",
        "ExpressionAttributeNames": {"#n0": "name", "#n1": "version"},
        "ExpressionAttributeValues": {":v0": {"S": "x"}, ":v1": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_update_of_a_version_0_object_without_upsert_requires_an_unversioned_item():
    # The item must exist (no upsert) and must have no version yet (stored before the
    # mapper had a version attribute); the server's answer tells which failed.
    op = query.update(PRODUCTS, Product("p1"), Update.of(set={"name": "x"}))
    assert op.must_exist is True
    assert op.expected_version == 0
    assert op.request("products") == {
        "TableName": "products",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0, #n1 = :v1",
        "ConditionExpression": "attribute_not_exists(#n1) AND attribute_exists(#n2)",
        "ExpressionAttributeNames": {"#n0": "name", "#n1": "version", "#n2": "id"},
        "ExpressionAttributeValues": {":v0": {"S": "x"}, ":v1": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert not op.is_version_conflict({"id": {"S": "p1"}})  # a legacy item is version 0
    assert op.is_version_conflict({"id": {"S": "p1"}, "version": {"N": "2"}})


def test_update_of_a_version_0_object_with_a_user_condition_and_stored_names():
    op = query.update(LINES, Line("o1", 2), Update.of(add={"qty": 1}), condition=attr("qty") < 10)
    request = op.request("lines")
    assert request["UpdateExpression"] == "SET #n0 = :v0 ADD #n1 :v0"
    assert request["ConditionExpression"] == (
        "#n1 < :v1 AND attribute_not_exists(#n0) AND attribute_exists(#n2)"
    )
    assert request["ExpressionAttributeNames"] == {"#n0": "_v", "#n1": "qty", "#n2": "pk"}
    assert request["ExpressionAttributeValues"] == {":v0": {"N": "1"}, ":v1": {"N": "10"}}
    assert op.must_exist is True


def test_update_of_an_object_with_a_user_condition():
    op = query.update(
        LINES,
        Line("o1", 2, rev=5),
        Update.of(add={"qty": 1}),
        condition=attr("qty") < 10,
        return_values="NONE",
    )
    assert op.request("lines") == {
        "TableName": "lines",
        "Key": {"pk": {"S": "o1"}, "line": {"N": "2"}},
        "UpdateExpression": "SET #n0 = :v0 ADD #n1 :v1",
        "ConditionExpression": "#n1 < :v2 AND #n0 = :v3",
        "ExpressionAttributeNames": {"#n0": "_v", "#n1": "qty"},
        "ExpressionAttributeValues": {
            ":v0": {"N": "6"},
            ":v1": {"N": "1"},
            ":v2": {"N": "10"},
            ":v3": {"N": "5"},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


@pytest.mark.parametrize("key", ["p1", ("p1",), {"id": "p1"}])
def test_update_by_key_adds_one_and_requires_the_item_to_exist(key):
    op = query.update(PRODUCTS, key, Update.of(set={"price": 12}))
    assert op.request("products") == {
        "TableName": "products",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0 ADD #n1 :v1",
        "ConditionExpression": "attribute_exists(#n2)",
        "ExpressionAttributeNames": {"#n0": "price", "#n1": "version", "#n2": "id"},
        "ExpressionAttributeValues": {":v0": {"N": "12"}, ":v1": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert op.expected_version is None
    assert op.must_exist is True


def test_update_by_key_with_a_user_condition_puts_the_existence_check_last():
    op = query.update(LINES, ("o1", 2), Update.of(add={"qty": 1}), condition=attr("qty") < 10)
    request = op.request("lines")
    assert request["UpdateExpression"] == "ADD #n0 :v0, #n1 :v0"
    assert request["ConditionExpression"] == "#n0 < :v1 AND attribute_exists(#n2)"
    assert request["ExpressionAttributeNames"] == {"#n0": "qty", "#n1": "_v", "#n2": "pk"}
    assert request["ExpressionAttributeValues"] == {":v0": {"N": "1"}, ":v1": {"N": "10"}}
    assert op.must_exist is True


def test_upsert_by_key_adds_one_without_a_condition():
    op = query.update(PRODUCTS, "p1", Update.of(set={"price": 12}), upsert=True)
    assert op.request("products") == {
        "TableName": "products",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0 ADD #n1 :v1",
        "ExpressionAttributeNames": {"#n0": "price", "#n1": "version"},
        "ExpressionAttributeValues": {":v0": {"N": "12"}, ":v1": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
    }
    assert op.expected_version is None
    assert op.condition is None
    assert op.must_exist is False


@pytest.mark.parametrize("upsert", [False, True])
def test_update_of_a_versioned_object_relies_on_the_version_guard(upsert):
    loaded = query.update(
        PRODUCTS, Product("p1", version=3), Update.of(set={"price": 1}), upsert=upsert
    )
    assert loaded.request("products")["ConditionExpression"] == "#n1 = :v2"
    assert loaded.must_exist is False
    new = query.update(PRODUCTS, Product("p1"), Update.of(set={"price": 1}), upsert=True)
    assert new.request("products")["ConditionExpression"] == "attribute_not_exists(#n1)"
    assert new.request("products")["ExpressionAttributeNames"] == {
        "#n0": "price",
        "#n1": "version",
    }
    assert new.must_exist is False


def test_update_by_key_with_no_changes_still_bumps_the_version():
    request = query.update(PRODUCTS, "p1", Update.of()).request("products")
    assert request["UpdateExpression"] == "ADD #n0 :v0"
    assert request["ConditionExpression"] == "attribute_exists(#n1)"
    assert request["ExpressionAttributeNames"] == {"#n0": "version", "#n1": "id"}
    assert request["ExpressionAttributeValues"] == {":v0": {"N": "1"}}


@pytest.mark.parametrize(
    "changes",
    [
        Update.of(set={"version": 9}),
        Update.of(add={"version": 1}),
        Update.of(remove=["version"]),
        Update.of(set={attr("version"): 9}),
    ],
)
def test_update_of_the_version_fails(changes):
    with pytest.raises(
        ValidationError, match="version is the version attribute; it is managed for you"
    ):
        query.update(PRODUCTS, "p1", changes)


@pytest.mark.parametrize(
    ("mapper", "key", "changes"),
    [
        (PRODUCTS, "p1", Update.of(set={"id": "p2"})),
        (PRODUCTS, "p1", Update.of(remove=["id"])),
        (LINES, ("o1", 2), Update.of(set={"line": 3})),
        (LINES, ("o1", 2), Update.of(add={"order": "x"})),
    ],
)
def test_update_of_a_key_field_fails(mapper, key, changes):
    with pytest.raises(ValidationError, match="cannot update key field"):
        query.update(mapper, key, changes)


def test_update_of_an_object_with_an_invalid_version_fails():
    with pytest.raises(ValidationError, match="must be an int >= 0"):
        query.update(PRODUCTS, Product("p1", version=-2), Update.of(set={"price": 1}))


# --- delete --------------------------------------------------------------------------------


def test_delete_of_a_loaded_object_checks_the_version():
    op = query.delete(PRODUCTS, Product("p1", version=3))
    assert op.request("products") == {
        "TableName": "products",
        "Key": KEY,
        "ConditionExpression": "#n0 = :v0",
        "ExpressionAttributeNames": {"#n0": "version"},
        "ExpressionAttributeValues": {":v0": {"N": "3"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert op.expected_version == 3


def test_delete_of_a_loaded_object_with_a_user_condition():
    request = query.delete(
        LINES, Line("o1", 2, rev=1), condition=attr("qty") == 0, return_old=True
    ).request("lines")
    assert request == {
        "TableName": "lines",
        "Key": {"pk": {"S": "o1"}, "line": {"N": "2"}},
        "ConditionExpression": "#n0 = :v0 AND #n1 = :v1",
        "ExpressionAttributeNames": {"#n0": "qty", "#n1": "_v"},
        "ExpressionAttributeValues": {":v0": {"N": "0"}, ":v1": {"N": "1"}},
        "ReturnValues": "ALL_OLD",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_delete_of_a_version_0_object_refuses_to_delete_a_versioned_item():
    # It deletes a missing or unversioned (legacy) item, never a versioned one.
    op = query.delete(PRODUCTS, Product("p1"))
    assert op.request("products") == {
        "TableName": "products",
        "Key": KEY,
        "ConditionExpression": "attribute_not_exists(#n0)",
        "ExpressionAttributeNames": {"#n0": "version"},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert op.expected_version == 0
    assert not op.is_version_conflict(None)
    assert not op.is_version_conflict({"id": {"S": "p1"}})
    assert op.is_version_conflict({"id": {"S": "p1"}, "version": {"N": "3"}})


def test_delete_of_a_version_0_object_with_stored_names():
    request = query.delete(LINES, Line("o1", 2), condition=attr("qty") == 0).request("lines")
    assert request == {
        "TableName": "lines",
        "Key": {"pk": {"S": "o1"}, "line": {"N": "2"}},
        "ConditionExpression": "#n0 = :v0 AND attribute_not_exists(#n1)",
        "ExpressionAttributeNames": {"#n0": "qty", "#n1": "_v"},
        "ExpressionAttributeValues": {":v0": {"N": "0"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_delete_by_key_has_no_version_check():
    op = query.delete(PRODUCTS, "p1")
    assert op.request("products") == {"TableName": "products", "Key": KEY}
    assert op.expected_version is None


# --- item size -------------------------------------------------------------------------------


@attrs.define
class Doc:
    id: str
    body: str = ""
    data: bytes = b""


DOCS = Mapper(Doc, table="docs", partition_key="id")
# "id" + "p1" + "body" + "data" + b"": the bytes around the body.
OVERHEAD = len("id") + len("p1") + len("body") + len("data")


def test_an_item_of_exactly_400_kb_is_allowed():
    assert MAX_ITEM_BYTES == 400 * 1024
    op = query.put(DOCS, Doc("p1", "x" * (MAX_ITEM_BYTES - OVERHEAD)))
    assert op.request("docs")["Item"]["body"] == {"S": "x" * (MAX_ITEM_BYTES - OVERHEAD)}


def test_an_item_over_400_kb_is_refused_before_sending():
    with pytest.raises(ItemTooLarge) as info:
        query.put(DOCS, Doc("p1", "x" * (MAX_ITEM_BYTES - OVERHEAD + 1)))
    error = info.value
    assert isinstance(error, ValidationError)
    assert error.size == MAX_ITEM_BYTES + 1
    assert error.limit == MAX_ITEM_BYTES
    assert error.table is None  # the repository names the (templated) table
    assert error.operation == "PutItem"
    assert error.key == {"id": "p1"}
    assert str(error) == (
        "Doc item is 409,601 bytes; DynamoDB's limit is 409,600 (400 KB, names and values) "
        "(operation=PutItem, key={'id': 'p1'})"
    )


def test_item_size_counts_utf8_bytes():
    # 204,800 characters of two bytes each: 409,600 bytes of body alone.
    with pytest.raises(ItemTooLarge) as info:
        query.put(DOCS, Doc("p1", "é" * (MAX_ITEM_BYTES // 2)))
    assert info.value.size == MAX_ITEM_BYTES + OVERHEAD


def test_item_size_counts_binary_and_attribute_names():
    with pytest.raises(ItemTooLarge) as info:
        query.put(DOCS, Doc("p1", "x" * 200_000, b"\x00" * 210_000))
    assert info.value.size == 410_000 + OVERHEAD


def test_item_size_includes_the_bumped_version():
    @attrs.define
    class Page:
        id: str
        body: str = ""
        v: int = 0

    pages = Mapper(Page, table="pages", partition_key="id", version_attribute="v")
    overhead = len("id") + len("p1") + len("body") + len("v")
    # A number takes one byte per two significant digits, plus one: "110" is 2 bytes
    # ("11"), "111" is 3. The size is measured on the item as stored, version bumped.
    body = "x" * (MAX_ITEM_BYTES - overhead - 2)
    assert query.put(pages, Page("p1", body, v=109)).item["v"] == {"N": "110"}
    with pytest.raises(ItemTooLarge) as info:
        query.put(pages, Page("p1", body, v=110))
    assert info.value.size == MAX_ITEM_BYTES + 1
