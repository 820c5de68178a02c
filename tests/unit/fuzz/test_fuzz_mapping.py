"""Fuzzing the mapping: objects with wrong-typed fields, bad keys, malformed stored items.

* Encoding an object whose fields hold values of any type: an item, or a
  `ConversionError` naming the class and the field (a `ValidationError` for a key
  DynamoDB would refuse).
* Keys of any type, empty, over DynamoDB's limits (2,048 bytes for a partition key,
  1,024 for a sort key), with unknown fields of any type, or holding text that is not
  valid Unicode (a lone surrogate): a key, or a `ValidationError`.
* Decoding stored items of any shape (``{"S": 5}``, ``{"N": "abc"}``, ``{"X": 1}``,
  ``{}``, two tags, missing key attributes...): an object, or a `ConversionError`; by
  the class (`Mapper.decode`) and by field (`Mapper.decode_fields`, what ``as_dicts()``
  reads).

Writes are also recorded in a transaction of a `Database` that is never opened, so the
errors are checked with their context (table, operation) without sending anything.
Whatever the input, only `DynamORMError` subclasses come out. The examples are
derandomized, so CI replays the same cases.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Literal

import attrs
import pytest
from _fuzzing import (
    REPLAYED,
    Color,
    Inner,
    key_problem,
    lone_surrogates,
    nested,
    outcome,
    random_instances,
    sized_texts,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    ConversionError,
    Database,
    DynamORMError,
    Mapper,
    ValidationError,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS

FUZZ = settings(REPLAYED, max_examples=300)
FEW = settings(REPLAYED, max_examples=100)


@attrs.define
class Thing:
    id: str
    sk: int
    n: int = 0
    f: float = 0.0
    d: Decimal = Decimal(0)
    s: str = ""
    b: bytes = b""
    flag: bool = False
    tags: frozenset[str] = frozenset()
    nums: set[int] = attrs.field(factory=set)
    lst: list[int] = attrs.field(factory=list)
    pair: tuple[int, str] = (0, "")
    m: dict[str, int] = attrs.field(factory=dict)
    anything: Any = None
    opt: int | None = None
    either: int | str = 0
    color: Color = Color.RED
    when: dt.datetime | None = None
    day: dt.date | None = None
    uid: uuid.UUID | None = None
    inner: Inner | None = None
    inners: list[Inner] = attrs.field(factory=list)
    lit: Literal["x", "y"] = "x"


THINGS = Mapper(
    Thing, table="things", partition_key="id", sort_key="sk", field_names={"s": "select"}
)
FIELDS = [field.name for field in attrs.fields(Thing)]
STORED = [THINGS.stored_name(name) for name in FIELDS]


@attrs.define
class Texts:
    pk: str
    sk: str


@attrs.define
class Blobs:
    pk: bytes
    sk: Decimal


@attrs.define
class Times:
    pk: dt.datetime
    sk: uuid.UUID


@attrs.define
class Colored:
    pk: Color


TEXTS = Mapper(Texts, table="texts", partition_key="pk", sort_key="sk")
BLOBS = Mapper(Blobs, table="blobs", partition_key="pk", sort_key="sk")
TIMES = Mapper(Times, table="times", partition_key="pk", sort_key="sk")
COLORED = Mapper(Colored, table="colored", partition_key="pk")
KEYED = [THINGS, TEXTS, BLOBS, TIMES, COLORED]

DB = Database.connect("http://127.0.0.1:9", mappers=KEYED, **LOCAL_CREDENTIALS)  # never opened

# --- values of every type ------------------------------------------------------------

hashable_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**38, 10**40, -(10**39), 2**64]),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=True),
    st.text(max_size=8),
    lone_surrogates,
    st.binary(max_size=8),
    st.sampled_from([Color.RED, (1, "a"), "", b""]),
)
scalars = st.one_of(
    hashable_scalars,
    st.floats(),
    st.decimals(),
    st.sampled_from([Decimal("1" * 39), Decimal("1E+126"), Decimal("1E-131"), Decimal("sNaN")]),
    st.builds(bytearray, st.binary(max_size=4)),
    st.datetimes(),
    st.datetimes(timezones=st.just(dt.timezone.utc)),
    st.dates(),
    st.uuids(),
    st.complex_numbers(),
    st.builds(Inner, st.integers(), st.text(max_size=3)),
    st.builds(Inner, st.text(max_size=3)),
    random_instances,
    st.sampled_from([object(), object, Thing, Ellipsis, range(3), memoryview(b"mv")]),
)
any_values = nested(scalars, hashable_scalars)


# --- encoding objects --------------------------------------------------------------------


@FUZZ
@given(field=st.sampled_from(FIELDS), value=any_values)
@example(field="n", value="three")
@example(field="f", value=float("nan"))
@example(field="d", value=Decimal("1" * 39))
@example(field="tags", value=frozenset({1}))
@example(field="nums", value={1, "a"})
@example(field="m", value={1: 2})
@example(field="m", value={"": 2})
@example(field="inner", value=Inner("x"))  # type: ignore[arg-type]
@example(field="when", value=dt.datetime(2024, 1, 1))
@example(field="id", value="")
@example(field="id", value=None)
@example(field="sk", value=True)
@example(field="s", value="\ud800")
@example(field="id", value="a\udfff")
@example(field="m", value={"\ud800": 1})
def test_encoding_an_object_with_a_wrong_typed_field(field, value):
    obj = attrs.evolve(Thing("p1", 1), **{field: value})
    item = outcome(lambda: THINGS.encode(obj))
    if isinstance(item, DynamORMError):
        assert isinstance(item, ConversionError | ValidationError)
        if isinstance(item, ConversionError):
            assert item.cls is Thing
            assert item.field is not None
            assert item.field.split(".")[0].split("[")[0] == field
            assert f"Thing.{field}" in str(item)
    else:
        assert set(item) <= set(STORED)
        # What was encoded reads back, or is refused as not fitting the class.
        outcome(lambda: THINGS.decode(item))

    tx = DB.transaction()
    recorded = outcome(lambda: tx.put(obj))
    if isinstance(recorded, DynamORMError):
        assert recorded.table == "things"
        assert recorded.operation == "PutItem"
    tx.rollback()


@FEW
@given(obj=st.one_of(any_values, st.builds(Texts, st.text(), st.text())))
def test_encoding_something_that_is_not_an_instance(obj):
    error = outcome(lambda: THINGS.encode(obj))
    assert isinstance(error, ConversionError)
    tx = DB.transaction()
    with pytest.raises(DynamORMError):
        tx.put(obj, mapper=THINGS)


# --- keys ----------------------------------------------------------------------------


# Dict keys: field names, other text, and fields of other types (which cannot be
# ordered with text: the error lists them by repr).
key_dicts = st.dictionaries(
    st.one_of(
        st.sampled_from(["id", "sk", "pk", "n", "zz"]),
        st.text(max_size=4),
        st.integers(),
        st.none(),
        st.booleans(),
    ),
    any_values,
    max_size=4,
)
keys = st.one_of(
    any_values,
    st.tuples(any_values),
    st.tuples(any_values, any_values),
    st.tuples(any_values, any_values, any_values),
    key_dicts,
    st.builds(Thing, any_values, any_values),
    st.builds(Texts, any_values, any_values),
)


def check_stored_key(mapper: Mapper[Any], stored: dict[str, Any]) -> None:
    assert set(stored) == {mapper.stored_name(name) for name in mapper.key_fields}
    for name, av in stored.items():
        ((tag, value),) = av.items()
        assert tag in ("S", "N", "B")
        if tag != "N":
            assert value
            size = len(value.encode()) if tag == "S" else len(value)
            limit = (
                1024 if name == (mapper.sort_key and mapper.stored_name(mapper.sort_key)) else 2048
            )
            assert size <= limit


@FUZZ
@given(mapper=st.sampled_from(KEYED), key=keys)
@example(mapper=THINGS, key="")
@example(mapper=THINGS, key=("", 1))
@example(mapper=THINGS, key=("a", None))
@example(mapper=THINGS, key=("a", "1"))
@example(mapper=THINGS, key=("a", 1, 2))
@example(mapper=THINGS, key={"id": "a"})
@example(mapper=THINGS, key={"id": "a", "sk": 1, "n": 2})
@example(mapper=THINGS, key={1: "a", "sk": 1})
@example(mapper=TEXTS, key=("a" * 2049, "b"))
@example(mapper=TEXTS, key=("a", "b" * 1025))
@example(mapper=BLOBS, key=(b"", Decimal(1)))
@example(mapper=BLOBS, key=(b"x", Decimal("NaN")))
@example(mapper=TIMES, key=(dt.datetime(2024, 1, 1), uuid.UUID(int=0)))
@example(mapper=COLORED, key="red")
@example(mapper=THINGS, key={"id": "a", "sk": 1, 1: "x", None: "y", "z": "w"})
@example(mapper=TEXTS, key=("\ud800", "b"))
def test_keys_of_any_value(mapper, key):
    stored = outcome(lambda: mapper.key(key))
    if isinstance(stored, DynamORMError):
        assert isinstance(stored, ValidationError)
    else:
        check_stored_key(mapper, stored)

    tx = DB.transaction()
    recorded = outcome(lambda: tx.delete(key, mapper=mapper))
    if isinstance(recorded, DynamORMError):
        assert isinstance(recorded, ValidationError)
        assert recorded.table == mapper.table
        assert recorded.operation == "DeleteItem"
    tx.rollback()


# Text around the limits: the sizes at which 1-, 2-, 3- or 4-byte characters come to
# 1,024 or 2,048 bytes.
key_sized_texts = sized_texts(
    st.one_of(
        st.integers(0, 5),
        st.integers(250, 260),
        st.integers(338, 345),
        st.integers(508, 516),
        st.integers(680, 686),
        st.integers(1020, 1030),
        st.integers(2040, 2060),
    )
)


@FUZZ
@given(pk=st.one_of(key_sized_texts, st.text()), sk=st.one_of(key_sized_texts, st.text()))
@example(pk="a" * 2048, sk="b" * 1024)
@example(pk="a" * 2049, sk="b")
@example(pk="a", sk="b" * 1025)
@example(pk="é" * 1024, sk="é" * 512)
@example(pk="é" * 1025, sk="b")
@example(pk="🙂" * 512, sk="🙂" * 256)
@example(pk="🙂" * 513, sk="b")
@example(pk="a", sk="🙂" * 257)
@example(pk="\ud800", sk="b")
@example(pk="a", sk="b\udfff")
def test_string_key_size_limits(pk, sk):
    # The partition key is checked first.
    problem = key_problem(pk, 2048) or key_problem(sk, 1024)
    result = outcome(lambda: TEXTS.key((pk, sk)))
    if problem is None:
        assert result == {"pk": {"S": pk}, "sk": {"S": sk}}
        assert TEXTS.encode(Texts(pk, sk)) == result
    else:
        assert isinstance(result, ValidationError)
        assert problem in str(result), str(result)
        with pytest.raises(ValidationError, match=problem):
            TEXTS.encode(Texts(pk, sk))


@FEW
@given(pk=st.integers(0, 2100), sk=st.integers(0, 1100))
@example(pk=2048, sk=1024)
@example(pk=2049, sk=1)
@example(pk=1, sk=1025)
def test_binary_key_size_limits(pk, sk):
    key = (b"\xff" * pk, Decimal(1))
    result = outcome(lambda: BLOBS.key(key))
    if 0 < pk <= 2048:
        assert result == {"pk": {"B": key[0]}, "sk": {"N": "1"}}
    else:
        assert isinstance(result, ValidationError)
    sort_limited = Mapper(Texts, table="texts2", partition_key="sk", sort_key="pk")
    result = outcome(lambda: sort_limited.key(("x" * sk, "p")))
    assert isinstance(result, ValidationError) == (not 0 < sk <= 2048)


@FEW
@given(
    key=st.dictionaries(
        st.one_of(
            st.sampled_from(["id", "sk"]),
            st.text(max_size=3),
            st.integers(),
            st.none(),
            st.booleans(),
        ),
        st.text(),
        max_size=4,
    )
)
@example(key={"id": "a", "sk": 1, 1: "x", "z": "y"})
@example(key={"id": "a", "sk": 1, None: "x", False: "y"})
def test_a_key_dict_with_unknown_fields_of_mixed_types(key):
    """Unknown fields that cannot be ordered together (a str and an int, None and
    False...) are named, in the order of their reprs."""
    unknown = sorted((name for name in key if name not in ("id", "sk")), key=repr)
    result = outcome(lambda: THINGS.key(key))
    assert isinstance(result, ValidationError), result
    if unknown:
        assert f"unknown fields {unknown}" in str(result)
    tx = DB.transaction()
    recorded = outcome(lambda: tx.delete(key, mapper=THINGS))
    assert isinstance(recorded, ValidationError)
    assert (recorded.table, recorded.operation) == ("things", "DeleteItem")
    tx.rollback()


@FEW
@given(text=lone_surrogates, where_=st.sampled_from(["key", "field", "object key", "map key"]))
@example(text="\ud800", where_="key")
@example(text="\ud800", where_="field")
@example(text="a\udfff", where_="map key")
def test_lone_surrogates_in_strings(text, where_):
    """Text with no UTF-8 form: in a key, a ValidationError before anything is sent; in
    any other field, a ConversionError when the write's size is checked."""
    tx = DB.transaction()
    if where_ == "key":
        with pytest.raises(ValidationError, match="not valid Unicode text"):
            THINGS.key((text, 1))
        with pytest.raises(ValidationError, match="not valid Unicode text") as caught:
            tx.delete((text, 1), mapper=THINGS)
        assert caught.value.operation == "DeleteItem"
    elif where_ == "object key":
        with pytest.raises(ValidationError, match="not valid Unicode text") as caught:
            tx.put(Thing(text, 1))
        assert caught.value.operation == "PutItem"
    else:
        obj = Thing("p1", 1, s=text) if where_ == "field" else Thing("p1", 1, anything={text: 1})
        with pytest.raises(ConversionError, match="not valid Unicode text") as caught:
            tx.put(obj)
        assert (caught.value.table, caught.value.operation) == ("things", "PutItem")
    tx.rollback()


# --- decoding stored items ---------------------------------------------------------------

TAGS = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.binary(max_size=4),
    st.sampled_from(["1", "-1.5", "1e5", "abc", "NaN", "Infinity", "1" * 50, "", "2024-13-45"]),
)
tags = st.one_of(st.sampled_from(TAGS), st.sampled_from(["X", "s", "", "Z"]))
any_avs = st.recursive(
    st.one_of(
        st.builds(lambda tag, value: {tag: value}, tags, json_scalars),
        st.just({}),
        st.builds(lambda a, b, x, y: {a: x, b: y}, tags, tags, json_scalars, json_scalars),
        json_scalars,  # not even a dict
    ),
    lambda children: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(children, max_size=3)),
        st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=3), children, max_size=3)),
        st.builds(lambda tag, v: {tag: v}, tags, st.lists(children, max_size=3)),
        st.builds(
            lambda tag, v: {tag: v},
            tags,
            st.dictionaries(st.text(max_size=3), children, max_size=2),
        ),
    ),
    max_leaves=8,
)
items = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(STORED), st.text(max_size=4)), any_avs, max_size=6),
    st.builds(
        lambda rest: {"id": {"S": "p1"}, "sk": {"N": "1"}, **rest},
        st.dictionaries(st.sampled_from(STORED), any_avs, max_size=4),
    ),
    json_scalars,
    st.lists(any_avs, max_size=2),
)


@FUZZ
@given(item=items)
@example(item={"id": {"S": 5}, "sk": {"N": "1"}})
@example(item={"id": {"S": "p1"}, "sk": {"N": "abc"}})
@example(item={"id": {"X": 1}, "sk": {"N": "1"}})
@example(item={"id": {}, "sk": {"N": "1"}})
@example(item={"id": {"S": "a", "N": "1"}, "sk": {"N": "1"}})
@example(item={"sk": {"N": "1"}})
@example(item={})
@example(item={"id": {"S": "p1"}, "sk": {"N": "1"}, "lst": {"L": 5}})
@example(item={"id": {"S": "p1"}, "sk": {"N": "1"}, "m": {"M": {"a": {}}}})
@example(item={"id": {"S": "p1"}, "sk": {"N": "1"}, "inner": {"M": {"b": {"S": "x"}}}})
@example(item=None)
def test_decoding_a_malformed_item_is_a_conversion_error(item):
    given_item = item if not isinstance(item, dict) else dict(item)
    decoded = outcome(lambda: THINGS.decode(given_item))
    if isinstance(decoded, DynamORMError):
        assert isinstance(decoded, ConversionError)
        assert decoded.cls is Thing
    else:
        assert isinstance(decoded, Thing)


@pytest.mark.parametrize(
    "av",
    [{"S": 5}, {"N": "abc"}, {"X": 1}, {}, {"N": None}, {"L": 5}, {"M": 5}, 5, None],
    ids=repr,
)
@pytest.mark.parametrize("attribute", ["id", "sk"])
def test_a_key_attribute_of_the_wrong_shape_is_a_conversion_error_naming_it(attribute, av):
    item = {"id": {"S": "p1"}, "sk": {"N": "1"}, attribute: av}
    with pytest.raises(ConversionError) as caught:
        THINGS.decode(item)
    assert caught.value.cls is Thing
    assert caught.value.field == attribute
    assert f"Thing.{attribute}" in str(caught.value)


@pytest.mark.parametrize("missing", ["id", "sk"])
def test_an_item_missing_a_key_attribute_is_a_conversion_error(missing):
    item = {"id": {"S": "p1"}, "sk": {"N": "1"}}
    del item[missing]
    with pytest.raises(ConversionError, match="required"):
        THINGS.decode(item)


# Well-shaped AttributeValues: one known tag, holding a value of the JSON type that tag
# has. `Mapper.decode_fields` (what `as_dicts()` queries return) reads them, or refuses
# them with a ConversionError (as it does values of any shape: the test after).
well_shaped_avs = st.recursive(
    st.one_of(
        st.builds(lambda v: {"S": v}, st.text(max_size=5)),
        st.builds(lambda v: {"N": v}, st.one_of(st.text(max_size=5), st.just("1.5"))),
        st.builds(lambda v: {"B": v}, st.binary(max_size=4)),
        st.builds(lambda v: {"BOOL": v}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=3), max_size=3)),
        st.builds(lambda v: {"NS": v}, st.lists(st.text(max_size=3), max_size=3)),
        st.builds(lambda v: {"BS": v}, st.lists(st.binary(max_size=3), max_size=3)),
    ),
    lambda children: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(children, max_size=3)),
        st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=3), children, max_size=3)),
    ),
    max_leaves=8,
)


@FUZZ
@given(item=st.dictionaries(st.sampled_from(STORED), well_shaped_avs, max_size=6))
def test_decode_fields_of_well_shaped_values(item):
    fields = outcome(lambda: THINGS.decode_fields(item))
    if isinstance(fields, DynamORMError):
        assert isinstance(fields, ConversionError)
    else:
        assert set(fields) <= set(FIELDS)


@FUZZ
@given(item=st.dictionaries(st.sampled_from(STORED), any_avs, max_size=4))
@example(item={"id": {"S": "p1"}, "n": {}})
@example(item={"id": {"S": "p1"}, "n": {"S": "a", "N": "1"}})
@example(item={"id": {"S": "p1"}, "n": {"L": 5}})
@example(item={"id": {"S": "p1"}, "anything": {"M": 5}})
@example(item={"id": {"S": "p1"}, "anything": {"N": None}})
@example(item={"id": {"S": "p1"}, "anything": 5})
def test_decode_fields_of_malformed_values(item):
    """What a field's type cannot read goes to `decode_any`, which refuses a malformed
    AttributeValue ({}, two tags, {"L": 5}...) with a ConversionError too."""
    fields = outcome(lambda: THINGS.decode_fields(item))
    if isinstance(fields, DynamORMError):
        assert isinstance(fields, ConversionError)
    else:
        assert set(fields) <= set(FIELDS)


@pytest.mark.parametrize(
    "av",
    [{}, {"S": "a", "N": "1"}, {"L": 5}, {"M": 5}, {"N": None}, {"N": [1]}, {"SS": [[1]]}, 5],
    ids=repr,
)
def test_decode_any_of_a_malformed_value_is_a_conversion_error(av):
    with pytest.raises(ConversionError):
        THINGS.decode_fields({"anything": av})
