"""User converters: register_converter on a fresh TypeRegistry, used in fields and containers."""

import uuid
from fractions import Fraction
from typing import Any

import attrs
import pytest

from dynamorm_async.convert import ItemCodec, TypeRegistry, default_registry
from dynamorm_async.errors import ConversionError, MappingError


class Money:
    """Whole cents, stored as a Number."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.cents == self.cents

    def __hash__(self) -> int:
        return hash(self.cents)

    def __repr__(self) -> str:
        return f"Money({self.cents})"


class Token:
    """Opaque bytes, stored as Binary."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)


class Vec:
    """Stored as a map of numbers."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vec) and (other.x, other.y) == (self.x, self.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))


def make_registry() -> TypeRegistry:
    registry = TypeRegistry()
    registry.register_converter(Fraction, encode=str, decode=Fraction)
    registry.register_converter(
        Money, encode=lambda m: m.cents, decode=lambda n: Money(n), stored_as=int
    )
    registry.register_converter(
        Token, encode=lambda t: t.raw, decode=lambda b: Token(b), stored_as=bytes
    )
    registry.register_converter(
        Vec,
        encode=lambda v: {"x": v.x, "y": v.y},
        decode=lambda d: Vec(d["x"], d["y"]),
        stored_as=dict[str, int],
    )
    return registry


@attrs.define
class Order:
    id: str
    share: Fraction
    price: Money
    token: Token
    where: Vec
    parts: list[Fraction] = attrs.Factory(list)
    prices: dict[str, Money] = attrs.Factory(dict)
    discount: Money | None = None


def sample() -> Order:
    return Order(
        "o1",
        Fraction(1, 3),
        Money(1999),
        Token(b"\x01\x02"),
        Vec(3, -4),
        parts=[Fraction(1, 2), Fraction(5)],
        prices={"eur": Money(10)},
        discount=Money(0),
    )


def test_custom_fields_wire_form() -> None:
    codec = ItemCodec(Order, make_registry())
    assert codec.encode(sample()) == {
        "id": {"S": "o1"},
        "share": {"S": "1/3"},
        "price": {"N": "1999"},
        "token": {"B": b"\x01\x02"},
        "where": {"M": {"x": {"N": "3"}, "y": {"N": "-4"}}},
        "parts": {"L": [{"S": "1/2"}, {"S": "5"}]},
        "prices": {"M": {"eur": {"N": "10"}}},
        "discount": {"N": "0"},
    }


def test_custom_fields_round_trip() -> None:
    codec = ItemCodec(Order, make_registry())
    back = codec.decode(codec.encode(sample()))
    assert back == sample()
    assert type(back.share) is Fraction
    assert type(back.price) is Money
    assert all(type(p) is Fraction for p in back.parts)


def test_optional_custom_field_none_is_omitted() -> None:
    codec = ItemCodec(Order, make_registry())
    obj = sample()
    obj.discount = None
    item = codec.encode(obj)
    assert "discount" not in item
    assert codec.decode(item).discount is None


def test_encode_value_and_decode_value_use_converters() -> None:
    registry = make_registry()
    assert registry.encode_value(Fraction(-3, 4), Fraction) == {"S": "-3/4"}
    assert registry.decode_value({"S": "-3/4"}, Fraction) == Fraction(-3, 4)
    assert registry.encode_value([Money(1), Money(2)], list[Money]) == {
        "L": [{"N": "1"}, {"N": "2"}]
    }
    assert registry.decode_value({"L": [{"B": b"a"}]}, list[Token]) == [Token(b"a")]
    assert registry.encode_value(None, Fraction | None) is None


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (Fraction, "S"),
        (Money, "N"),
        (Token, "B"),
        (Vec, None),
        (Fraction | None, None),
        (list[Money], None),
    ],
)
def test_scalar_type_of_registered_types(tp: Any, expected: str | None) -> None:
    assert make_registry().scalar_type(tp) == expected


def test_scalar_type_of_unregistered_type_is_none() -> None:
    assert TypeRegistry().scalar_type(Fraction) is None


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("share", 0.5),
        ("share", "1/3"),
        ("price", 1999),
        ("price", Fraction(1)),
        ("token", b"\x01"),
        ("where", (1, 2)),
        ("parts", [Fraction(1), 0.5]),
        ("prices", {"eur": 10}),
        ("discount", 5),
    ],
)
def test_wrong_type_in_custom_field_is_rejected(field: str, bad: Any) -> None:
    obj = sample()
    setattr(obj, field, bad)
    with pytest.raises(ConversionError) as info:
        ItemCodec(Order, make_registry()).encode(obj)
    err = info.value
    assert err.cls is Order
    assert err.field == field
    assert f"Order.{field}" in str(err)


def test_encode_value_wrong_type_for_custom_converter() -> None:
    with pytest.raises(ConversionError, match="Fraction"):
        make_registry().encode_value(0.5, Fraction)


def test_stored_value_still_checked_against_dynamodb_rules() -> None:
    # Money is stored as an int: the 38-digit limit applies to what encode returns.
    with pytest.raises(ConversionError):
        make_registry().encode_value(Money(10**38 + 1), Money)


def test_decode_failure_in_user_decoder_names_field() -> None:
    codec = ItemCodec(Order, make_registry())
    item = codec.encode(sample())
    item["share"] = {"S": "one third"}
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    assert info.value.cls is Order
    assert info.value.field == "share"


def test_decode_wrong_stored_type_for_custom_field() -> None:
    codec = ItemCodec(Order, make_registry())
    item = codec.encode(sample())
    item["price"] = {"S": "1999"}
    with pytest.raises(ConversionError) as info:
        codec.decode(item)
    assert info.value.field == "price"


def test_registries_are_isolated() -> None:
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    as_bytes = TypeRegistry()
    as_bytes.register_converter(
        uuid.UUID, encode=lambda v: v.bytes, decode=lambda b: uuid.UUID(bytes=b), stored_as=bytes
    )
    assert as_bytes.encode_value(u, uuid.UUID) == {"B": u.bytes}
    assert as_bytes.decode_value({"B": u.bytes}, uuid.UUID) == u
    assert as_bytes.scalar_type(uuid.UUID) == "B"
    # neither a fresh registry nor the default one sees the override
    assert TypeRegistry().encode_value(u, uuid.UUID) == {"S": str(u)}
    assert default_registry.encode_value(u, uuid.UUID) == {"S": str(u)}
    assert TypeRegistry().scalar_type(uuid.UUID) == "S"


def test_registering_on_one_registry_leaves_default_untouched() -> None:
    make_registry()
    assert Fraction not in default_registry.stored_as
    assert Money not in default_registry.stored_as


@attrs.define
class Unknown:
    share: Fraction


def test_unregistered_type_is_an_error_not_a_raw_value() -> None:
    # Without a converter the value cannot become an AttributeValue: the item must
    # not carry the raw Fraction object.  (A setup error, MappingError, would do too.)
    with pytest.raises((ConversionError, MappingError)) as info:
        ItemCodec(Unknown, TypeRegistry()).encode(Unknown(Fraction(1, 3)))
    assert "share" in str(info.value) or "Fraction" in str(info.value)


def test_unregistered_type_decode_is_a_library_error() -> None:
    # Errors come from the library's tree, not from cattrs' internals.
    with pytest.raises((ConversionError, MappingError)) as info:
        ItemCodec(Unknown, TypeRegistry()).decode({"share": {"S": "1/3"}})
    assert "share" in str(info.value) or "Fraction" in str(info.value)


@attrs.define
class Bag:
    meta: dict[str, Any]


def test_registered_type_inside_any_uses_its_converter() -> None:
    item = ItemCodec(Bag, make_registry()).encode(Bag({"share": Fraction(1, 3), "p": Money(5)}))
    assert item == {"meta": {"M": {"share": {"S": "1/3"}, "p": {"N": "5"}}}}
