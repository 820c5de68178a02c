"""Item size as DynamoDB counts it (names + values, list/map overheads), and the 400 KB limit."""

from typing import Any

import attrs
import pytest

from dynamorm_async.convert import MAX_ITEM_BYTES, ItemCodec, TypeRegistry, item_size


def test_limit_is_400_kib() -> None:
    assert MAX_ITEM_BYTES == 400 * 1024 == 409_600


def test_empty_item_is_zero() -> None:
    assert item_size({}) == 0


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("", 0),
        ("abc", 3),
        ("é", 2),  # two UTF-8 bytes
        ("€", 3),
        ("😀", 4),
        ("aé€😀", 1 + 2 + 3 + 4),
    ],
)
def test_string_counts_utf8_bytes(text: str, size: int) -> None:
    assert item_size({"a": {"S": text}}) == 1 + size


def test_attribute_name_counts_utf8_bytes() -> None:
    assert item_size({"ñame": {"S": "x"}}) == 5 + 1
    assert item_size({"名前": {"BOOL": True}}) == 6 + 1


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("1", 2),  # 1 digit: 1 byte + 1
        ("12", 2),
        ("123", 3),
        ("1234", 3),
        ("100", 2),  # trailing zeros trimmed
        ("0.001", 2),  # leading zeros trimmed
        ("1.5", 2),
        ("1E+100", 2),
        ("1.5E-10", 2),
        ("12345678901234567890123456789012345678", 20),  # 38 digits: 19 + 1
        ("1234567890123456789012345678901234567800000000", 20),
        ("0.00000000012345678901234567890123456789012345678", 20),
    ],
)
def test_number_size_is_one_byte_per_two_significant_digits_plus_one(
    number: str, size: int
) -> None:
    assert item_size({"n": {"N": number}}) == 1 + size


def test_negative_number_is_at_least_as_big_as_positive() -> None:
    assert item_size({"n": {"N": "-123"}}) >= item_size({"n": {"N": "123"}})


@pytest.mark.parametrize("n", [0, 1, 10, 1000])
def test_binary_counts_raw_bytes(n: int) -> None:
    assert item_size({"b": {"B": b"\xff" * n}}) == 1 + n


@pytest.mark.parametrize("av", [{"BOOL": True}, {"BOOL": False}, {"NULL": True}])
def test_bool_and_null_are_one_byte(av: dict[str, Any]) -> None:
    assert item_size({"x": av}) == 1 + 1


def test_empty_map_and_list_are_three_bytes() -> None:
    assert item_size({"m": {"M": {}}}) == 1 + 3
    assert item_size({"l": {"L": []}}) == 1 + 3


def test_map_counts_keys_values_and_one_byte_per_element() -> None:
    item = {"m": {"M": {"k": {"S": "v"}, "key2": {"N": "12"}}}}
    # name 1 + overhead 3 + (1 + "k" 1 + "v" 1) + (1 + "key2" 4 + number 2)
    assert item_size(item) == 1 + 3 + (1 + 1 + 1) + (1 + 4 + 2)


def test_list_counts_values_and_one_byte_per_element() -> None:
    item = {"l": {"L": [{"S": "ab"}, {"N": "1"}, {"NULL": True}]}}
    assert item_size(item) == 1 + 3 + (1 + 2) + (1 + 2) + (1 + 1)


def test_nested_containers_add_their_overheads() -> None:
    item = {"m": {"M": {"inner": {"L": [{"M": {}}, {"L": [{"S": "é"}]}]}}}}
    inner_list = 3 + (1 + 3) + (1 + (3 + (1 + 2)))
    assert item_size(item) == 1 + 3 + (1 + 5 + inner_list)


@pytest.mark.parametrize(
    ("av", "size"),
    [
        ({"SS": ["a", "bc", "é"]}, 1 + 2 + 2),
        ({"NS": ["1", "22", "333"]}, 2 + 2 + 3),
        ({"BS": [b"a", b"\x00\x01"]}, 1 + 2),
    ],
)
def test_sets_sum_their_members(av: dict[str, Any], size: int) -> None:
    assert item_size({"s": av}) == 1 + size


def test_size_is_sum_over_attributes() -> None:
    item = {"a": {"S": "xy"}, "bb": {"N": "5"}, "c": {"BOOL": False}}
    assert item_size(item) == (1 + 2) + (2 + 2) + (1 + 1)


def test_item_exactly_at_limit_and_one_byte_over() -> None:
    at_limit = {"pk": {"S": "x" * (MAX_ITEM_BYTES - 2)}}
    assert item_size(at_limit) == MAX_ITEM_BYTES
    over = {"pk": {"S": "x" * (MAX_ITEM_BYTES - 1)}}
    assert item_size(over) == MAX_ITEM_BYTES + 1
    assert item_size(over) > MAX_ITEM_BYTES


def test_multibyte_item_at_limit_and_over() -> None:
    # 3 bytes per "€": a character count would be three times too small.
    chars = (MAX_ITEM_BYTES - 1) // 3  # 136533 chars = 409599 bytes
    at_limit = {"s": {"S": "€" * chars}}
    assert item_size(at_limit) == 1 + 3 * chars == MAX_ITEM_BYTES
    over = {"s": {"S": "€" * chars + "a"}}
    assert item_size(over) == MAX_ITEM_BYTES + 1


def test_binary_item_at_limit_and_over() -> None:
    names_and_overhead = len("pk") + len("blob") + 1  # pk holds "k"
    blob = b"\x00" * (MAX_ITEM_BYTES - names_and_overhead)
    at_limit = {"pk": {"S": "k"}, "blob": {"B": blob}}
    assert item_size(at_limit) == MAX_ITEM_BYTES
    assert item_size({"pk": {"S": "k"}, "blob": {"B": blob + b"\x00"}}) == MAX_ITEM_BYTES + 1


@attrs.define
class Doc:
    id: str
    body: str
    tags: frozenset[str]
    counts: dict[str, int]
    flags: list[bool]


def test_size_of_encoded_object() -> None:
    obj = Doc("é", "hello", frozenset({"a", "bb"}), {"x": 100}, [True, False])
    item = ItemCodec(Doc, TypeRegistry()).encode(obj)
    expected = (
        (2 + 2)  # id: "é"
        + (4 + 5)  # body
        + (4 + 1 + 2)  # tags SS
        + (6 + 3 + (1 + 1 + 2))  # counts M: x -> 100 (1 significant digit)
        + (5 + 3 + (1 + 1) + (1 + 1))  # flags L of BOOL
    )
    assert item_size(item) == expected
