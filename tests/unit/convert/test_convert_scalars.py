"""Scalars: the exact AttributeValue each Python type is stored as, and back."""

import datetime as dt
import enum
import typing
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal, NewType, Optional

import attrs
import pytest

from dynamorm_async.convert import EpochSeconds, ItemCodec, TypeRegistry, scalar_type
from dynamorm_async.errors import ConversionError, DynamORMError

UTC = dt.timezone.utc
SAMPLE_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@attrs.define
class Scalars:
    s: str
    i: int
    f: float
    d: Decimal
    b: bool
    raw: bytes
    ba: bytearray
    u: uuid.UUID
    day: dt.date
    when: dt.datetime


def sample() -> Scalars:
    return Scalars(
        s="héllo",
        i=-42,
        f=1.5,
        d=Decimal("3.14"),
        b=True,
        raw=b"\x00\xff",
        ba=bytearray(b"ab"),
        u=SAMPLE_UUID,
        day=dt.date(2024, 2, 29),
        when=dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    )


SAMPLE_ITEM = {
    "s": {"S": "héllo"},
    "i": {"N": "-42"},
    "f": {"N": "1.5"},
    "d": {"N": "3.14"},
    "b": {"BOOL": True},
    "raw": {"B": b"\x00\xff"},
    "ba": {"B": b"ab"},
    "u": {"S": "12345678-1234-5678-1234-567812345678"},
    "day": {"S": "2024-02-29"},
    "when": {"S": "2024-01-02T03:04:05.000006Z"},
}


@pytest.fixture
def codec() -> ItemCodec[Scalars]:
    return ItemCodec(Scalars, TypeRegistry())


def test_encode_gives_exact_wire_form(codec: ItemCodec[Scalars]) -> None:
    assert codec.encode(sample()) == SAMPLE_ITEM


def test_encoded_binary_is_bytes_not_bytearray(codec: ItemCodec[Scalars]) -> None:
    item = codec.encode(sample())
    assert type(item["ba"]["B"]) is bytes
    assert type(item["raw"]["B"]) is bytes


def test_decode_gives_equal_object_with_exact_types(codec: ItemCodec[Scalars]) -> None:
    obj = codec.decode({k: dict(v) for k, v in SAMPLE_ITEM.items()})
    assert obj == sample()
    assert type(obj.i) is int
    assert type(obj.f) is float
    assert type(obj.d) is Decimal
    assert type(obj.b) is bool
    assert type(obj.raw) is bytes
    assert type(obj.ba) is bytearray
    assert type(obj.u) is uuid.UUID
    assert type(obj.day) is dt.date
    assert type(obj.when) is dt.datetime
    assert obj.when.utcoffset() == dt.timedelta(0)


def test_round_trip(codec: ItemCodec[Scalars]) -> None:
    assert codec.decode(codec.encode(sample())) == sample()


# (value, declared type, AttributeValue)
WIRE_CASES: list[tuple[Any, Any, dict[str, Any]]] = [
    ("hello", str, {"S": "hello"}),
    ("", str, {"S": ""}),
    ("snow ☃ 😀", str, {"S": "snow ☃ 😀"}),
    (0, int, {"N": "0"}),
    (-42, int, {"N": "-42"}),
    (10**20, int, {"N": "100000000000000000000"}),
    (1.5, float, {"N": "1.5"}),
    (0.1, float, {"N": "0.1"}),
    (-2.0, float, {"N": "-2.0"}),
    (0.0, float, {"N": "0"}),
    (1e16, float, {"N": "1E+16"}),
    (Decimal("3.14"), Decimal, {"N": "3.14"}),
    (Decimal("-0.001"), Decimal, {"N": "-0.001"}),
    (Decimal("1.10"), Decimal, {"N": "1.10"}),
    (Decimal("1E+5"), Decimal, {"N": "1E+5"}),
    (True, bool, {"BOOL": True}),
    (False, bool, {"BOOL": False}),
    (b"\x00\xff", bytes, {"B": b"\x00\xff"}),
    (b"", bytes, {"B": b""}),
    (bytearray(b"ab"), bytearray, {"B": b"ab"}),
    (SAMPLE_UUID, uuid.UUID, {"S": "12345678-1234-5678-1234-567812345678"}),
    (dt.date(2024, 2, 29), dt.date, {"S": "2024-02-29"}),
    (dt.date(1, 1, 1), dt.date, {"S": "0001-01-01"}),
    (
        dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        dt.datetime,
        {"S": "2024-01-02T03:04:05.000006Z"},
    ),
    (
        dt.datetime(2024, 1, 2, tzinfo=UTC),
        dt.datetime,
        {"S": "2024-01-02T00:00:00.000000Z"},
    ),
]


@pytest.mark.parametrize(("value", "tp", "av"), WIRE_CASES)
def test_encode_value_wire_form(value: Any, tp: Any, av: dict[str, Any]) -> None:
    assert TypeRegistry().encode_value(value, tp) == av


@pytest.mark.parametrize(("value", "tp", "av"), WIRE_CASES)
def test_decode_value_back(value: Any, tp: Any, av: dict[str, Any]) -> None:
    decoded = TypeRegistry().decode_value(av, tp)
    assert decoded == value
    assert type(decoded) is type(value)


def test_decimal_keeps_every_digit_and_exponent() -> None:
    registry = TypeRegistry()
    decoded = registry.decode_value({"N": "1.10"}, Decimal)
    assert str(decoded) == "1.10"
    long = "3.1415926535897932384626433832795028841"  # 38 significant digits
    assert str(registry.decode_value({"N": long}, Decimal)) == long
    assert registry.encode_value(Decimal(long), Decimal) == {"N": long}


def test_number_field_decodes_integral_wire_number_as_float() -> None:
    decoded = TypeRegistry().decode_value({"N": "2"}, float)
    assert decoded == 2.0
    assert type(decoded) is float


def test_int_in_float_field_is_accepted_and_reads_back_as_float() -> None:
    registry = TypeRegistry()
    assert registry.encode_value(2, float) == {"N": "2"}
    assert type(registry.decode_value({"N": "2"}, float)) is float


def test_int_in_decimal_field_is_accepted() -> None:
    assert TypeRegistry().encode_value(7, Decimal) == {"N": "7"}


def test_bytearray_and_memoryview_in_bytes_field() -> None:
    registry = TypeRegistry()
    assert registry.encode_value(bytearray(b"xy"), bytes) == {"B": b"xy"}
    assert registry.encode_value(memoryview(b"xy"), bytes) == {"B": b"xy"}


def test_int_enum_in_int_field_is_stored_as_plain_number() -> None:
    class Level(enum.IntEnum):
        HIGH = 3

    assert TypeRegistry().encode_value(Level.HIGH, int) == {"N": "3"}


# --- renames -------------------------------------------------------------------------


@attrs.define
class Renamed:
    name: str
    count: int


def test_rename_uses_stored_name_both_ways() -> None:
    codec = ItemCodec(Renamed, TypeRegistry(), rename={"name": "n", "count": "#c"})
    item = codec.encode(Renamed("a", 3))
    assert item == {"n": {"S": "a"}, "#c": {"N": "3"}}
    assert codec.decode({"n": {"S": "b"}, "#c": {"N": "4"}}) == Renamed("b", 4)


def test_rename_does_not_read_python_name() -> None:
    codec = ItemCodec(Renamed, TypeRegistry(), rename={"name": "n"})
    with pytest.raises(ConversionError) as info:
        codec.decode({"name": {"S": "a"}, "count": {"N": "1"}})
    assert info.value.field == "name"
    assert "'n'" in str(info.value)


# --- type errors name Class.field ------------------------------------------------------

BAD_VALUES: list[tuple[str, Any]] = [
    ("s", 5),
    ("s", b"x"),
    ("s", None),
    ("i", "5"),
    ("i", True),
    ("i", False),
    ("i", 1.0),
    ("i", Decimal("1")),
    ("i", None),
    ("f", "1.5"),
    ("f", True),
    ("f", Decimal("1.5")),
    ("d", 1.5),
    ("d", True),
    ("d", "1"),
    ("b", 1),
    ("b", "true"),
    ("b", None),
    ("raw", "abc"),
    ("raw", [1, 2]),
    ("ba", "abc"),
    ("u", "12345678-1234-5678-1234-567812345678"),
    ("day", dt.datetime(2024, 1, 1, tzinfo=UTC)),
    ("day", "2024-01-01"),
    ("when", dt.date(2024, 1, 1)),
    ("when", dt.datetime(2024, 1, 1)),
    ("when", "2024-01-01T00:00:00Z"),
]


@pytest.mark.parametrize(("field", "bad"), BAD_VALUES)
def test_wrong_type_raises_conversion_error_naming_field(
    codec: ItemCodec[Scalars], field: str, bad: Any
) -> None:
    obj = sample()
    setattr(obj, field, bad)
    with pytest.raises(ConversionError) as info:
        codec.encode(obj)
    err = info.value
    assert err.cls is Scalars
    assert err.field == field
    assert f"Scalars.{field}" in str(err)
    assert err.value is bad or err.value == bad


def test_conversion_error_is_a_value_error_and_library_error(codec: ItemCodec[Scalars]) -> None:
    obj = sample()
    obj.i = "x"  # type: ignore[assignment]
    with pytest.raises(ValueError) as info:
        codec.encode(obj)
    assert isinstance(info.value, DynamORMError)


@pytest.mark.parametrize(
    ("value", "tp"),
    [
        ("5", int),
        (True, int),
        (1.5, int),
        (True, float),
        ("x", float),
        (1.5, Decimal),
        (True, Decimal),
        (1, bool),
        (1, str),
        ("x", bytes),
        ("x", uuid.UUID),
        (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.date),
        (dt.datetime(2024, 1, 1), dt.datetime),
    ],
)
def test_encode_value_rejects_wrong_types(value: Any, tp: Any) -> None:
    with pytest.raises(ConversionError):
        TypeRegistry().encode_value(value, tp)


# --- scalar_type ---------------------------------------------------------------------


class StrEnum(enum.Enum):
    A = "a"
    B = "b"


class IntLevel(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(enum.Enum):
    A = "a"
    ONE = 1


UserId = NewType("UserId", str)


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (str, "S"),
        (int, "N"),
        (float, "N"),
        (Decimal, "N"),
        (bytes, "B"),
        (bytearray, "B"),
        (bool, None),
        (uuid.UUID, "S"),
        (dt.date, "S"),
        (dt.datetime, "S"),
        (Annotated[dt.datetime, EpochSeconds], "N"),
        (Annotated[int, "meta"], "N"),
        (Optional[str], None),  # noqa: UP045
        (str | None, None),
        (list[str], None),
        (dict[str, int], None),
        (frozenset[str], None),
        (StrEnum, "S"),
        (IntLevel, "N"),
        (Mixed, None),
        (Literal["a", "b"], "S"),
        (Literal[1, 2], "N"),
        (Literal[1, "a"], None),
        (UserId, "S"),
        (typing.Any, None),
        (Scalars, None),
    ],
)
def test_scalar_type(tp: Any, expected: str | None) -> None:
    assert TypeRegistry().scalar_type(tp) == expected
    assert scalar_type(tp) == expected
