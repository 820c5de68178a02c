"""A Mapper checks itself when built: the class, keys, indexes, names and special fields."""

import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal, NewType, Optional

import attrs
import pytest

from dynamorm_async import (
    DynamORMError,
    EpochSeconds,
    GlobalIndex,
    LocalIndex,
    Mapper,
    MappingError,
    Projection,
    TypeRegistry,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(enum.Enum):
    ONE = 1
    TWO = "two"


UserId = NewType("UserId", str)
NIL_UUID = uuid.UUID(int=0)


class Money:
    def __init__(self, cents):
        self.cents = cents


@attrs.define
class Order:
    customer: str
    number: int
    total: int = 0
    status: str = ""
    note: str | None = None
    paid: bool = False
    lines: list[str] = attrs.field(factory=list)
    extras: dict[str, str] = attrs.field(factory=dict)
    ratio: float = 0.0
    amount: Decimal = Decimal(0)
    blob: bytes = b""
    ref: uuid.UUID = NIL_UUID
    day: dt.date = dt.date(2020, 1, 1)
    at: dt.datetime = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    stamp: Annotated[dt.datetime, EpochSeconds] = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    color: Color = Color.RED
    level: Level = Level.LOW
    mixed: Mixed = Mixed.ONE
    kind: Literal["a", "b"] = "a"
    user: UserId = UserId("u")
    money: Money | None = None
    tags: frozenset[str] = frozenset()
    version: int = 0
    version_text: str = ""
    maybe_version: int | None = None
    expires: dt.datetime | None = None
    expires_at: dt.datetime = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    expires_epoch: int = 0
    old_style_optional: Optional[str] = None  # noqa: UP045 - typing.Optional is what is tested
    anything: Any = None


def mapper(**options):
    kwargs = {"table": "orders", "partition_key": "customer", "sort_key": "number"}
    kwargs.update(options)
    return Mapper(Order, **kwargs)


def test_a_valid_mapper():
    orders = mapper(
        indexes=[
            GlobalIndex("gsi-status", partition_key="status", sort_key="total"),
            LocalIndex("lsi-day", sort_key="day", projection="KEYS_ONLY"),
        ],
        field_names={"status": "st"},
        version_attribute="version",
        ttl_attribute="expires",
    )
    assert orders.cls is Order
    assert orders.table == "orders"
    assert orders.partition_key == "customer"
    assert orders.sort_key == "number"
    assert orders.key_fields == ("customer", "number")
    assert list(orders.indexes) == ["gsi-status", "lsi-day"]
    assert orders.version_attribute == "version"
    assert orders.ttl_attribute == "expires"
    assert repr(orders) == "Mapper(Order, table='orders')"


# --- the class ------------------------------------------------------------------------


class Plain:
    customer: str


@dataclasses.dataclass
class DataOrder:
    customer: str


@pytest.mark.parametrize("cls", [Plain, DataOrder, dict, "Order", None])
def test_the_class_must_be_an_attrs_class(cls):
    with pytest.raises(
        MappingError, match=r"is not an attrs class; decorate it with @attrs\.define"
    ):
        Mapper(cls, table="orders", partition_key="customer")


def test_an_instance_is_not_a_class():
    with pytest.raises(MappingError, match="is not an attrs class"):
        Mapper(Order("c", 1), table="orders", partition_key="customer")


@attrs.define
class Unresolvable:
    id: str
    other: "Missing" = None  # noqa: F821 - the point of the test


def test_unresolvable_annotations_are_a_mapping_error():
    with pytest.raises(MappingError, match="Unresolvable: cannot resolve the type annotations"):
        Mapper(Unresolvable, table="things", partition_key="id")


def test_mapping_errors_are_type_errors_naming_the_class():
    with pytest.raises(TypeError) as info:
        mapper(partition_key="nope")
    assert isinstance(info.value, DynamORMError)
    # The table may be a template: errors name the class, not the table.
    assert info.value.table is None
    assert str(info.value) == (
        "Order: partition_key names 'nope', which is not a field; did you mean 'note'?"
    )


# --- table and index names ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc", "a.b", "A_b-9", "x" * 255, "orders.v2"])
def test_valid_table_names(name):
    assert mapper(table=name).table == name


@pytest.mark.parametrize(
    "name",
    ["", "ab", "x" * 256, "has space", "orders!", "ordérs", "orders/1", "orders\n", "\norders"],
)
def test_invalid_table_names(name):
    with pytest.raises(MappingError, match=r"table name .* must be 3-255 characters"):
        mapper(table=name)


@pytest.mark.parametrize("name", ["ab", "bad name", "x" * 256, "gsi\n", "gsi#1"])
def test_invalid_index_names(name):
    with pytest.raises(MappingError, match=r"index name .* must be 3-255 characters"):
        mapper(indexes=[GlobalIndex(name, partition_key="status")])


# --- keys --------------------------------------------------------------------------------


def test_unknown_partition_key_with_suggestion():
    with pytest.raises(
        MappingError,
        match=r"^Order: partition_key names 'custmer', which is not a field; did you mean 'customer'",
    ):
        mapper(partition_key="custmer")


def test_unknown_sort_key_with_suggestion():
    with pytest.raises(
        MappingError,
        match=r"Order: sort_key names 'numbr', which is not a field; did you mean 'number'",
    ):
        mapper(sort_key="numbr")


def test_unknown_key_without_close_match_has_no_suggestion():
    with pytest.raises(MappingError) as info:
        mapper(partition_key="zzzzzz")
    assert "which is not a field" in info.value.message
    assert "did you mean" not in info.value.message


def test_sort_key_cannot_be_the_partition_key():
    with pytest.raises(MappingError, match="Order: sort_key 'customer' is also the partition key"):
        mapper(sort_key="customer")


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("customer", "S"),
        ("number", "N"),
        ("ratio", "N"),
        ("amount", "N"),
        ("blob", "B"),
        ("ref", "S"),
        ("day", "S"),
        ("at", "S"),
        ("stamp", "N"),
        ("color", "S"),
        ("level", "N"),
        ("kind", "S"),
        ("user", "S"),
    ],
)
def test_key_types(field, kind):
    assert Mapper(Order, table="orders", partition_key=field).key_attributes == {field: kind}


@pytest.mark.parametrize(
    "field",
    ["paid", "lines", "extras", "note", "old_style_optional", "tags", "mixed", "anything", "money"],
)
def test_types_that_cannot_be_keys(field):
    with pytest.raises(
        MappingError,
        match=f"Order: partition_key '{field}' has type .*which DynamoDB cannot use as a key",
    ):
        Mapper(Order, table="orders", partition_key=field)


def test_a_sort_key_of_a_type_that_cannot_be_a_key():
    with pytest.raises(MappingError, match="Order: sort_key 'paid' has type bool"):
        mapper(sort_key="paid")


def test_registered_types_are_keys_of_the_type_they_are_stored_as():
    registry = TypeRegistry()
    registry.register_converter(Money, encode=lambda m: m.cents, decode=Money, stored_as=int)

    @attrs.define
    class Payment:
        amount: Money
        id: str = ""

    payments = Mapper(Payment, table="payments", partition_key="amount", registry=registry)
    assert payments.key_attributes == {"amount": "N"}


def test_key_attributes_cover_table_and_index_keys_by_stored_name():
    orders = mapper(
        indexes=[
            GlobalIndex("gsi-status", partition_key="status", sort_key="total"),
            GlobalIndex("gsi-customer-day", partition_key="customer", sort_key="day"),
            LocalIndex("lsi-at", sort_key="at"),
        ],
        field_names={"status": "st", "customer": "pk"},
    )
    assert orders.key_attributes == {
        "pk": "S",
        "number": "N",
        "st": "S",
        "total": "N",
        "day": "S",
        "at": "S",
    }


def test_key_attributes_is_a_copy():
    orders = mapper()
    orders.key_attributes["x"] = "S"
    assert orders.key_attributes == {"customer": "S", "number": "N"}


# --- indexes -------------------------------------------------------------------------------


def test_index_keys_must_be_fields():
    with pytest.raises(
        MappingError,
        match=r"Order: index 'gsi-status' partition_key names 'stats', which is not a field; "
        r"did you mean 'status'",
    ):
        mapper(indexes=[GlobalIndex("gsi-status", partition_key="stats")])
    with pytest.raises(MappingError, match=r"index 'gsi-status' sort_key names 'totl'.*'total'"):
        mapper(indexes=[GlobalIndex("gsi-status", partition_key="status", sort_key="totl")])
    with pytest.raises(MappingError, match=r"index 'lsi-x' sort_key names 'dy'.*'day'"):
        mapper(indexes=[LocalIndex("lsi-x", sort_key="dy")])


def test_index_keys_must_have_key_types():
    with pytest.raises(MappingError, match="index 'gsi-paid' partition_key 'paid' has type bool"):
        mapper(indexes=[GlobalIndex("gsi-paid", partition_key="paid")])
    with pytest.raises(MappingError, match="index 'gsi-s' sort_key 'lines' has type"):
        mapper(indexes=[GlobalIndex("gsi-s", partition_key="status", sort_key="lines")])
    with pytest.raises(MappingError, match="index 'lsi-x' sort_key 'extras' has type"):
        mapper(indexes=[LocalIndex("lsi-x", sort_key="extras")])


def test_a_global_index_key_may_be_optional():
    # Sparse indexes: an item without the index key is simply not in the index, so an
    # Optional field is a normal (and common) GSI key; it is stored as its inner type.
    orders = mapper(indexes=[GlobalIndex("gsi-note", partition_key="note")])
    assert orders.key_attributes["note"] == "S"


def test_duplicate_index_names():
    with pytest.raises(MappingError, match="Order: two indexes are named 'by-status'"):
        mapper(
            indexes=[
                GlobalIndex("by-status", partition_key="status"),
                LocalIndex("by-status", sort_key="total"),
            ]
        )


def test_indexes_must_be_index_specs():
    with pytest.raises(MappingError, match="indexes must be GlobalIndex or LocalIndex, not 'gsi'"):
        mapper(indexes=["gsi"])


def test_a_local_index_needs_a_table_sort_key():
    with pytest.raises(
        MappingError, match="local index 'lsi-total' needs the table to have a sort key"
    ):
        Mapper(
            Order,
            table="orders",
            partition_key="customer",
            indexes=[LocalIndex("lsi-total", "total")],
        )


def test_five_local_indexes_are_allowed_six_are_not():
    fields = ["total", "status", "day", "at", "ratio", "amount"]
    five = mapper(indexes=[LocalIndex(f"lsi-{f}", sort_key=f) for f in fields[:5]])
    assert len(five.indexes) == 5
    with pytest.raises(MappingError, match="6 local indexes; DynamoDB allows at most 5"):
        mapper(indexes=[LocalIndex(f"lsi-{f}", sort_key=f) for f in fields])


def test_twenty_global_indexes_are_allowed_twenty_one_are_not():
    twenty = mapper(indexes=[GlobalIndex(f"gsi-{i}", partition_key="status") for i in range(20)])
    assert len(twenty.indexes) == 20
    with pytest.raises(MappingError, match="21 global indexes; DynamoDB allows at most 20"):
        mapper(indexes=[GlobalIndex(f"gsi-{i}", partition_key="status") for i in range(21)])


def test_global_and_local_limits_are_counted_apart():
    indexes = [GlobalIndex(f"gsi-{i}", partition_key="status") for i in range(20)]
    indexes += [LocalIndex(f"lsi-{i}", sort_key="total") for i in range(5)]
    assert len(mapper(indexes=indexes).indexes) == 25


def test_projection_fields_must_exist():
    with pytest.raises(
        MappingError,
        match="Order: index 'gsi-status' projection names 'totl', which is not a field; did you mean 'total'",
    ):
        mapper(indexes=[GlobalIndex("gsi-status", partition_key="status", projection=["totl"])])
    with pytest.raises(MappingError, match="index 'lsi-day' projection names 'nte'"):
        mapper(
            indexes=[LocalIndex("lsi-day", sort_key="day", projection=Projection.include("nte"))]
        )


def test_projection_forms():
    assert GlobalIndex("gsi", "status").projection == Projection("ALL", ())
    assert GlobalIndex("gsi", "status", projection="KEYS_ONLY").projection == Projection.keys_only()
    assert GlobalIndex("gsi", "status", projection=["total", "note"]).projection == Projection(
        "INCLUDE", ("total", "note")
    )
    assert LocalIndex("lsi", "day", projection=Projection.all()).projection.type == "ALL"
    with pytest.raises(MappingError, match="projection must be ALL, KEYS_ONLY or a list"):
        GlobalIndex("gsi", "status", projection="SOME")
    orders = mapper(
        indexes=[
            GlobalIndex("gsi-status", "status", projection=Projection.include("total", "note"))
        ]
    )
    assert orders.indexes["gsi-status"].projection.attributes == ("total", "note")


# --- stored names ---------------------------------------------------------------------------


def test_field_names_rename_stored_attributes():
    orders = mapper(field_names={"status": "st", "customer": "pk"})
    assert orders.stored_name("status") == "st"
    assert orders.stored_name("customer") == "pk"
    assert orders.stored_name("total") == "total"
    assert orders.fields["status"].stored == "st"
    assert orders.key_attributes == {"pk": "S", "number": "N"}


def test_field_names_must_name_fields():
    with pytest.raises(
        MappingError,
        match="Order: field_names names 'totl', which is not a field; did you mean 'total'",
    ):
        mapper(field_names={"totl": "t"})


def test_two_fields_cannot_share_a_stored_name():
    with pytest.raises(MappingError, match="fields 'status' and 'note' are both stored as 's'"):
        mapper(field_names={"status": "s", "note": "s"})
    # Renaming onto another field's (unrenamed) name clashes too.
    with pytest.raises(
        MappingError, match="fields 'total' and 'status' are both stored as 'status'"
    ):
        mapper(field_names={"total": "status"})


def test_swapping_two_stored_names_is_fine():
    orders = mapper(field_names={"total": "status", "status": "total"})
    assert orders.stored_name("total") == "status"
    assert orders.stored_name("status") == "total"


def test_a_stored_name_cannot_be_empty():
    with pytest.raises(MappingError, match="field 'total' has an empty stored name"):
        mapper(field_names={"total": ""})


def test_unknown_field_in_a_request_names_the_class():
    with pytest.raises(
        MappingError, match=r"Order: the request names 'totl'.*did you mean 'total'"
    ):
        mapper().stored_name("totl")


# --- version and ttl attributes ----------------------------------------------------------------


def test_version_attribute_must_be_a_field():
    with pytest.raises(
        MappingError,
        match="Order: version_attribute names 'versoin', which is not a field; did you mean 'version'",
    ):
        mapper(version_attribute="versoin")


@pytest.mark.parametrize("field", ["version_text", "maybe_version", "ratio", "paid", "amount"])
def test_version_attribute_must_be_an_int(field):
    with pytest.raises(
        MappingError, match=f"Order: version_attribute '{field}' must be an int field"
    ):
        mapper(version_attribute=field)


@attrs.define
class Counter:
    id: int
    day: int


def test_version_attribute_cannot_be_a_key():
    with pytest.raises(MappingError, match="Order: the version attribute cannot be a key"):
        mapper(version_attribute="number")
    with pytest.raises(MappingError, match="Counter: the version attribute cannot be a key"):
        Mapper(Counter, table="counters", partition_key="id", version_attribute="id")


def test_ttl_attribute_must_be_a_field():
    with pytest.raises(MappingError, match="ttl_attribute names 'expire', which is not a field"):
        mapper(ttl_attribute="expire")


@pytest.mark.parametrize(
    "field", ["expires", "expires_at", "expires_epoch", "stamp", "maybe_version"]
)
def test_ttl_attribute_datetime_or_int(field):
    assert mapper(ttl_attribute=field).ttl_attribute == field


@pytest.mark.parametrize("field", ["status", "paid", "ratio", "amount", "day", "lines"])
def test_ttl_attribute_of_another_type(field):
    with pytest.raises(
        MappingError, match=f"ttl_attribute '{field}' must be a datetime or an int of epoch seconds"
    ):
        mapper(ttl_attribute=field)
