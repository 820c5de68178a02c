"""Errors: a bad item or a bad object gives a ConversionError that says where and what."""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pytest

from dynamorm_async.convert import ItemCodec, TypeRegistry, decode_any
from dynamorm_async.errors import ConversionError, DynamORMError


@attrs.define
class Inner:
    x: int
    label: str | None = None


@attrs.define
class Item:
    id: str
    count: int
    active: bool
    data: bytes
    ref: uuid.UUID
    inner: Inner
    children: list[Inner] = attrs.Factory(list)
    note: str | None = None


@attrs.define
class Loose:
    extra: Any


def good_item() -> dict[str, Any]:
    return {
        "id": {"S": "a"},
        "count": {"N": "1"},
        "active": {"BOOL": True},
        "data": {"B": b"x"},
        "ref": {"S": "12345678-1234-5678-1234-567812345678"},
        "inner": {"M": {"x": {"N": "1"}}},
        "children": {"L": []},
    }


def good_obj() -> Item:
    return Item("a", 1, True, b"x", uuid.UUID("12345678-1234-5678-1234-567812345678"), Inner(1))


@pytest.fixture
def codec() -> ItemCodec[Item]:
    return ItemCodec(Item, TypeRegistry())


def test_good_item_decodes(codec: ItemCodec[Item]) -> None:
    assert codec.decode(good_item()) == good_obj()
    assert codec.encode(good_obj()) == good_item()


# --- decoding garbage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "av"),
    [
        ("id", {"N": "1"}),
        ("id", {"S": 5}),
        ("id", {"L": []}),
        ("count", {"S": "5"}),
        ("count", {"N": "abc"}),
        ("count", {"N": "1.5"}),
        ("count", {"BOOL": True}),
        ("active", {"S": "true"}),
        ("active", {"BOOL": "true"}),
        ("active", {"N": "1"}),
        ("data", {"S": "x"}),
        ("data", {"B": "not bytes"}),
        ("ref", {"S": "not-a-uuid"}),
        ("ref", {"B": b"x"}),
        ("inner", {"L": []}),
        ("inner", {"S": "x"}),
        ("children", {"M": {}}),
        ("children", {"SS": ["a"]}),
        ("note", {"N": "1"}),
    ],
)
def test_wrong_attribute_value_names_the_field(
    codec: ItemCodec[Item], field: str, av: dict[str, Any]
) -> None:
    item = good_item()
    item[field] = av
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    err = info.value
    assert err.cls is Item
    assert err.field == field
    assert f"Item.{field}" in str(err)
    assert err.value == av


def test_wrong_tag_message_says_expected_type(codec: ItemCodec[Item]) -> None:
    item = good_item()
    item["count"] = {"S": "5"}
    with pytest.raises(ConversionError, match="'N'"):
        codec.decode(item)


@pytest.mark.parametrize("field", ["id", "count", "active", "data", "ref", "inner"])
def test_missing_required_attribute(codec: ItemCodec[Item], field: str) -> None:
    item = good_item()
    del item[field]
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    err = info.value
    assert err.cls is Item
    assert err.field == field
    assert "required" in str(err)
    assert f"Item.{field}" in str(err)


def test_missing_optional_and_defaulted_attributes_are_fine(codec: ItemCodec[Item]) -> None:
    item = good_item()
    del item["children"]
    assert codec.decode(item) == good_obj()


def test_missing_renamed_attribute_names_stored_name() -> None:
    codec = ItemCodec(Item, TypeRegistry(), rename={"count": "cnt"})
    item = good_item()
    del item["count"]
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    assert info.value.field == "count"
    assert "'cnt'" in str(info.value)


def test_wrong_value_under_renamed_attribute() -> None:
    codec = ItemCodec(Item, TypeRegistry(), rename={"count": "cnt"})
    item = good_item()
    item["cnt"] = item.pop("count")
    assert codec.decode(dict(item)) == good_obj()
    item["cnt"] = {"S": "x"}
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    assert info.value.field == "count"
    assert info.value.value == {"S": "x"}


@pytest.mark.parametrize("garbage", [None, [], ["id"], "item", 5, b"x"])
def test_not_a_dict_at_all(codec: ItemCodec[Item], garbage: Any) -> None:
    with pytest.raises(ConversionError) as info:
        codec.decode(garbage)
    err = info.value
    assert err.cls is Item
    assert err.field is None
    assert "Item" in str(err)
    assert err.value is garbage


def test_attribute_values_not_dicts(codec: ItemCodec[Item]) -> None:
    item: dict[str, Any] = good_item()
    item["count"] = "1"  # a plain value where an AttributeValue belongs
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    assert info.value.field == "count"


def test_nested_class_field_wrong(codec: ItemCodec[Item]) -> None:
    item = good_item()
    item["inner"] = {"M": {"x": {"S": "1"}}}
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    err = info.value
    assert err.cls is Item
    assert err.field == "inner.x"
    assert "Item.inner.x" in str(err)


def test_nested_class_missing_field(codec: ItemCodec[Item]) -> None:
    item = good_item()
    item["inner"] = {"M": {"label": {"S": "l"}}}
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    assert info.value.field == "inner.x"
    assert "'x'" in str(info.value)


def test_nested_class_in_list_names_index(codec: ItemCodec[Item]) -> None:
    item = good_item()
    item["children"] = {"L": [{"M": {"x": {"N": "1"}}}, {"M": {"x": {"S": "q"}}}]}
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    assert info.value.cls is Item
    assert info.value.field == "children[1].x"


def test_unknown_tag_in_any_field() -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Loose, TypeRegistry()).decode({"extra": {"Q": 1}})
    assert info.value.cls is Loose
    assert info.value.field == "extra"


def test_unstorable_value_in_any_field() -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Loose, TypeRegistry()).encode(Loose(object()))
    assert info.value.cls is Loose
    assert info.value.field == "extra"
    assert "Loose.extra" in str(info.value)


def test_decode_any_unknown_tag() -> None:
    with pytest.raises(ConversionError, match="unknown DynamoDB type"):
        decode_any({"X": "1"})


def test_unknown_extra_attributes_are_ignored(codec: ItemCodec[Item]) -> None:
    item = good_item()
    item["legacy"] = {"S": "old"}
    assert codec.decode(item) == good_obj()


def test_codec_still_works_after_a_failure(codec: ItemCodec[Item]) -> None:
    with pytest.raises(ConversionError):
        codec.decode({"id": {"N": "1"}})
    assert codec.decode(good_item()) == good_obj()
    bad = good_obj()
    bad.count = "x"  # type: ignore[assignment]
    with pytest.raises(ConversionError):
        codec.encode(bad)
    assert codec.encode(good_obj()) == good_item()


def test_decode_value_errors_are_conversion_errors() -> None:
    registry = TypeRegistry()
    with pytest.raises(ConversionError):
        registry.decode_value({"S": "x"}, int)
    with pytest.raises(ConversionError):
        registry.decode_value({"N": "1"}, Inner)
    with pytest.raises(ConversionError):
        registry.decode_value({"M": {}}, Inner)


# --- encoding the wrong thing ------------------------------------------------------------


@attrs.define
class Lookalike:
    id: str
    count: int
    active: bool
    data: bytes
    ref: uuid.UUID
    inner: Inner
    children: list[Inner] = attrs.Factory(list)
    note: str | None = None


class SubItem(Item):
    pass


@pytest.mark.parametrize("wrong", [None, "item", {"id": "a"}, Inner(1)])
def test_encode_of_wrong_object(codec: ItemCodec[Item], wrong: Any) -> None:
    with pytest.raises(ConversionError) as info:
        codec.encode(wrong)
    err = info.value
    assert err.cls is Item
    assert "Item" in str(err)
    assert err.value is wrong


def test_encode_of_other_class_with_same_fields_is_rejected(codec: ItemCodec[Item]) -> None:
    other = Lookalike("a", 1, True, b"x", uuid.UUID(int=0), Inner(1))
    with pytest.raises(ConversionError) as info:
        codec.encode(other)  # type: ignore[arg-type]
    assert info.value.cls is Item


def test_encode_of_subclass_instance_is_fine(codec: ItemCodec[Item]) -> None:
    sub = SubItem("a", 1, True, b"x", uuid.UUID("12345678-1234-5678-1234-567812345678"), Inner(1))
    assert codec.encode(sub) == good_item()


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("id", 1),
        ("count", "1"),
        ("active", "yes"),
        ("data", "x"),
        ("ref", "12345678-1234-5678-1234-567812345678"),
        ("inner", {"x": 1}),
        ("children", [Inner(1), "x"]),
        ("note", 5),
    ],
)
def test_encode_error_names_field(codec: ItemCodec[Item], field: str, bad: Any) -> None:
    obj = good_obj()
    setattr(obj, field, bad)
    with pytest.raises(ConversionError) as info:
        codec.encode(obj)
    err = info.value
    assert err.cls is Item
    assert err.field == field
    assert f"Item.{field}" in str(err)
    assert isinstance(err, DynamORMError)
    assert isinstance(err, ValueError)


def test_encode_error_in_nested_object_names_outer_field(codec: ItemCodec[Item]) -> None:
    obj = good_obj()
    obj.inner = Inner("not an int")  # type: ignore[arg-type]
    with pytest.raises(ConversionError) as info:
        codec.encode(obj)
    assert info.value.field is not None
    assert info.value.field.split(".")[0] == "inner"
    assert "Item.inner" in str(info.value)


def test_encode_error_is_chained_to_its_cause(codec: ItemCodec[Item]) -> None:
    obj = good_obj()
    obj.count = True
    with pytest.raises(ConversionError) as info:
        codec.encode(obj)
    assert info.value.__cause__ is not None
