"""Keys, items and paths of a Mapper: `key`, `key_of`, `encode`/`decode`, `resolve_path`."""

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import attrs
import pytest

from dynamorm_async import ConversionError, Mapper, MappingError, ValidationError
from dynamorm_async.errors import error_context

UTC = dt.timezone.utc


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


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
    history: list[Address] = attrs.field(factory=list)
    by_city: dict[str, Address] = attrs.field(factory=dict)
    matrix: list[list[int]] = attrs.field(factory=list)
    tags: frozenset[str] = frozenset()
    extra: Any = None
    expires: dt.datetime | None = None


ORDERS = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    field_names={"customer": "pk", "number": "sk", "status": "st"},
    ttl_attribute="expires",
)


@attrs.define
class Simple:
    id: str
    name: str = ""


SIMPLE = Mapper(Simple, table="simple", partition_key="id")


@attrs.define
class Keyed:
    ratio: float
    blob: bytes = b""
    color: Color = Color.RED
    amount: Decimal = Decimal(0)
    when: dt.datetime = dt.datetime(2020, 1, 1, tzinfo=UTC)


# --- key() ---------------------------------------------------------------------------------

COMPOSITE_KEY = {"pk": {"S": "c1"}, "sk": {"N": "7"}}


@pytest.mark.parametrize(
    "key",
    [
        ("c1", 7),
        {"customer": "c1", "number": 7},
        Order("c1", 7, total=99, status="paid"),
    ],
    ids=["tuple", "dict", "instance"],
)
def test_composite_key_forms(key):
    assert ORDERS.key(key) == COMPOSITE_KEY


def test_key_of_an_instance():
    assert ORDERS.key_of(Order("c1", 7)) == COMPOSITE_KEY


def test_key_of_another_type_fails():
    with pytest.raises(ValidationError, match="expected a Order, got Simple"):
        ORDERS.key_of(Simple("x"))


def test_simple_key_forms():
    expected = {"id": {"S": "p1"}}
    assert SIMPLE.key("p1") == expected
    assert SIMPLE.key(("p1",)) == expected
    assert SIMPLE.key({"id": "p1"}) == expected
    assert SIMPLE.key(Simple("p1", "name")) == expected


def test_dict_keys_take_python_names_not_stored_names():
    with pytest.raises(ValidationError, match=r"Order key has unknown fields \['pk', 'sk'\]"):
        ORDERS.key({"pk": "c1", "sk": 7})


def test_dict_key_with_extra_fields():
    with pytest.raises(
        ValidationError,
        match=r"Order key has unknown fields \['total'\]; the key fields are \['customer', 'number'\]",
    ):
        ORDERS.key({"customer": "c1", "number": 7, "total": 1})


def test_dict_key_with_missing_fields():
    with pytest.raises(ValidationError, match=r"Order key is missing \['number'\]"):
        ORDERS.key({"customer": "c1"})
    with pytest.raises(ValidationError, match=r"Order key is missing \['customer', 'number'\]"):
        ORDERS.key({})


@pytest.mark.parametrize("key", [("c1",), ("c1", 7, 8), ()])
def test_tuple_key_of_the_wrong_length(key):
    with pytest.raises(
        ValidationError,
        match=rf"Order key takes 2 value\(s\) \['customer', 'number'\], got {len(key)}",
    ):
        ORDERS.key(key)


def test_simple_key_tuple_of_two_values():
    with pytest.raises(ValidationError, match=r"Simple key takes 1 value\(s\) \['id'\], got 2"):
        SIMPLE.key(("a", "b"))


@pytest.mark.parametrize("key", ["c1", 7, ["c1", 7], None])
def test_composite_key_needs_both_parts(key):
    with pytest.raises(
        ValidationError, match=r"Order has a composite key: give \(partition, sort\)"
    ):
        ORDERS.key(key)


def test_key_values_cannot_be_none():
    with pytest.raises(ValidationError, match=r"Order\.customer is a key field and cannot be None"):
        ORDERS.key((None, 7))
    with pytest.raises(ValidationError, match=r"Order\.number is a key field and cannot be None"):
        ORDERS.key({"customer": "c1", "number": None})
    with pytest.raises(ValidationError, match=r"Simple\.id is a key field and cannot be None"):
        SIMPLE.key(None)


def test_key_values_cannot_be_empty():
    with pytest.raises(
        ValidationError, match=r"Order\.customer is a key field and cannot be empty"
    ):
        ORDERS.key(("", 7))
    with pytest.raises(ValidationError, match=r"Simple\.id is a key field and cannot be empty"):
        SIMPLE.key("")
    blobs = Mapper(Keyed, table="keyed", partition_key="blob")
    with pytest.raises(ValidationError, match=r"Keyed\.blob is a key field and cannot be empty"):
        blobs.key(b"")
    assert blobs.key(b"\x00") == {"blob": {"B": b"\x00"}}


@pytest.mark.parametrize(
    ("key", "field"),
    [
        (("c1", "7"), "number"),
        (("c1", 7.5), "number"),
        (("c1", True), "number"),
        ((7, 7), "customer"),
        ((b"c1", 7), "customer"),
        ((["c1"], 7), "customer"),
    ],
)
def test_key_values_of_the_wrong_type(key, field):
    with pytest.raises(ValidationError, match=f"Order.{field} key value .* is invalid"):
        ORDERS.key(key)


def test_key_errors_leave_the_table_to_the_caller():
    # The mapper's table may be a template; the repository fills in the real name.
    with pytest.raises(ValidationError) as info:
        ORDERS.key(("c1",))
    assert info.value.table is None
    assert str(info.value) == "Order key takes 2 value(s) ['customer', 'number'], got 1: ('c1',)"
    with pytest.raises(ValidationError) as info, error_context(table="prod-orders"):
        ORDERS.key(("c1",))
    assert info.value.table == "prod-orders"
    assert str(info.value) == (
        "Order key takes 2 value(s) ['customer', 'number'], got 1: ('c1',) (table='prod-orders')"
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("ratio", 1.5, {"N": "1.5"}),
        ("ratio", 2, {"N": "2"}),
        ("amount", Decimal("12.50"), {"N": "12.50"}),
        ("color", Color.BLUE, {"S": "blue"}),
        (
            "when",
            dt.datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC),
            {"S": "2021-01-02T03:04:05.000000Z"},
        ),
    ],
)
def test_keys_of_other_types(field, value, expected):
    assert Mapper(Keyed, table="keyed", partition_key=field).key(value) == {field: expected}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ratio", float("nan")),
        ("ratio", float("inf")),
        ("color", "blue"),
        ("when", dt.datetime(2021, 1, 2)),  # naive: which instant?
        ("amount", Decimal("1" * 39)),
    ],
)
def test_invalid_key_values_of_other_types(field, value):
    with pytest.raises(ValidationError, match=f"Keyed.{field} key value"):
        Mapper(Keyed, table="keyed", partition_key=field).key(value)


def test_key_values_renders_a_readable_key():
    assert ORDERS.key_values(ORDERS.key(("c1", 7))) == {"pk": "c1", "sk": "7"}


# --- encode / decode -------------------------------------------------------------------


def test_encode_uses_stored_names_and_leaves_out_none():
    order = Order(
        "c1",
        7,
        total=30,
        status="paid",
        address=Address("Oslo", "0150"),
        tags=frozenset({"gift"}),
        expires=dt.datetime(2021, 1, 1, tzinfo=UTC),
    )
    assert ORDERS.encode(order) == {
        "pk": {"S": "c1"},
        "sk": {"N": "7"},
        "total": {"N": "30"},
        "st": {"S": "paid"},
        "address": {"M": {"city": {"S": "Oslo"}, "zip": {"S": "0150"}}},
        "history": {"L": []},
        "by_city": {"M": {}},
        "matrix": {"L": []},
        "tags": {"SS": ["gift"]},
        # extra (Any) is None: left out like an Optional field's None.
        "expires": {"N": "1609459200"},
    }


def test_decode_reverses_encode():
    order = Order(
        "c1",
        7,
        total=30,
        status="paid",
        note="ring twice",
        address=Address("Oslo"),
        history=[Address("Rome", "00100")],
        by_city={"home": Address("Oslo")},
        matrix=[[1, 2], [3]],
        tags=frozenset({"a", "b"}),
        extra={"k": [1, "x"]},
        expires=dt.datetime(2021, 1, 1, 12, 30, tzinfo=UTC),
    )
    assert ORDERS.decode(ORDERS.encode(order)) == order


def test_decode_fills_defaults_for_missing_attributes():
    assert ORDERS.decode({"pk": {"S": "c1"}, "sk": {"N": "7"}}) == Order("c1", 7)


def test_decode_of_a_bad_item_is_a_conversion_error():
    with pytest.raises(ConversionError):
        ORDERS.decode({"pk": {"S": "c1"}, "sk": {"S": "seven"}})


def test_encode_refuses_an_empty_key_value():
    with pytest.raises(
        ValidationError, match=r"Order\.customer is a key field and cannot be empty"
    ):
        ORDERS.encode(Order("", 7))


# --- resolve_path --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elements", "stored", "tp"),
    [
        (("customer",), ("pk",), str),
        (("status",), ("st",), str),
        (("note",), ("note",), str | None),
        (("address",), ("address",), Address | None),
        (("address", "city"), ("address", "city"), str),
        (("history",), ("history",), list[Address]),
        (("history", 0), ("history", 0), Address),
        (("history", 3, "zip"), ("history", 3, "zip"), str),
        (("by_city", "home"), ("by_city", "home"), Address),
        (("by_city", "home", "city"), ("by_city", "home", "city"), str),
        (("matrix", 1, 0), ("matrix", 1, 0), int),
        (("extra", "a", 0, "b"), ("extra", "a", 0, "b"), Any),
    ],
)
def test_resolve_path(elements, stored, tp):
    assert ORDERS.resolve_path(elements) == (stored, tp)


def test_resolve_path_of_the_ttl_field_is_epoch_seconds():
    stored, tp = ORDERS.resolve_path(("expires",))
    assert stored == ("expires",)
    assert ORDERS.encode_value(dt.datetime(2021, 1, 1, tzinfo=UTC), tp) == {"N": "1609459200"}


def test_resolve_path_unknown_field():
    with pytest.raises(
        MappingError, match=r"Order: the expression names 'totl'.*did you mean 'total'"
    ):
        ORDERS.resolve_path(("totl",))


def test_resolve_path_unknown_nested_field():
    with pytest.raises(
        MappingError, match=r"Order: address \(Address\) has no field 'cty'; did you mean 'city'\?"
    ):
        ORDERS.resolve_path(("address", "cty"))
    with pytest.raises(MappingError, match=r"history\.0 \(Address\) has no field 'zp'"):
        ORDERS.resolve_path(("history", 0, "zp"))
    with pytest.raises(MappingError, match=r"by_city\.home \(Address\) has no field 'town'"):
        ORDERS.resolve_path(("by_city", "home", "town"))


@pytest.mark.parametrize(
    "elements",
    [("total", "x"), ("total", 0), ("status", "first"), ("address", "city", "x")],
)
def test_resolve_path_cannot_descend_into_a_scalar(elements):
    # A number or a string has no attributes or elements: such a path can never match
    # an item, so it is a mistake the mapper can report as it does unknown fields.
    with pytest.raises(MappingError):
        ORDERS.resolve_path(elements)
