"""Containers: lists, tuples, maps, sets, nested classes, Optional, unions, Literal, Enum, Any."""

import enum
from decimal import Decimal
from typing import Any, Literal, Optional, Union

import attrs
import pytest

from dynamorm_async.convert import ItemCodec, TypeRegistry
from dynamorm_async.errors import ConversionError


def _sorted_sets(av: Any) -> Any:
    """Sort the members of SS/NS/BS (sets have no order) so items compare."""
    if isinstance(av, dict):
        out = {}
        for k, v in av.items():
            if k in ("SS", "NS", "BS"):
                out[k] = sorted(v)
            else:
                out[k] = _sorted_sets(v)
        return out
    if isinstance(av, list):
        return [_sorted_sets(v) for v in av]
    return av


# --- lists and tuples ------------------------------------------------------------------


@attrs.define
class Lists:
    names: list[str]
    pair: tuple[int, str]
    scores: tuple[int, ...]
    nested: list[list[int]]


def test_lists_and_tuples_wire_form_and_back() -> None:
    codec = ItemCodec(Lists, TypeRegistry())
    obj = Lists(["a", "b"], (1, "x"), (3, 4, 5), [[1], []])
    item = codec.encode(obj)
    assert item == {
        "names": {"L": [{"S": "a"}, {"S": "b"}]},
        "pair": {"L": [{"N": "1"}, {"S": "x"}]},
        "scores": {"L": [{"N": "3"}, {"N": "4"}, {"N": "5"}]},
        "nested": {"L": [{"L": [{"N": "1"}]}, {"L": []}]},
    }
    back = codec.decode(item)
    assert back == obj
    assert type(back.pair) is tuple
    assert type(back.scores) is tuple
    assert type(back.names) is list


def test_empty_list_is_stored_not_omitted() -> None:
    codec = ItemCodec(Lists, TypeRegistry())
    item = codec.encode(Lists([], (0, ""), (), []))
    assert item["names"] == {"L": []}
    assert item["scores"] == {"L": []}
    assert codec.decode(item) == Lists([], (0, ""), (), [])


def test_tuple_value_in_list_field_is_accepted() -> None:
    assert TypeRegistry().encode_value(("a", "b"), list[str]) == {"L": [{"S": "a"}, {"S": "b"}]}


@pytest.mark.parametrize("bad", [(1,), (1, "x", 2)])
def test_fixed_tuple_wrong_length_on_encode(bad: tuple[Any, ...]) -> None:
    obj = Lists([], bad, (), [])  # type: ignore[arg-type]
    with pytest.raises(ConversionError) as info:
        ItemCodec(Lists, TypeRegistry()).encode(obj)
    assert info.value.field == "pair"


def test_fixed_tuple_wrong_length_on_decode() -> None:
    item = {
        "names": {"L": []},
        "pair": {"L": [{"N": "1"}]},
        "scores": {"L": []},
        "nested": {"L": []},
    }
    with pytest.raises(ConversionError) as info:
        ItemCodec(Lists, TypeRegistry()).decode(item)
    assert info.value.field == "pair"


@pytest.mark.parametrize("bad", ["ab", b"ab", {"a": 1}, {"a", "b"}, 5])
def test_list_field_rejects_non_sequences(bad: Any) -> None:
    obj = Lists(bad, (0, ""), (), [])
    with pytest.raises(ConversionError) as info:
        ItemCodec(Lists, TypeRegistry()).encode(obj)
    assert info.value.field == "names"


def test_wrong_element_type_in_list() -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Lists, TypeRegistry()).encode(Lists(["a", 2], (0, ""), (), []))  # type: ignore[list-item]
    assert info.value.field == "names"


# --- maps ------------------------------------------------------------------------------


@attrs.define
class Maps:
    counts: dict[str, int]
    groups: dict[str, list[str]]


def test_maps_wire_form_and_back() -> None:
    codec = ItemCodec(Maps, TypeRegistry())
    obj = Maps({"a": 1, "b": 2}, {"g": ["x"], "e": []})
    item = codec.encode(obj)
    assert item == {
        "counts": {"M": {"a": {"N": "1"}, "b": {"N": "2"}}},
        "groups": {"M": {"g": {"L": [{"S": "x"}]}, "e": {"L": []}}},
    }
    assert codec.decode(item) == obj


def test_empty_map_is_stored() -> None:
    codec = ItemCodec(Maps, TypeRegistry())
    item = codec.encode(Maps({}, {}))
    assert item == {"counts": {"M": {}}, "groups": {"M": {}}}
    assert codec.decode(item) == Maps({}, {})


@pytest.mark.parametrize("key", [1, 1.5, b"k", ("a",), None])
def test_map_with_non_str_key_value_is_rejected(key: Any) -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Maps, TypeRegistry()).encode(Maps({key: 1}, {}))
    assert info.value.field == "counts"
    assert "Maps.counts" in str(info.value)


@attrs.define
class IntKeyed:
    by_id: dict[int, str]


def test_map_declared_with_non_str_keys_is_rejected() -> None:
    with pytest.raises(ConversionError, match="str"):
        ItemCodec(IntKeyed, TypeRegistry()).encode(IntKeyed({1: "a"}))


def test_map_field_rejects_non_mapping() -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Maps, TypeRegistry()).encode(Maps([("a", 1)], {}))  # type: ignore[arg-type]
    assert info.value.field == "counts"


# --- sets ------------------------------------------------------------------------------


@attrs.define
class Sets:
    tags: frozenset[str]
    nums: set[int]
    ratios: frozenset[float]
    amounts: frozenset[Decimal]
    blobs: frozenset[bytes]


def test_sets_wire_form_and_back() -> None:
    codec = ItemCodec(Sets, TypeRegistry())
    obj = Sets(
        frozenset({"a", "b"}),
        {1, 22},
        frozenset({0.5}),
        frozenset({Decimal("1.10")}),
        frozenset({b"x", b"\x00"}),
    )
    item = codec.encode(obj)
    assert _sorted_sets(item) == {
        "tags": {"SS": ["a", "b"]},
        "nums": {"NS": ["1", "22"]},
        "ratios": {"NS": ["0.5"]},
        "amounts": {"NS": ["1.10"]},
        "blobs": {"BS": [b"\x00", b"x"]},
    }
    back = codec.decode(item)
    assert back == obj
    assert type(back.tags) is frozenset
    assert type(back.nums) is set
    assert all(type(n) is int for n in back.nums)


def test_empty_sets_are_omitted_and_read_back_empty() -> None:
    codec = ItemCodec(Sets, TypeRegistry())
    obj = Sets(frozenset(), set(), frozenset(), frozenset(), frozenset())
    item = codec.encode(obj)
    assert item == {}
    back = codec.decode(item)
    assert back == obj
    assert type(back.tags) is frozenset
    assert type(back.nums) is set


def test_set_read_from_null_is_empty() -> None:
    codec = ItemCodec(Sets, TypeRegistry())
    back = codec.decode({"tags": {"NULL": True}, "nums": {"NULL": True}})
    assert back.tags == frozenset()
    assert back.nums == set()


@attrs.define
class SetHolder:
    per_row: list[frozenset[str]]
    by_name: dict[str, set[int]]


def test_sets_inside_list_and_map_empty_becomes_null() -> None:
    codec = ItemCodec(SetHolder, TypeRegistry())
    obj = SetHolder([frozenset(), frozenset({"a"})], {"e": set(), "f": {3}})
    item = codec.encode(obj)
    assert item == {
        "per_row": {"L": [{"NULL": True}, {"SS": ["a"]}]},
        "by_name": {"M": {"e": {"NULL": True}, "f": {"NS": ["3"]}}},
    }
    back = codec.decode(item)
    assert back == obj
    assert type(back.per_row[0]) is frozenset


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("tags", frozenset({"a", 1})),
        ("tags", ["a"]),
        ("nums", {True}),
        ("nums", {"1"}),
        ("nums", {1.5}),
        ("blobs", frozenset({"text"})),
    ],
)
def test_set_with_wrong_members_is_rejected(field: str, bad: Any) -> None:
    obj = Sets(frozenset(), set(), frozenset(), frozenset(), frozenset())
    setattr(obj, field, bad)
    with pytest.raises(ConversionError) as info:
        ItemCodec(Sets, TypeRegistry()).encode(obj)
    assert info.value.field == field


def test_int_set_decoding_fraction_is_error() -> None:
    with pytest.raises(ConversionError):
        ItemCodec(Sets, TypeRegistry()).decode({"nums": {"NS": ["1.5"]}})


@attrs.define
class BoolSet:
    flags: set[bool]


def test_set_of_unsupported_type_is_rejected() -> None:
    with pytest.raises(ConversionError):
        ItemCodec(BoolSet, TypeRegistry()).encode(BoolSet({True}))


# --- Optional -------------------------------------------------------------------------


@attrs.define
class Opt:
    id: str
    note: Optional[str]  # noqa: UP045 - typing.Optional, as well as X | None
    count: int | None
    values: list[Optional[int]]  # noqa: UP045
    labels: dict[str, str | None]


def test_none_top_level_is_omitted_and_missing_reads_none() -> None:
    codec = ItemCodec(Opt, TypeRegistry())
    obj = Opt("a", None, None, [], {})
    item = codec.encode(obj)
    assert item == {"id": {"S": "a"}, "values": {"L": []}, "labels": {"M": {}}}
    assert codec.decode(item) == obj


def test_present_optional_values_are_stored() -> None:
    codec = ItemCodec(Opt, TypeRegistry())
    obj = Opt("a", "n", 0, [], {})
    item = codec.encode(obj)
    assert item["note"] == {"S": "n"}
    assert item["count"] == {"N": "0"}  # 0 is not None
    assert codec.decode(item) == obj


def test_explicit_null_reads_none() -> None:
    codec = ItemCodec(Opt, TypeRegistry())
    item = {
        "id": {"S": "a"},
        "note": {"NULL": True},
        "count": {"NULL": True},
        "values": {"L": []},
        "labels": {"M": {}},
    }
    assert codec.decode(item) == Opt("a", None, None, [], {})


def test_none_inside_list_and_map_becomes_null() -> None:
    codec = ItemCodec(Opt, TypeRegistry())
    obj = Opt("a", None, None, [1, None, 3], {"x": None, "y": "v"})
    item = codec.encode(obj)
    assert item["values"] == {"L": [{"N": "1"}, {"NULL": True}, {"N": "3"}]}
    assert item["labels"] == {"M": {"x": {"NULL": True}, "y": {"S": "v"}}}
    assert codec.decode(item) == obj


def test_none_in_non_optional_list_is_rejected() -> None:
    with pytest.raises(ConversionError):
        TypeRegistry().encode_value([1, None], list[int])


@attrs.define
class WithDefaults:
    id: str
    level: int | None = 5
    tags: frozenset[str] = frozenset({"default"})


def test_optional_field_with_default_round_trips_none() -> None:
    codec = ItemCodec(WithDefaults, TypeRegistry())
    obj = WithDefaults("a", level=None)
    assert codec.decode(codec.encode(obj)) == obj


def test_set_field_with_default_round_trips_empty_set() -> None:
    codec = ItemCodec(WithDefaults, TypeRegistry())
    obj = WithDefaults("a", tags=frozenset())
    assert codec.decode(codec.encode(obj)) == obj


def test_missing_attribute_with_default_reads_default() -> None:
    codec = ItemCodec(WithDefaults, TypeRegistry())
    assert codec.decode({"id": {"S": "a"}}) == WithDefaults("a")


# --- unions ----------------------------------------------------------------------------


@attrs.define
class Point:
    x: int
    y: int


@attrs.define
class Label:
    text: str


@attrs.define
class Unions:
    key: int | str
    either: Union[str, list[str]]  # noqa: UP007 - typing.Union, as well as X | Y
    shape: Point | Label
    maybe: int | str | None = None


@pytest.mark.parametrize(
    ("key", "av"),
    [(5, {"N": "5"}), ("5", {"S": "5"}), (-1, {"N": "-1"}), ("", {"S": ""})],
)
def test_union_routes_by_runtime_type(key: Any, av: dict[str, Any]) -> None:
    codec = ItemCodec(Unions, TypeRegistry())
    obj = Unions(key, "s", Label("t"))
    item = codec.encode(obj)
    assert item["key"] == av
    back = codec.decode(item)
    assert back == obj
    assert type(back.key) is type(key)


def test_union_with_list_member_and_nested_classes() -> None:
    codec = ItemCodec(Unions, TypeRegistry())
    obj = Unions(1, ["a", "b"], Point(1, 2), maybe="m")
    item = codec.encode(obj)
    assert item["either"] == {"L": [{"S": "a"}, {"S": "b"}]}
    assert item["shape"] == {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}
    assert codec.decode(item) == obj
    obj2 = Unions(1, "a", Label("t"))
    back = codec.decode(codec.encode(obj2))
    assert back == obj2
    assert isinstance(back.shape, Label)


@pytest.mark.parametrize("bad", [True, 1.5, b"x", [1]])
def test_union_rejects_value_of_no_member(bad: Any) -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Unions, TypeRegistry()).encode(Unions(bad, "s", Label("t")))
    assert info.value.field == "key"


def test_none_in_non_optional_union_is_rejected() -> None:
    # int | str has no None: the value must not be dropped, nor sent as a bare None
    with pytest.raises(ConversionError) as info:
        ItemCodec(Unions, TypeRegistry()).encode(Unions(None, "s", Label("t")))  # type: ignore[arg-type]
    assert info.value.field == "key"


def test_union_decode_fitting_no_member_is_error() -> None:
    item = {"key": {"BOOL": True}, "either": {"S": "s"}, "shape": {"M": {"text": {"S": "t"}}}}
    with pytest.raises(ConversionError) as info:
        ItemCodec(Unions, TypeRegistry()).decode(item)
    assert info.value.field == "key"


def test_null_for_non_optional_union_is_error() -> None:
    item = {"key": {"NULL": True}, "either": {"S": "s"}, "shape": {"M": {"text": {"S": "t"}}}}
    with pytest.raises(ConversionError) as info:
        ItemCodec(Unions, TypeRegistry()).decode(item)
    assert info.value.field == "key"


def test_optional_union_none_omitted() -> None:
    item = ItemCodec(Unions, TypeRegistry()).encode(Unions(1, "s", Label("t"), maybe=None))
    assert "maybe" not in item


# --- Literal and Enum -------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Shape(enum.Enum):
    CIRCLE = "circle"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Kind(str, enum.Enum):
    BOOK = "book"
    FILM = "film"


@attrs.define
class Choice:
    color: Color
    level: Level
    mode: Literal["r", "w"]
    size: Literal[1, 2]


@attrs.define
class Tagged:
    kind: Kind


def test_enum_and_literal_wire_form_and_back() -> None:
    codec = ItemCodec(Choice, TypeRegistry())
    obj = Choice(Color.GREEN, Level.HIGH, "w", 2)
    item = codec.encode(obj)
    assert item == {
        "color": {"S": "green"},
        "level": {"N": "2"},
        "mode": {"S": "w"},
        "size": {"N": "2"},
    }
    back = codec.decode(item)
    assert back == obj
    assert back.color is Color.GREEN


def test_int_enum_field_decodes_to_member() -> None:
    codec = ItemCodec(Choice, TypeRegistry())
    back = codec.decode(codec.encode(Choice(Color.RED, Level.HIGH, "r", 1)))
    assert back.level is Level.HIGH


def test_str_mixin_enum_is_stored_as_plain_str_and_decoded_to_member() -> None:
    codec = ItemCodec(Tagged, TypeRegistry())
    item = codec.encode(Tagged(Kind.FILM))
    assert item == {"kind": {"S": "film"}}
    assert type(item["kind"]["S"]) is str  # the value, not the enum member
    assert codec.decode(item).kind is Kind.FILM


def test_str_mixin_enum_rejects_unknown_values() -> None:
    codec = ItemCodec(Tagged, TypeRegistry())
    with pytest.raises(ConversionError) as info:
        codec.decode({"kind": {"S": "music"}})
    assert info.value.field == "kind"
    with pytest.raises(ConversionError) as info:
        codec.encode(Tagged("music"))  # type: ignore[arg-type]
    assert info.value.field == "kind"


@pytest.mark.parametrize(
    ("field", "av"),
    [
        ("color", {"S": "purple"}),
        ("color", {"N": "1"}),
        ("level", {"N": "3"}),
        ("level", {"S": "1"}),
        ("mode", {"S": "x"}),
        ("mode", {"N": "1"}),
        ("size", {"N": "3"}),
        ("size", {"S": "1"}),
    ],
)
def test_unknown_enum_or_literal_value_on_decode(field: str, av: dict[str, Any]) -> None:
    item = {
        "color": {"S": "red"},
        "level": {"N": "1"},
        "mode": {"S": "r"},
        "size": {"N": "1"},
        field: av,
    }
    with pytest.raises(ConversionError) as info:
        ItemCodec(Choice, TypeRegistry()).decode(item)
    assert info.value.field == field
    assert f"Choice.{field}" in str(info.value)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("mode", "x"),
        ("size", 3),
        ("size", True),  # True == 1, but it is not the literal 1
        ("color", "red"),  # the raw value, not the member
        ("color", Shape.CIRCLE),  # a member of another enum
        ("level", 1.5),
        ("level", 7),  # an int that is no member
    ],
)
def test_invalid_enum_or_literal_value_on_encode(field: str, bad: Any) -> None:
    obj = Choice(Color.RED, Level.LOW, "r", 1)
    setattr(obj, field, bad)
    with pytest.raises(ConversionError) as info:
        ItemCodec(Choice, TypeRegistry()).encode(obj)
    assert info.value.field == field


# --- nested attrs classes ------------------------------------------------------------------


@attrs.define
class Address:
    street: str
    zip: str | None = None


@attrs.define
class Person:
    name: str
    home: Address
    previous: list[Address]
    by_kind: dict[str, Address]
    work: Address | None = None


def test_nested_classes_wire_form_and_back() -> None:
    codec = ItemCodec(Person, TypeRegistry())
    obj = Person(
        "ann",
        Address("main", "123"),
        [Address("old")],
        {"po": Address("box", "9")},
    )
    item = codec.encode(obj)
    assert item == {
        "name": {"S": "ann"},
        "home": {"M": {"street": {"S": "main"}, "zip": {"S": "123"}}},
        "previous": {"L": [{"M": {"street": {"S": "old"}}}]},
        "by_kind": {"M": {"po": {"M": {"street": {"S": "box"}, "zip": {"S": "9"}}}}},
    }
    assert codec.decode(item) == obj


def test_nested_missing_optional_reads_default() -> None:
    codec = ItemCodec(Person, TypeRegistry())
    item = {
        "name": {"S": "b"},
        "home": {"M": {"street": {"S": "s"}}},
        "previous": {"L": []},
        "by_kind": {"M": {}},
    }
    assert codec.decode(item) == Person("b", Address("s"), [], {})


def test_nested_wrong_class_is_rejected() -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Person, TypeRegistry()).encode(Person("a", Label("x"), [], {}))  # type: ignore[arg-type]
    assert info.value.field == "home"


# --- Any ------------------------------------------------------------------------------


@attrs.define
class Loose:
    meta: dict[str, Any]
    extra: Any = None


def test_any_values_by_runtime_type() -> None:
    codec = ItemCodec(Loose, TypeRegistry())
    meta = {
        "s": "x",
        "i": 1,
        "f": 1.5,
        "d": Decimal("2.25"),
        "b": True,
        "n": None,
        "l": [1, "a"],
        "t": (1, 2),
        "m": {"k": b"x"},
        "ss": {"a"},
        "ns": {1, 2},
        "e": Color.RED,
    }
    item = codec.encode(Loose(meta))
    assert _sorted_sets(item["meta"]) == {
        "M": {
            "s": {"S": "x"},
            "i": {"N": "1"},
            "f": {"N": "1.5"},
            "d": {"N": "2.25"},
            "b": {"BOOL": True},
            "n": {"NULL": True},
            "l": {"L": [{"N": "1"}, {"S": "a"}]},
            "t": {"L": [{"N": "1"}, {"N": "2"}]},
            "m": {"M": {"k": {"B": b"x"}}},
            "ss": {"SS": ["a"]},
            "ns": {"NS": ["1", "2"]},
            "e": {"S": "red"},
        }
    }
    back = codec.decode(item).meta
    assert back["i"] == 1
    assert type(back["i"]) is int
    assert back["f"] == Decimal("1.5")
    assert type(back["f"]) is Decimal
    assert back["d"] == Decimal("2.25")
    assert back["b"] is True
    assert back["n"] is None
    assert back["l"] == [1, "a"]
    assert back["t"] == [1, 2]
    assert back["m"] == {"k": b"x"}
    assert back["ss"] == {"a"}
    assert back["ns"] == {1, 2}
    assert back["e"] == "red"


def test_any_field_none_round_trips() -> None:
    codec = ItemCodec(Loose, TypeRegistry())
    assert codec.decode(codec.encode(Loose({}, None))) == Loose({}, None)
    assert codec.decode({"meta": {"M": {}}}) == Loose({}, None)


@pytest.mark.parametrize(
    "bad",
    [float("nan"), object(), {1: "a"}, {1, "a"}, {True}, [float("inf")], 10**39 + 1],
)
def test_any_rejects_unstorable_values(bad: Any) -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Loose, TypeRegistry()).encode(Loose({"k": bad}))
    assert info.value.field == "meta"
