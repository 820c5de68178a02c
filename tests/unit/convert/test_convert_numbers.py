"""Numbers: DynamoDB's 38 significant digits, its exponent range, no NaN or infinity."""

import math
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamorm_async.convert import ItemCodec, TypeRegistry
from dynamorm_async.convert._numbers import (
    decode_decimal,
    decode_float,
    decode_int,
    encode_decimal,
    encode_float,
    encode_int,
)
from dynamorm_async.errors import ConversionError

NINES_38 = 10**38 - 1


# --- significant digits ----------------------------------------------------------------


def test_int_with_38_digits_is_exact() -> None:
    assert encode_int(NINES_38) == "9" * 38
    assert encode_int(-NINES_38) == "-" + "9" * 38


@pytest.mark.parametrize("value", [10**38 + 1, -(10**38 + 1), 10**39 - 1, 2**200 + 1])
def test_int_with_more_than_38_significant_digits_is_rejected(value: int) -> None:
    with pytest.raises(ConversionError) as info:
        encode_int(value)
    assert info.value.value == value
    assert "significant digits" in str(info.value)


def test_message_counts_the_digits() -> None:
    with pytest.raises(ConversionError, match="39 significant digits"):
        encode_int(10**38 + 1)


@pytest.mark.parametrize(
    "value",
    [
        10**38,
        10**50,
        -(10**50),
        10**125,
        12345678901234567890123456789012345678 * 10**80,  # 38 digits then zeros
    ],
)
def test_int_trailing_zeros_are_not_counted(value: int) -> None:
    assert Decimal(encode_int(value)) == value


def test_int_interior_zeros_are_counted() -> None:
    assert Decimal(encode_int(10**37 + 1)) == 10**37 + 1  # 38 digits
    with pytest.raises(ConversionError):
        encode_int(10**38 + 1)  # 39 digits, 37 of them interior zeros


@pytest.mark.parametrize(
    "text",
    [
        "1." + "2" * 37,  # 38 digits
        "9" * 38,
        "-" + "9" * 38,
        "0.0000" + "1" * 38,  # leading zeros are not counted
        "1.2300000000000000000000000000000000000000000000",  # trailing zeros are not
        "1" + "0" * 36 + "1",  # 38 digits including interior zeros
        "1E+100",
        "1.00000000000000000000000000000000000000000E+100",
    ],
)
def test_decimal_within_38_significant_digits_is_kept_exactly(text: str) -> None:
    value = Decimal(text)
    wire = encode_decimal(value)
    assert Decimal(wire) == value
    assert decode_decimal(wire) == value


@pytest.mark.parametrize(
    "text",
    [
        "1." + "2" * 38,  # 39 digits
        "9" * 39,
        "-" + "9" * 39,
        "0.0000" + "1" * 39,
        "1" + "0" * 37 + "1",
        "3.14159265358979323846264338327950288419716939937510",
    ],
)
def test_decimal_over_38_significant_digits_is_rejected(text: str) -> None:
    with pytest.raises(ConversionError) as info:
        encode_decimal(Decimal(text))
    assert info.value.value == Decimal(text)


def test_decimal_1e100_wire_form() -> None:
    assert encode_decimal(Decimal("1E+100")) == "1E+100"


@pytest.mark.parametrize("text", ["0", "-0", "0.000", "0E+500", "0E-500"])
def test_zero_in_any_form_is_zero(text: str) -> None:
    assert encode_decimal(Decimal(text)) == "0"


# --- exponent range ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1E-130",
        "-1E-130",
        "1.5E-130",
        "9.9999999999999999999999999999999999999E+125",
        "-9.9999999999999999999999999999999999999E+125",
        "1E+125",
    ],
)
def test_exponent_range_bounds_are_accepted(text: str) -> None:
    assert Decimal(encode_decimal(Decimal(text))) == Decimal(text)


@pytest.mark.parametrize(
    "text", ["1E-131", "-1E-131", "9.99E-131", "1E+126", "-1E+126", "1E+1000", "1E-1000"]
)
def test_exponent_out_of_range_is_rejected(text: str) -> None:
    with pytest.raises(ConversionError, match="range"):
        encode_decimal(Decimal(text))


def test_int_out_of_range_is_rejected() -> None:
    with pytest.raises(ConversionError, match="range"):
        encode_int(10**126)


@pytest.mark.parametrize("value", [1e300, -1e300, 1e-300, 5e-324, 1e126])
def test_float_out_of_range_is_rejected_not_rounded(value: float) -> None:
    with pytest.raises(ConversionError):
        encode_float(value)


# --- NaN and infinity --------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_float_nan_and_infinity_rejected(value: float) -> None:
    with pytest.raises(ConversionError, match="NaN or infinite"):
        encode_float(value)


@pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_decimal_nan_and_infinity_rejected(text: str) -> None:
    with pytest.raises(ConversionError, match="NaN or infinite"):
        encode_decimal(Decimal(text))


@attrs.define
class Measure:
    ratio: float
    amount: Decimal
    count: int


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("ratio", math.nan),
        ("ratio", math.inf),
        ("amount", Decimal("NaN")),
        ("amount", Decimal("-Infinity")),
        ("amount", Decimal("1." + "1" * 38)),
        ("count", 10**38 + 1),
    ],
)
def test_codec_rejects_bad_numbers_naming_field(field: str, bad: Any) -> None:
    obj = Measure(1.0, Decimal(1), 1)
    setattr(obj, field, bad)
    with pytest.raises(ConversionError) as info:
        ItemCodec(Measure, TypeRegistry()).encode(obj)
    assert info.value.cls is Measure
    assert info.value.field == field
    assert f"Measure.{field}" in str(info.value)


def test_bad_number_in_number_set_rejected() -> None:
    with pytest.raises(ConversionError):
        TypeRegistry().encode_value({Decimal("NaN")}, set[Decimal])
    with pytest.raises(ConversionError):
        TypeRegistry().encode_value({10**38 + 1}, set[int])


# --- floats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1.5, "1.5"),
        (100.0, "100.0"),
        (2.5e-5, "0.000025"),
    ],
)
def test_float_wire_is_shortest_repr(value: float, wire: str) -> None:
    assert encode_float(value) == wire


@given(
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda x: x == 0 or 1e-130 <= abs(x) < 9.99e125
    )
)
@settings(max_examples=300, deadline=None)
def test_float_round_trips_exactly(value: float) -> None:
    wire = encode_float(value)
    assert decode_float(wire) == value
    # the shortest text that reads back, never the long binary expansion
    assert Decimal(wire) == Decimal(repr(value))


def test_float_accepts_int_but_not_bool() -> None:
    assert encode_float(2) == "2"
    with pytest.raises(ConversionError):
        encode_float(True)
    with pytest.raises(ConversionError):
        encode_float("1.5")  # type: ignore[arg-type]


def test_decimal_accepts_int_but_not_float_or_bool() -> None:
    assert encode_decimal(5) == "5"  # type: ignore[arg-type]
    with pytest.raises(ConversionError):
        encode_decimal(1.5)  # type: ignore[arg-type]
    with pytest.raises(ConversionError):
        encode_decimal(True)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [True, False, 1.0, Decimal(1), "1", None])
def test_encode_int_rejects_non_ints(bad: Any) -> None:
    with pytest.raises(ConversionError):
        encode_int(bad)


# --- decoding -------------------------------------------------------------------------------


def test_decode_int_of_fraction_is_an_error() -> None:
    with pytest.raises(ConversionError, match="not an integer"):
        decode_int("1.5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1E+2", 100),
        ("1e2", 100),
        ("100.000", 100),
        ("-0", 0),
        ("-7", -7),
        ("9" * 38, NINES_38),
        ("1E+100", 10**100),
        ("1.2345678901234567890123456789012345678E+37", 12345678901234567890123456789012345678),
    ],
)
def test_decode_int_is_exact(text: str, expected: int) -> None:
    value = decode_int(text)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize("text", ["abc", "", "1.5.5", "NaN", "Infinity", "-Infinity"])
def test_decode_int_garbage_is_conversion_error(text: str) -> None:
    with pytest.raises(ConversionError):
        decode_int(text)


@pytest.mark.parametrize("text", ["abc", "", "1.5.5"])
def test_decode_decimal_garbage_is_conversion_error(text: str) -> None:
    with pytest.raises(ConversionError):
        decode_decimal(text)


@pytest.mark.parametrize("text", ["abc", "", "1.5.5"])
def test_decode_float_garbage_is_conversion_error(text: str) -> None:
    with pytest.raises(ConversionError):
        decode_float(text)


def test_decode_decimal_keeps_exponent_and_digits() -> None:
    assert str(decode_decimal("1.10")) == "1.10"
    assert str(decode_decimal("1E+100")) == "1E+100"
    long = "-1.234567890123456789012345678901234567E-130"
    assert str(decode_decimal(long)) == long


def test_codec_int_field_with_fractional_wire_number_is_error() -> None:
    codec = ItemCodec(Measure, TypeRegistry())
    with pytest.raises(ConversionError) as info:
        codec.decode({"ratio": {"N": "1"}, "amount": {"N": "1"}, "count": {"N": "2.5"}})
    assert info.value.field == "count"


def test_codec_int_field_with_exponent_wire_number() -> None:
    codec = ItemCodec(Measure, TypeRegistry())
    obj = codec.decode({"ratio": {"N": "1"}, "amount": {"N": "1"}, "count": {"N": "1E+2"}})
    assert obj.count == 100
    assert type(obj.count) is int


# --- properties -----------------------------------------------------------------------------


@st.composite
def dynamo_decimals(draw: st.DrawFn) -> Decimal:
    n = draw(st.integers(1, 38))
    first = draw(st.integers(1, 9))
    rest = draw(st.lists(st.integers(0, 9), min_size=n - 1, max_size=n - 1))
    exponent = draw(st.integers(-129 - n, 126 - n))
    return Decimal((draw(st.integers(0, 1)), (first, *rest), exponent))


@given(dynamo_decimals())
@settings(max_examples=300, deadline=None)
def test_decimals_within_limits_round_trip_exactly(value: Decimal) -> None:
    wire = encode_decimal(value)
    back = decode_decimal(wire)
    assert back == value
    assert back.as_tuple() == value.as_tuple()


@given(st.integers(-NINES_38, NINES_38))
@settings(max_examples=200, deadline=None)
def test_ints_within_38_digits_round_trip(value: int) -> None:
    assert decode_int(encode_int(value)) == value


@given(st.integers(10**38, 10**60), st.integers(0, 40))
@settings(max_examples=200, deadline=None)
def test_ints_over_38_significant_digits_rejected(base: int, shift: int) -> None:
    value = (base * 10 + 1) * 10**shift  # at least 40 significant digits
    with pytest.raises(ConversionError):
        encode_int(value)
