"""The generated codecs against their definitions, on hypothesis-generated values.

`item_encoder` writes str, bool and int fields inline and calls the other fields'
hooks; `item_decoder` (fast converter) does the same on the way back. Their reference:

* encoding: each field's hook applied to its value, with the omission rules (a
  ``None`` or empty set left out, or stored as NULL where leaving it out would read
  back as another default);
* decoding: cattrs' own generated function on the detailed converter (the one used
  to explain failures), with missing optional attributes read as NULL.

For values of the right and of the wrong types, and items with attributes missing or
of the wrong DynamoDB type, both sides must give the same result or both fail.

Every test runs twice: on the codecs compiled from C (``_speedups.c``) and on the
generated Python source, each with converters of its own.
"""

from __future__ import annotations

import datetime as dt
import enum
import platform
import shutil
import sysconfig
import traceback
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamorm_async.convert import TypeRegistry, _generate
from dynamorm_async.convert._hooks import (
    NULL,
    _fields,
    _stored_names,
    item_decoder,
    item_encoder,
    omission_reads_back,
    unstructure_hook,
)

CHECKS = settings(max_examples=300, derandomize=True, deadline=None)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.define
class Inner:
    sku: str
    qty: int = 0


@attrs.define
class Everything:
    pk: str
    sk: int
    flag: bool
    ratio: float
    price: Decimal
    blob: bytes
    ident: uuid.UUID
    when: dt.datetime
    tags: set[str]
    note: str | None
    level: Level
    lines: list[Inner] = attrs.Factory(list)
    scores: frozenset[int] = frozenset()
    extra: dict[str, Any] = attrs.Factory(dict)
    anything: Any = None
    color: Color = Color.RED
    kind: Literal["a", "b"] = "a"
    maybe: int | None = 5  # None is stored as NULL: leaving it out would read back 5
    count: int = 0
    title: str = ""
    on: bool = False
    _private: str = "p"
    computed: int = attrs.field(default=7, init=False)
    keyword: str = attrs.field(default="k", kw_only=True)
    required_keyword: int = attrs.field(kw_only=True)
    # The kinds written inline since the Optional, nested and set work:
    stamp: dt.datetime | None = None
    ident2: uuid.UUID | None = None
    inner: Inner | None = None
    prices: set[Decimal] = attrs.Factory(set)
    ratios: frozenset[float] = frozenset()
    counts: set[int] = attrs.Factory(set)
    words: frozenset[str] = frozenset()
    names: list[str] = attrs.Factory(list)
    holes: list[str | None] = attrs.Factory(list)
    grid: list[list[int]] = attrs.Factory(list)
    nested: list[Inner] | None = None
    rating: float = 0.0
    amount: Decimal = Decimal(0)


attrs.resolve_types(Everything)  # as a Mapper does; tests may run in any order
RENAME = {"title": "t", "pk": "PK"}
REGISTRY = TypeRegistry()  # the backend's own, set by the fixture below


@pytest.fixture(scope="module", autouse=True, params=["compiled", "python"])
def backend(request):
    """Codecs made in the test are compiled ones, or the Python source's."""
    global REGISTRY
    saved = REGISTRY, _generate.COMPILED
    _generate.COMPILED = request.param == "compiled"
    REGISTRY = TypeRegistry()  # its hooks of nested classes are made by this backend
    yield request.param
    REGISTRY, _generate.COMPILED = saved


def test_the_c_extension_is_built_where_it_can_be():
    """With CPython, a C compiler and Python's headers, the package has its C codecs."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    buildable = (
        platform.python_implementation() == "CPython"
        and shutil.which(compiler) is not None
        and Path(sysconfig.get_paths()["include"], "Python.h").exists()
    )
    assert buildable == _generate.BUILT
    decode = item_decoder(Inner, REGISTRY.fast)
    compiled = type(decode).__module__ == "dynamorm_async.convert._speedups"
    assert compiled == _generate.COMPILED


texts = st.text(max_size=5)
wrong = st.one_of(st.none(), st.integers(), texts, st.booleans(), st.floats(allow_nan=False))
ints = st.integers(min_value=-(10**40), max_value=10**40)


def either(right: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly values of the field's type, sometimes anything."""
    return st.one_of(right, right, right, right, right, right, right, wrong)


RIGHT: dict[str, st.SearchStrategy[Any]] = {
    "pk": texts,
    "sk": ints,
    "flag": st.booleans(),
    "ratio": st.floats(allow_nan=False, allow_infinity=False),
    "price": st.decimals(allow_nan=False, allow_infinity=False, places=3),
    "blob": st.binary(max_size=4),
    "ident": st.uuids(),
    "when": st.datetimes(timezones=st.just(dt.timezone.utc)),
    "tags": st.sets(texts, max_size=3),
    "note": st.none() | texts,
    "level": st.sampled_from(Level),
    "lines": st.lists(st.builds(Inner, texts, ints), max_size=2),
    "scores": st.frozensets(ints, max_size=3),
    "extra": st.dictionaries(st.text(min_size=1, max_size=3), texts, max_size=2),
    "anything": st.none() | texts | ints,
    "color": st.sampled_from(Color),
    "kind": st.sampled_from(["a", "b"]),
    "maybe": st.none() | ints,
    "count": ints,
    "title": texts,
    "on": st.booleans(),
    "private": texts,
    "keyword": texts,
    "required_keyword": ints,
    "stamp": st.none() | st.datetimes(timezones=st.just(dt.timezone.utc)),
    "ident2": st.none() | st.uuids(),
    "inner": st.none() | st.builds(Inner, texts, ints),
    "prices": st.sets(st.decimals(allow_nan=False, allow_infinity=False, places=2), max_size=3),
    "ratios": st.frozensets(st.floats(allow_nan=False, allow_infinity=False), max_size=3),
    "counts": st.sets(ints, max_size=3),
    "words": st.frozensets(texts, max_size=3),
    "names": st.lists(texts, max_size=3),
    "holes": st.lists(st.none() | texts, max_size=3),
    "grid": st.lists(st.lists(ints, max_size=2), max_size=2),
    "nested": st.none() | st.lists(st.builds(Inner, texts, ints), max_size=2),
    "rating": st.floats(allow_nan=False, allow_infinity=False),
    "amount": st.decimals(allow_nan=False, allow_infinity=False, places=3),
}

# Half the examples hold values of the fields' types only; the other half any values.
values = st.one_of(
    st.fixed_dictionaries(RIGHT),
    st.fixed_dictionaries({name: either(strategy) for name, strategy in RIGHT.items()}),
)


def outcome(function: Any, *args: Any) -> tuple[str, Any]:
    try:
        return ("ok", function(*args))
    except Exception as exc:
        return ("error", type(exc).__name__)


def reference_encode(obj: Any) -> dict[str, Any]:
    """Each field's hook, then the omission rules: what the generated encoder means."""
    converter = REGISTRY.fast
    omittable = _stored_names(Everything, RENAME, None, required_only=False)
    item: dict[str, Any] = {}
    for field, stored, tp in _fields(Everything, RENAME, None):
        encoded = unstructure_hook(converter, tp)(getattr(obj, field.name))
        if stored in omittable:
            if omission_reads_back(field):
                if encoded is None or encoded is NULL:
                    continue
            elif encoded is None:
                encoded = NULL
        item[stored] = encoded
    return item


@CHECKS
@given(values)
def test_encoding_is_the_hooks(fields):
    obj = _instance(fields)
    generated = item_encoder(Everything, REGISTRY.fast, RENAME)
    assert outcome(generated, obj) == outcome(reference_encode, obj)


def _instance(fields: dict[str, Any]) -> Any:
    """An `Everything` holding `fields` as they are (no validation: any types)."""
    obj = Everything.__new__(Everything)
    for name, value in fields.items():
        object.__setattr__(obj, name if name != "private" else "_private", value)
    object.__setattr__(obj, "computed", 7)
    return obj


# Every field against every odd AttributeValue: the inline paths must give what the
# hooks give (compared by repr: a datetime in another zone, or Decimal("1.0"), would
# compare equal to the value the hook gives), or fail where they fail.
ODD_VALUES: list[Any] = [
    {"S": "abc"},
    {"N": "12"},
    {"N": "1.5"},
    {"BOOL": True},
    {"NULL": True},
    {"B": b"\x00"},
    {"B": "AA=="},
    {"SS": ["a", "b"]},
    {"NS": ["1", "2.5"]},
    {"L": [{"M": {"sku": {"S": "a"}, "qty": {"N": "2"}}}]},
    {"M": {"sku": {"S": "a"}}},
    {"S": "12345678-1234-5678-1234-567812345678"},
    {"S": "2026-11-27T10:00:00.000000Z"},
    {"N": "NaN"},
    {"N": "Infinity"},
    {"N": "-inf"},
    {"N": "1E2"},
    {"N": "10.0"},
    {"N": " 7 "},
    {"N": "1_000"},
    # The compiled decoder reads plain float spellings itself, float() the rest.
    {"N": " 1.5"},
    {"N": "1.5 "},
    {"N": "1_0.5"},
    {"N": "+1.5"},
    {"N": ".5"},
    {"N": "5."},
    {"N": "-0.0"},
    {"N": "1e400"},
    {"N": "0x1p3"},
    {"N": "1.5\x00"},
    {"N": ""},
    {"N": "\u0661.5"},
    {"S": "2026-11-27T10:00:00+02:00"},
    {"S": "2026-11-27T10:00:00"},
    {"S": "{12345678-1234-5678-1234-567812345678}"},
    {"S": "urn:uuid:12345678-1234-5678-1234-567812345678"},
    {"S": "12345678123456781234567812345678"},
    {"S": "+2345678-1234-5678-1234-567812345678"},
    # The compiled decoder reads 32 plain hex digits itself and leaves the rest to
    # Python: too few or many digits, odd dashes, other digits and separators.
    {"S": "12345678-1234-5678-1234-56781234567"},
    {"S": "12345678-1234-5678-1234-5678123456789"},
    {"S": "1234567812345678-1234567812345678--"},
    {"S": "ABCDEF78-1234-5678-1234-567812345678"},
    {"S": "1234567_-1234-5678-1234-567812345678"},
    {"S": " 2345678-1234-5678-1234-567812345678"},
    {"S": "0x345678-1234-5678-1234-567812345678"},
    {"S": "\u0661\u0662345678-1234-5678-1234-567812345678"},
    {"S": "g2345678-1234-5678-1234-567812345678"},
    {"S": "12345678-1234-5678-1234-56781234567\u00e9"},
    {"NS": ["1", "2.5", "NaN"]},
    {"NS": ["1", "1.0"]},
    {"NS": ["inf"]},
    {"SS": ["a"], "NULL": True},
    {"NS": ["1"], "NULL": True},
    {"L": [], "NULL": True},
    {"M": {}, "NULL": True},
    {"S": "x", "NULL": True},
    {"L": [{"NULL": True}, {"S": "a"}]},
    {"L": [{"L": [{"N": "1"}]}, {"L": []}]},
    {"L": [{"N": "1"}, {"S": "1"}]},
    {"S": 5},
    {"N": 5},
    {"N": 1.5},
    {"SS": "ab"},
    {},
    5,
]


av_values = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, texts),
        st.builds(lambda n: {"N": str(n)}, ints),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda b: {"B": b}, st.binary(max_size=3)),
        st.builds(lambda s: {"SS": sorted(s)}, st.sets(texts, min_size=1, max_size=2)),
        st.just({"N": "1.5"}),
        st.just({"S": "12345678-1234-5678-1234-567812345678"}),
        st.just({"S": "2026-11-27T10:00:00.000000Z"}),
        st.sampled_from(ODD_VALUES),  # what the inline paths hand to the hooks
        st.just({}),
        st.just(5),
    ),
    lambda children: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(children, max_size=2)),
        st.builds(lambda m: {"M": m}, st.dictionaries(st.sampled_from(["sku", "qty"]), children)),
    ),
    max_leaves=4,
)


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    """Encoded instances (encoding may fail: then any item), with some attributes
    dropped or replaced by values of other types."""
    try:
        item = item_encoder(Everything, REGISTRY.fast, RENAME)(_instance(draw(values)))
    except Exception:
        item = {}
    names = [stored for _, stored, _ in _fields(Everything, RENAME, None)]
    for name in draw(st.lists(st.sampled_from(names), max_size=3)):
        if draw(st.booleans()):
            item.pop(name, None)
        else:
            item[name] = draw(av_values)
    return item


@CHECKS
@given(items())
def test_decoding_is_cattrs_own(item):
    fast = item_decoder(Everything, REGISTRY.fast, RENAME)
    detailed = item_decoder(Everything, REGISTRY.detailed, RENAME)
    got, expected = outcome(fast, dict(item)), outcome(detailed, dict(item))
    assert got[0] == expected[0], (got, expected)
    if got[0] == "ok":
        assert got == expected


def test_the_generated_source_is_in_tracebacks(monkeypatch):
    monkeypatch.setattr(_generate, "COMPILED", False)  # a compiled one has no source
    decode = item_decoder(Everything, REGISTRY.fast, RENAME)
    with pytest.raises(KeyError) as caught:
        decode({})
    assert "a = o['PK']" in "".join(traceback.format_tb(caught.value.__traceback__))


@attrs.define
class SelfDefault:
    pk: str
    n: int = 1
    double: int = attrs.Factory(lambda self: self.n * 2, takes_self=True)
    tags: list[str] = attrs.Factory(list)


@pytest.mark.parametrize(
    "item",
    [
        {"pk": {"S": "a"}},
        {"pk": {"S": "a"}, "n": {"N": "4"}},
        {"pk": {"S": "a"}, "n": {"N": "4"}, "double": {"N": "1"}, "tags": {"L": [{"S": "x"}]}},
        {"pk": {"S": "a"}, "double": {"S": "x"}},
    ],
)
def test_a_factory_that_takes_self_is_left_to_attrs(item):
    fast = item_decoder(SelfDefault, REGISTRY.fast)
    detailed = item_decoder(SelfDefault, REGISTRY.detailed)
    got, expected = outcome(fast, dict(item)), outcome(detailed, dict(item))
    assert got[0] == expected[0]
    if got[0] == "ok":
        assert got == expected
    if "double" not in item:
        assert fast(dict(item)).double == fast(dict(item)).n * 2


def test_every_field_against_odd_values():
    base = item_encoder(Everything, REGISTRY.fast, RENAME)(
        _instance({**dict.fromkeys(RIGHT), **SAMPLE_FIELDS})
    )
    fast = item_decoder(Everything, REGISTRY.fast, RENAME)
    detailed = item_decoder(Everything, REGISTRY.detailed, RENAME)
    checked = 0
    for _, stored, _ in _fields(Everything, RENAME, None):
        for value in ODD_VALUES:
            item = {**base, stored: value}
            got, expected = outcome(fast, dict(item)), outcome(detailed, dict(item))
            assert got[0] == expected[0], (stored, value, got, expected)
            if got[0] == "ok":
                assert repr(got[1]) == repr(expected[1]), (stored, value)
                checked += 1
    assert checked > 100  # many odd values are read, not only refused


SAMPLE_FIELDS: dict[str, Any] = {
    "pk": "p",
    "sk": 1,
    "flag": True,
    "ratio": 0.5,
    "price": Decimal("1.5"),
    "blob": b"x",
    "ident": uuid.UUID(int=1),
    "when": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    "tags": {"a"},
    "level": Level.LOW,
    "lines": [],
    "scores": frozenset(),
    "extra": {},
    "color": Color.RED,
    "kind": "a",
    "maybe": 1,
    "count": 0,
    "title": "",
    "on": False,
    "private": "p",
    "keyword": "k",
    "required_keyword": 1,
    "prices": set(),
    "ratios": frozenset(),
    "counts": set(),
    "words": frozenset(),
    "names": [],
    "holes": [],
    "grid": [],
    "rating": 0.0,
    "amount": Decimal(0),
}


class _Text(str):
    """A str subclass: the hooks take it, the compiled fast paths leave it to them."""


ODD_PYTHON_VALUES: list[Any] = [
    None,
    0,
    -0.0,
    0.0,
    1.5,
    1e300,
    5e-324,
    1e-7,
    float("inf"),
    float("nan"),
    Decimal("0.00"),
    Decimal("-0"),
    Decimal("1E+2"),
    Decimal("1E-131"),
    Decimal("1E+126"),
    Decimal("1." + "0" * 40),
    Decimal("1" * 39),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("-Infinity"),
    True,
    "text",
    b"bytes",
    [1, None, "a"],
    [Inner("a", 1), None],
    (Inner("a", 1),),
    [[1, 2], []],
    set(),
    {"a"},
    {1},
    frozenset({"a", 2}),
    {_Text("sub")},
    # Number sets: the compiled encoder writes plain elements, the hooks the others.
    {1, 2},
    {1.5, 2.25},
    {Decimal("1.5"), Decimal("-2")},
    {0},
    {0.0, 1.5},
    {Decimal("0.00")},
    {10**40},
    {1e300},
    {float("nan")},
    {Decimal("NaN")},
    {Decimal("1E-131")},
    {True},
    {1, 1.5, Decimal("2.5")},
    frozenset({3}),
    Inner("s", 2),
    uuid.UUID(int=5),
    dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.datetime(2026, 1, 1),
]


def test_every_field_encodes_odd_values_as_its_hook_does():
    generated = item_encoder(Everything, REGISTRY.fast, RENAME)
    checked = 0
    for field, _, _ in _fields(Everything, RENAME, None):
        name = "private" if field.name == "_private" else field.name
        if name == "computed":
            continue
        for value in ODD_PYTHON_VALUES:
            obj = _instance({**dict.fromkeys(RIGHT), **SAMPLE_FIELDS, name: value})
            got, expected = outcome(generated, obj), outcome(reference_encode, obj)
            assert got == expected, (name, value)
            checked += got[0] == "ok"
    assert checked > 50  # many odd values are stored, not only refused


CALLS: list[str] = []


@attrs.define
class KeywordFirst:
    a: int = attrs.field(kw_only=True, factory=lambda: CALLS.append("a") or 1)
    b: int = attrs.field(factory=lambda: CALLS.append("b") or 2)
    c: str = attrs.field(kw_only=True, default="c")
    d: str = "d"


@attrs.define
class KeywordRequired:
    a: int = attrs.field(kw_only=True)
    b: int


def test_fields_are_read_in_the_class_order_whatever_their_kind():
    """Keyword-only fields go last in the call, but are read where they are declared:
    factories run, and the first missing field is named, in the class's order."""
    attrs.resolve_types(KeywordFirst)
    attrs.resolve_types(KeywordRequired)
    decode = item_decoder(KeywordFirst, REGISTRY.fast)
    CALLS.clear()
    assert decode({"c": {"S": "x"}, "d": {"S": "y"}}) == KeywordFirst(a=1, b=2, c="x", d="y")
    assert CALLS == ["a", "b"]
    with pytest.raises(KeyError) as caught:
        item_decoder(KeywordRequired, REGISTRY.fast)({})
    assert caught.value.args == ("a",)
    assert item_decoder(KeywordRequired, REGISTRY.fast)(
        {"a": {"N": "1"}, "b": {"N": "2"}}
    ) == KeywordRequired(2, a=1)


class Token:
    """A user type whose converter changes the item being decoded (see below)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]


@attrs.define
class Holder:
    token: Token
    count: int


@attrs.define
class Outer:
    holder: Holder
    name: str


def test_a_converter_that_changes_the_item_does_not_break_decoding():
    """A decoder holds what it reads: a hook that empties the item as it goes (a
    converter with side effects) leaves what was read intact (the compiled decoder
    once read a nested map the hook had freed)."""
    registry = TypeRegistry()
    item: dict[str, Any] = {}

    def decode_token(text: str) -> Token:
        item["holder"].clear()  # the last reference to the map being decoded, but ours
        return Token(text)

    registry.register_converter(Token, encode=lambda t: t.text, decode=decode_token)
    attrs.resolve_types(Holder)
    attrs.resolve_types(Outer)
    decode = item_decoder(Outer, registry.fast)
    item.update(
        {
            "holder": {"M": {"token": {"S": "t"}, "count": {"N": "3"}}},
            "name": {"S": "n"},
        }
    )
    assert decode(item) == Outer(Holder(Token("t"), 3), "n")
