"""Update expressions (SET, REMOVE, ADD, DELETE) and the 4 KB expression limit."""

from decimal import Decimal
from typing import Any

import attrs
import pytest

from dynamorm_async import ConversionError, Mapper, MappingError, ValidationError, attr
from dynamorm_async.expressions import (
    MAX_EXPRESSION_BYTES,
    Params,
    Update,
    check_length,
)


@attrs.define
class Address:
    city: str
    zip: str = ""


@attrs.define
class Item:
    id: str
    price: int = 0
    ratio: Decimal = Decimal(0)
    name: str = ""
    note: str | None = None
    tags: frozenset[str] = frozenset()
    sizes: set[int] = attrs.field(factory=set)
    blobs: frozenset[bytes] = frozenset()
    history: list[str] = attrs.field(factory=list)
    address: Address | None = None
    counts: dict[str, int] = attrs.field(factory=dict)
    extra: Any = None


ITEMS = Mapper(Item, table="items", partition_key="id", field_names={"price": "pr"})


def compile_(update):
    params = Params()
    text = update.compile(ITEMS, params)
    return text, params.names, params.values


def test_of_builds_frozen_data():
    update = Update.of(
        set={"price": 10}, add={"sizes": {1}}, remove=["note"], delete={"tags": {"a"}}
    )
    assert [p.elements for p, _ in update.set] == [("price",)]
    assert [v for _, v in update.set] == [10]
    assert [p.elements for p in update.remove] == [("note",)]
    assert [p.elements for p, _ in update.add] == [("sizes",)]
    assert [p.elements for p, _ in update.delete] == [("tags",)]
    assert [p.elements for p in update.paths()] == [("price",), ("note",), ("sizes",), ("tags",)]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        update.set = ()


def test_of_accepts_paths_and_a_single_remove():
    update = Update.of(set={attr("address", "city"): "Oslo"}, remove="note")
    assert [p.elements for p in update.paths()] == [("address", "city"), ("note",)]
    update = Update.of(remove=attr("note"))
    assert [p.elements for p in update.remove] == [("note",)]


def test_of_rejects_a_path_that_is_not_text_or_attr():
    with pytest.raises(ValidationError, match="expected an attribute name or attr"):
        Update.of(remove=[5])
    with pytest.raises(ValidationError, match="expected an attribute name or attr"):
        Update.of(set={("price",): 1})


def test_truthiness():
    assert not Update()
    assert not Update.of()
    assert Update.of(remove=["note"])
    assert Update.of(add={"price": 1})


def test_equal_updates_compare_equal():
    # Update is frozen data ("can be printed, compared, cached"); comparing two must
    # not trip over Path.__eq__ building a condition.
    assert Update.of(set={"price": 1}) == Update.of(set={"price": 1})
    assert Update.of(set={"price": 1}) != Update.of(set={"price": 2})


def test_set():
    assert compile_(Update.of(set={"price": 10, "name": "DDIA"})) == (
        "SET #n0 = :v0, #n1 = :v1",
        {"#n0": "pr", "#n1": "name"},
        {":v0": {"N": "10"}, ":v1": {"S": "DDIA"}},
    )


def test_set_nested_and_indexed_paths():
    assert compile_(Update.of(set={"address.city": "Oslo", "history[2]": "x", "counts.a": 3})) == (
        "SET #n0.#n1 = :v0, #n2[2] = :v1, #n3.#n4 = :v2",
        {"#n0": "address", "#n1": "city", "#n2": "history", "#n3": "counts", "#n4": "a"},
        {":v0": {"S": "Oslo"}, ":v1": {"S": "x"}, ":v2": {"N": "3"}},
    )


def test_set_whole_nested_object():
    assert compile_(Update.of(set={"address": Address("Oslo", "0150")}))[2] == {
        ":v0": {"M": {"city": {"S": "Oslo"}, "zip": {"S": "0150"}}}
    }


def test_set_values_are_deduplicated():
    assert compile_(Update.of(set={"price": 1, "counts.a": 1, "name": "1"})) == (
        "SET #n0 = :v0, #n1.#n2 = :v0, #n3 = :v1",
        {"#n0": "pr", "#n1": "counts", "#n2": "a", "#n3": "name"},
        {":v0": {"N": "1"}, ":v1": {"S": "1"}},
    )


def test_set_to_none_removes():
    assert compile_(Update.of(set={"note": None, "price": 3})) == (
        "SET #n1 = :v0 REMOVE #n0",
        {"#n0": "note", "#n1": "pr"},
        {":v0": {"N": "3"}},
    )


def test_set_to_an_empty_set_removes():
    # DynamoDB has no empty sets: storing one means leaving the attribute out.
    assert compile_(Update.of(set={"tags": frozenset()})) == ("REMOVE #n0", {"#n0": "tags"}, {})


def test_set_value_of_the_wrong_type_fails():
    with pytest.raises(ConversionError):
        compile_(Update.of(set={"price": "ten"}))


def test_remove():
    assert compile_(Update.of(remove=["note", "address.zip", "history[0]"])) == (
        "REMOVE #n0, #n1.#n2, #n3[0]",
        {"#n0": "note", "#n1": "address", "#n2": "zip", "#n3": "history"},
        {},
    )


def test_add_number_and_sets():
    assert compile_(Update.of(add={"price": -1, "ratio": Decimal("0.5")})) == (
        "ADD #n0 :v0, #n1 :v1",
        {"#n0": "pr", "#n1": "ratio"},
        {":v0": {"N": "-1"}, ":v1": {"N": "0.5"}},
    )
    assert compile_(Update.of(add={"tags": frozenset({"a"})})) == (
        "ADD #n0 :v0",
        {"#n0": "tags"},
        {":v0": {"SS": ["a"]}},
    )
    assert compile_(Update.of(add={"sizes": {7}}))[2] == {":v0": {"NS": ["7"]}}
    assert compile_(Update.of(add={"blobs": frozenset({b"x"})}))[2] == {":v0": {"BS": [b"x"]}}


def test_add_to_an_untyped_attribute_uses_the_value_type():
    assert compile_(Update.of(add={"extra": 2}))[2] == {":v0": {"N": "2"}}
    assert compile_(Update.of(add={"extra": {"a"}}))[2] == {":v0": {"SS": ["a"]}}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("name", "x"),
        ("tags", frozenset()),
        ("sizes", set()),
        ("history", ["a"]),
        ("extra", [1]),
        ("extra", "x"),
        ("extra", None),
        ("address", Address("Oslo")),
    ],
)
def test_add_needs_a_number_or_a_non_empty_set(path, value):
    with pytest.raises(ValidationError, match=f"ADD {path} needs a number or a non-empty set"):
        compile_(Update.of(add={path: value}))


def test_delete_elements_of_a_set():
    assert compile_(Update.of(delete={"tags": frozenset({"a"}), "sizes": {1}})) == (
        "DELETE #n0 :v0, #n1 :v1",
        {"#n0": "tags", "#n1": "sizes"},
        {":v0": {"SS": ["a"]}, ":v1": {"NS": ["1"]}},
    )


def test_delete_a_number_fails():
    with pytest.raises(ValidationError, match="DELETE price removes elements from a set"):
        compile_(Update.of(delete={"price": 1}))


@pytest.mark.parametrize(
    ("path", "value"), [("tags", frozenset()), ("name", "x"), ("history", ["x"]), ("extra", None)]
)
def test_delete_needs_a_non_empty_set(path, value):
    with pytest.raises(ValidationError, match=f"DELETE {path} needs"):
        compile_(Update.of(delete={path: value}))


def test_all_clauses_in_order():
    update = Update.of(
        delete={"tags": frozenset({"old"})},
        add={"price": 1},
        remove=["note"],
        set={"name": "n", "address": None},
    )
    assert compile_(update) == (
        "SET #n0 = :v0 REMOVE #n1, #n2 ADD #n3 :v1 DELETE #n4 :v2",
        {"#n0": "name", "#n1": "address", "#n2": "note", "#n3": "pr", "#n4": "tags"},
        {":v0": {"S": "n"}, ":v1": {"N": "1"}, ":v2": {"SS": ["old"]}},
    )


def test_an_update_needs_an_action():
    with pytest.raises(ValidationError, match="at least one action"):
        compile_(Update())


@pytest.mark.parametrize(
    "update",
    [
        Update.of(set={"price": 1}, remove=["price"]),
        Update.of(set={"price": 1}, add={"price": 1}),
        Update.of(add={"tags": {"a"}}, delete={"tags": {"b"}}),
        Update.of(set={"price": 1, attr("price"): 2}),
        Update.of(remove=["note", "note"]),
        Update.of(set={"address.city": "a"}, remove=[attr("address", "city")]),
    ],
)
def test_touching_a_path_twice_fails(update):
    with pytest.raises(ValidationError, match=r"touches .* more than once"):
        compile_(update)


@pytest.mark.parametrize(
    "update",
    [
        Update.of(set={"address": Address("Oslo")}, remove=["address.zip"]),
        Update.of(set={"address.city": "Oslo"}, remove=["address"]),
        Update.of(set={"history[0]": "a"}, remove=["history"]),
    ],
)
def test_overlapping_paths_fail_before_sending(update):
    # DynamoDB refuses these ("Two document paths overlap with each other"), so a path
    # and one of its ancestors in one update is as wrong as the same path twice.
    with pytest.raises(ValidationError):
        compile_(update)


def test_unknown_fields_fail_with_a_suggestion():
    with pytest.raises(MappingError, match="did you mean 'price'"):
        compile_(Update.of(set={"prce": 1}))
    with pytest.raises(MappingError, match=r"has no field 'cty'.*'city'"):
        compile_(Update.of(remove=["address.cty"]))


def test_update_expression_over_4_kb_fails():
    update = Update.of(set={f"counts.k{i}": i for i in range(400)})
    with pytest.raises(ValidationError, match=r"UpdateExpression is \d+ bytes; .* at most 4096"):
        compile_(update)


# --- check_length --------------------------------------------------------------------------


def test_check_length_allows_exactly_4096_bytes():
    assert MAX_EXPRESSION_BYTES == 4096
    text = "a" * 4096
    assert check_length("ConditionExpression", text) is text


def test_check_length_refuses_4097_bytes():
    with pytest.raises(
        ValidationError, match="ConditionExpression is 4097 bytes; DynamoDB allows at most 4096"
    ) as info:
        check_length("ConditionExpression", "a" * 4097)
    # The context keeps the start of the expression, not all of it.
    assert info.value.expressions == {"ConditionExpression": "a" * 200 + "..."}


def test_check_length_counts_utf8_bytes_not_characters():
    assert check_length("X", "é" * 2048) == "é" * 2048
    with pytest.raises(ValidationError, match="X is 4098 bytes"):
        check_length("X", "é" * 2049)
