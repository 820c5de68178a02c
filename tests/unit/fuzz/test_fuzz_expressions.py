"""Fuzzing expressions: attribute paths, operators and values of every Python type.

Conditions, filters, updates and projections are built from hypothesis-drawn input and
compiled the public ways: ``condition.compile(mapper, Params())`` and
``Update.compile`` (as the expressions guide shows), a query's ``explain()`` (its
conditions, filters and projection), and a transaction's ``put`` / ``update`` /
``delete`` / ``check`` (which compile their requests when the write is added; the
database is never opened, so nothing is sent). Whatever the input, building and
compiling either succeed or raise a `DynamORMError` whose text says what went wrong;
never a bare ``TypeError``, ``KeyError``, ``RecursionError``... (a condition nested too
deeply to compile is a `ValidationError`).

The examples are derandomized, so CI replays the same cases.
"""

from __future__ import annotations

import datetime as dt
import enum
import fractions
import functools
import operator
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

import attrs
import pytest
from _fuzzing import REPLAYED, Color, Inner, nested, outcome, random_instances
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    ConversionError,
    Database,
    DynamORMError,
    GlobalIndex,
    Mapper,
    ValidationError,
    attr,
    if_not_exists,
    list_append,
    size,
    where,
)
from dynamorm_async.expressions import Condition, Params, Update
from dynamorm_async.testing import LOCAL_CREDENTIALS

FUZZ = settings(REPLAYED, max_examples=300)
FEW = settings(REPLAYED, max_examples=100)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


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
    blobs: frozenset[bytes] = frozenset()
    lst: list[int] = attrs.field(factory=list)
    pair: tuple[int, str] = (0, "")
    m: dict[str, int] = attrs.field(factory=dict)
    anything: Any = None
    opt: int | None = None
    either: int | str = 0
    color: Color = Color.RED
    level: Level = Level.LOW
    when: dt.datetime | None = None
    day: dt.date | None = None
    uid: uuid.UUID | None = None
    inner: Inner | None = None
    inners: list[Inner] = attrs.field(factory=list)
    lit: Literal["x", "y"] = "x"
    g: str | None = None  # a sparse index key
    version: int = 0


THINGS = Mapper(
    Thing,
    table="things",
    partition_key="id",
    sort_key="sk",
    field_names={"s": "select", "m": "size"},  # reserved words as stored names
    indexes=[GlobalIndex("by-g", partition_key="g", sort_key="n")],
    version_attribute="version",
)
FIELDS = [field.name for field in attrs.fields(Thing)]
DB = Database.connect("http://127.0.0.1:9", mappers=[THINGS], **LOCAL_CREDENTIALS)  # never opened
REPO = DB.repository(THINGS)


# --- values of every type ------------------------------------------------------------

huge_ints = st.sampled_from([10**38 - 1, 10**38, 10**40, -(10**39), 2**64, 10**400])
digits39 = st.sampled_from(
    [Decimal("1" * 39), Decimal("1." + "1" * 38), Decimal("-" + "9" * 39), Decimal("1E+126")]
)
hashable_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    huge_ints,
    st.floats(allow_nan=False),  # a set cannot hold two NaNs reliably
    st.decimals(allow_nan=False, allow_infinity=True),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.sampled_from([Color.RED, Level.HIGH, (1, "a"), frozenset({1}), "", b""]),
)
scalars = st.one_of(
    hashable_scalars,
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    digits39,
    st.builds(bytearray, st.binary(max_size=4)),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.just(dt.timezone.utc)),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.uuids(),
    st.complex_numbers(),
    st.fractions(),
    st.builds(Inner, st.integers(), st.text(max_size=3)),
    st.builds(Inner, st.text(max_size=3)),  # a nested object with a wrong-typed field
    random_instances,
    st.sampled_from(
        [
            object(),
            object,
            Thing,
            Ellipsis,
            NotImplemented,
            range(3),
            memoryview(b"mv"),
            float("nan"),
            Decimal("sNaN"),
            fractions.Fraction(1, 3),
            attr("n"),  # a path where a value is expected
            size("lst"),
        ]
    ),
)
any_values = nested(scalars, hashable_scalars)

# --- paths ---------------------------------------------------------------------------

indexes = st.one_of(
    st.integers(min_value=0, max_value=20), st.integers(), st.sampled_from([10**30, -1])
)
path_elements = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(["a", "b", "zz", "size", "select", "#n0", ":v0", "{0}", "%s", "\x00"]),
    st.text(max_size=12),
    indexes.map(lambda i: f"[{i}]"),
)


def _join(parts: list[str], dots: list[bool]) -> str:
    out = ""
    for part, dot in zip(parts, dots, strict=False):
        out += ("." if dot and out and not part.startswith("[") else "") + part
    return out


path_texts = st.one_of(
    st.sampled_from(FIELDS),
    st.builds(
        _join, st.lists(path_elements, min_size=1, max_size=5), st.lists(st.booleans(), max_size=5)
    ),
    st.text(alphabet="ab.[]0123456789- ", max_size=16),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            ".",
            "..",
            "n.",
            ".n",
            "[0]",
            "lst[0]",
            "lst[-1]",
            "lst[ 1]",
            "lst[1.5]",
            "lst[99999999999999999999999999]",
            "lst[0][0]",
            "lst[0]]",
            "lst[[0]",
            "m.x",
            "m..x",
            "m.x.y",
            "inner.a",
            "inner.zz",
            "inners[3].a",
            "inners[3].b.c",
            "anything.x[2].y",
            "n.x",
            "tags[0]",
            "s" * 5000,
            "a." * 3000 + "a",
            "lst" + "[0]" * 500,
        ]
    ),
)
known_paths = st.one_of(
    st.sampled_from(
        [
            *FIELDS,
            "inner.a",
            "inner.b",
            "inners[0].a",
            "inners[7].b",
            "m.k",
            "m.size",
            "lst[0]",
            "lst[1000]",
            "pair[1]",
            "anything.deep[3].x",
        ]
    ),
    path_texts,
)
path_args = st.one_of(
    known_paths,
    st.sampled_from([attr("n"), attr("inner", "a"), attr("lst", 3), attr("m", "k")]),
    st.sampled_from([None, 5, b"n", ["n"], ("n",), Color.RED, size("lst")]),
)

COMPARISONS = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]
WHERE_OPERATORS = st.one_of(
    st.sampled_from(
        [
            "=",
            "==",
            "!=",
            "<>",
            "<",
            "<=",
            ">",
            ">=",
            "between",
            "in",
            "begins_with",
            "contains",
            "exists",
            "not_exists",
            "attribute_type",
            " IN ",
            "Between",
            "=>",
            "===",
            "size",
            "",
        ]
    ),
    st.text(max_size=12),
    st.sampled_from([None, 1, b"=", ["="]]),
)
TYPE_CODES = st.one_of(
    st.sampled_from(["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M", "s", "X", ""]),
    any_values,
)


# --- helpers ---------------------------------------------------------------------------


def compile_condition(build: Callable[[], Any]) -> None:
    """Build a condition and compile it against the mapper: text or a DynamORMError."""
    condition = outcome(build)
    if isinstance(condition, DynamORMError):
        return
    assert isinstance(condition, Condition)
    params = Params()
    text = outcome(lambda: condition.compile(THINGS, params))
    if isinstance(text, str):
        assert text
        for placeholder in params.names:
            assert placeholder in text
        # Compiled twice (the second time from the cached template): the same text.
        again = Params()
        assert condition.compile(THINGS, again) == text
        assert (again.names, again.values) == (params.names, params.values)


def compile_update(**actions: Any) -> None:
    update = outcome(lambda: Update.of(**actions))
    if isinstance(update, DynamORMError):
        return
    text = outcome(lambda: update.compile(THINGS, Params()))
    if isinstance(text, str):
        assert text.split(" ", 1)[0] in ("SET", "REMOVE", "ADD", "DELETE")


# --- paths -----------------------------------------------------------------------------


@FUZZ
@given(text=path_texts)
@example(text="lst[-1]")
@example(text="")
@example(text="a." * 3000 + "a")
def test_attr_of_any_path_text_builds_or_refuses(text):
    path = outcome(lambda: attr(text))
    if isinstance(path, DynamORMError):
        assert isinstance(path, ValidationError)
        return
    compile_condition(path.exists)
    compile_condition(lambda: size(text) > 1)


@FUZZ
@given(parts=st.lists(st.one_of(any_values, indexes, path_texts), max_size=4))
@example(parts=[])
@example(parts=[0, "n"])
@example(parts=["lst", -1])
@example(parts=["lst", True])
@example(parts=["lst", 2**70])
def test_attr_of_any_parts_builds_or_refuses(parts):
    path = outcome(lambda: attr(*parts))
    if not isinstance(path, DynamORMError):
        compile_condition(path.not_exists)


# --- conditions ------------------------------------------------------------------------


@FUZZ
@given(path=known_paths, op=st.sampled_from(COMPARISONS), value=any_values)
@example(path="n", op="__lt__", value=None)
@example(path="f", op="__eq__", value=float("nan"))
@example(path="d", op="__gt__", value=Decimal("1" * 39))
@example(path="tags", op="__eq__", value=frozenset())
@example(path="nums", op="__eq__", value={1, "a"})
@example(path="n", op="__eq__", value=10**40)
def test_comparisons_with_any_value(path, op, value):
    compile_condition(lambda: getattr(attr(path), op)(value))
    compile_condition(lambda: getattr(size(path), op)(value))


@FUZZ
@given(
    path=known_paths,
    method=st.sampled_from(["between", "is_in", "contains", "begins_with", "attribute_type"]),
    values=st.lists(any_values, min_size=2, max_size=2),
    code=TYPE_CODES,
)
@example(path="n", method="between", values=[None, 1], code="S")
@example(path="n", method="is_in", values=[[], None], code="S")
@example(path="tags", method="contains", values=[frozenset(), None], code="S")
@example(path="s", method="begins_with", values=[5, None], code="S")
@example(path="s", method="attribute_type", values=[None, None], code="XX")
@example(path="s", method="attribute_type", values=[None, None], code=["S"])
def test_functions_with_any_value(path, method, values, code):
    first, second = values
    if method == "between":
        compile_condition(lambda: attr(path).between(first, second))
        compile_condition(lambda: size(path).between(first, second))
    elif method == "is_in":
        compile_condition(lambda: attr(path).is_in(first))
        compile_condition(lambda: attr(path).is_in(values))
        compile_condition(lambda: size(path).is_in(values))
    elif method == "attribute_type":
        compile_condition(lambda: attr(path).attribute_type(code))
    else:
        compile_condition(lambda: getattr(attr(path), method)(first))


@FUZZ
@given(
    path=st.one_of(path_args, known_paths.map(lambda p: ("size", p))),
    op=WHERE_OPERATORS,
    operands=st.lists(any_values, max_size=3),
)
@example(path="n", op="between", operands=[(1, 2, 3)])
@example(path="n", op="in", operands=[])
@example(path="n", op="in", operands=["abc"])
@example(path="n", op="exists", operands=[1])
@example(path=None, op="=", operands=[1])
@example(path="n", op=None, operands=[1])
def test_where_string_form_with_any_operator_and_values(path, op, operands):
    def build():
        target = size(path[1]) if isinstance(path, tuple) and path[:1] == ("size",) else path
        return where(target, op, *operands)

    compile_condition(build)


def _combine(conditions: list[Any], how: list[int]) -> Any:
    combined = conditions[0]
    for other, kind in zip(conditions[1:], how, strict=False):
        combined = (combined & other, combined | other, ~combined)[kind % 3]
    return combined


leaves = st.builds(
    lambda path, op, value: outcome(lambda: getattr(attr(path), op)(value)),
    known_paths,
    st.sampled_from(COMPARISONS),
    any_values,
)


@FUZZ
@given(
    first=leaves,
    others=st.lists(st.one_of(leaves, leaves, any_values), max_size=5),
    how=st.lists(st.integers(0, 2), max_size=5),
)
def test_combined_conditions_and_non_conditions(first, others, how):
    def build():
        for value in (first, *others):
            if isinstance(value, DynamORMError):
                raise value
        return _combine([first, *others], how)

    compile_condition(build)


def test_conditions_refuse_to_be_used_as_booleans_with_a_type_error():
    # The one documented TypeError: `and`, `or`, `not`, `if` would drop half a condition.
    condition = attr("n") > 1
    with pytest.raises(TypeError, match="truth value"):
        bool(condition)
    with pytest.raises(TypeError, match="parentheses"):
        attr("n") & attr("f")


# --- updates ---------------------------------------------------------------------------

update_maps = st.one_of(
    st.dictionaries(known_paths, any_values, max_size=3),
    st.sampled_from([None, {}, 5, "n", ["n"], b"n", {attr("n"): 1}, {5: 1}, {None: 1}]),
)


@FUZZ
@given(set_=update_maps, add=update_maps, delete=update_maps)
@example(set_={"n": float("inf")}, add=None, delete=None)
@example(set_=None, add={"tags": frozenset()}, delete=None)
@example(set_=None, add={"nums": {1, "a"}}, delete=None)
@example(set_=None, add=None, delete={"n": 1})
@example(set_={"id": "x"}, add=None, delete=None)
@example(set_={"version": 3}, add=None, delete=None)
@example(set_={"inner": None, "inner.a": 1}, add=None, delete=None)
def test_update_actions_with_any_values(set_, add, delete):
    compile_update(set=set_, add=add, delete=delete)


@FUZZ
@given(remove=st.one_of(st.lists(path_args, max_size=3), path_args, any_values))
@example(remove="lst[-1]")
@example(remove=["lst[0]", "lst"])
@example(remove=5)
@example(remove={"n": 1})
def test_update_remove_of_any_paths(remove):
    compile_update(remove=remove)


# Thunks: building a computed value may itself be refused.
computed_values = st.one_of(
    st.builds(
        lambda p, v: lambda: attr(p) + v, st.sampled_from(["n", "f", "s", "lst"]), any_values
    ),
    st.builds(lambda v, p: lambda: v - attr(p), any_values, st.sampled_from(["n", "d", "tags"])),
    st.builds(lambda p, v: lambda: if_not_exists(p, v), path_args, any_values),
    st.builds(lambda p, v: lambda: if_not_exists(p, v) + 1, path_args, any_values),
    st.builds(lambda p, v: lambda: attr(p).append(v), known_paths, any_values),
    st.builds(lambda p, v: lambda: attr(p).prepend(v), known_paths, any_values),
    st.builds(lambda a, b: lambda: list_append(a, b), any_values, any_values),
    path_args.map(lambda p: lambda: attr(p)),
)


@FUZZ
@given(target=known_paths, computed=computed_values)
@example(target="n", computed=lambda: attr("n") + float("nan"))
@example(target="s", computed=lambda: attr("s") + 1)
@example(target="lst", computed=lambda: attr("lst").append("x"))
@example(target="n", computed=lambda: if_not_exists("s", "x"))
@example(target="n", computed=lambda: attr("s"))
def test_update_computed_values(target, computed):
    value = outcome(computed)
    if not isinstance(value, DynamORMError):
        compile_update(set={target: value})


def test_arithmetic_chains_and_bad_operators_are_validation_errors():
    with pytest.raises(ValidationError):
        (attr("n") + 1) + 2
    with pytest.raises(ValidationError):
        Update.of(set={"n": attr("n") + (attr("n") + 1)}).compile(THINGS, Params())


# --- precise errors for the values DynamoDB cannot hold --------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("f", float("nan")),
        ("f", float("inf")),
        ("d", Decimal("NaN")),
        ("d", Decimal("1" * 39)),
        ("n", 10**38 + 1),
        ("n", "three"),
        ("when", dt.datetime(2024, 1, 1)),  # naive
        ("nums", {1, "a"}),
        ("color", "red"),
        ("inner", Inner("not an int")),  # type: ignore[arg-type]
    ],
)
def test_unstorable_values_are_conversion_errors_naming_the_path(field, value):
    for build in (
        lambda: (attr(field) == value).compile(THINGS, Params()),
        lambda: Update.of(set={field: value}).compile(THINGS, Params()),
    ):
        with pytest.raises(ConversionError) as caught:
            build()
        assert field in str(caught.value)
        assert caught.value.value is not None


@pytest.mark.parametrize(
    "build",
    [
        lambda: attr("tags") == frozenset(),
        lambda: attr("n") < None,
        lambda: attr("n").between(None, 1),
        lambda: attr("n").is_in([]),
        lambda: attr("s").begins_with(5),
        lambda: attr("s").contains(None),
    ],
    ids=[
        "empty-set",
        "lt-none",
        "between-none",
        "in-empty",
        "begins-int",
        "contains-none",
    ],
)
def test_values_no_condition_can_use_are_validation_errors(build):
    with pytest.raises(ValidationError):
        build().compile(THINGS, Params())


# --- through the public builders: queries and transactions ---------------------------

queries = st.sampled_from(
    [
        lambda: REPO.query(),
        lambda: REPO.where("id", "=", "p1"),
        lambda: REPO.where("g", "=", "x"),
        lambda: REPO.query(allow_scan=True),
        lambda: REPO.scan(),
    ]
)


@FEW
@given(
    make=queries,
    conditions=st.lists(leaves, max_size=3),
    filters=st.lists(leaves, max_size=2),
    projection=st.lists(path_args, max_size=3),
    as_dicts=st.booleans(),
)
def test_queries_with_any_conditions_filters_and_projections(
    make, conditions, filters, projection, as_dicts
):
    def build():
        query = make()
        for condition in conditions:
            if isinstance(condition, DynamORMError):
                raise condition
            query = query.where(condition)
        for condition in filters:
            if isinstance(condition, DynamORMError):
                raise condition
            query = query.filter(condition)
        if projection:
            query = query.project(*projection)
        if as_dicts:
            query = query.as_dicts()
        return query

    query = outcome(build)
    if isinstance(query, DynamORMError):
        return
    explained = outcome(query.explain)
    if isinstance(explained, DynamORMError):
        # Planning errors name the table and the operation.
        assert explained.table == REPO.table
        assert explained.operation in ("Query", "Scan")
    else:
        assert str(explained)


@FEW
@given(
    action=st.sampled_from(["put", "update", "delete", "check"]),
    condition=st.one_of(st.none(), leaves, any_values),
    key=st.one_of(
        st.tuples(st.text(max_size=5), st.integers()),
        st.tuples(any_values, any_values),
        scalars,
        st.dictionaries(st.sampled_from(["id", "sk", "n", "zz"]), any_values, max_size=3),
    ),
    changes=update_maps,
    field=st.sampled_from(FIELDS),
    value=any_values,
)
def test_transaction_writes_compile_or_refuse_with_context(
    action, condition, key, changes, field, value
):
    tx = DB.transaction()

    def record():
        if isinstance(condition, DynamORMError):
            raise condition
        if action == "put":
            obj = attrs.evolve(Thing("p1", 1), **{field: value})
            tx.put(obj, condition=condition)
        elif action == "update":
            tx.update(key, set=changes, condition=condition, mapper=THINGS)
        elif action == "delete":
            tx.delete(key, condition=condition, mapper=THINGS)
        else:
            tx.check(THINGS, key, condition)

    error = outcome(record)
    if isinstance(error, DynamORMError) and error is not condition:
        # What the transaction refuses names the table and the write.
        assert error.table == REPO.table, str(error)
        assert error.operation in ("PutItem", "UpdateItem", "DeleteItem", "ConditionCheck")
    tx.rollback()


# --- deep nesting ---------------------------------------------------------------------


def _nested(depth: int) -> Condition:
    condition: Condition = attr("n") == 1
    for _ in range(depth):
        condition = (condition | (attr("n") == 2)) & (attr("s") == "x")
    return condition


def test_a_moderately_nested_condition_compiles():
    text = _nested(50).compile(THINGS, Params())
    assert text.count("(") == text.count(")") == 50


def test_a_condition_nested_too_deeply_under_4_kb_is_a_validation_error():
    # A deliberate limit: compiling recurses, so past about a hundred levels of & and |
    # the condition is refused clearly, though its text (3,953 bytes) would fit in 4 KB.
    with pytest.raises(ValidationError, match="nested too deeply"):
        _nested(136).compile(THINGS, Params())
    tx = DB.transaction()
    with pytest.raises(ValidationError, match="nested too deeply") as caught:
        tx.put(Thing("p1", 1), condition=_nested(136))
    assert caught.value.table == REPO.table
    assert caught.value.operation == "PutItem"
    tx.rollback()


def test_a_deeply_nested_condition_over_4_kb_is_a_validation_error():
    tx = DB.transaction()
    with pytest.raises(ValidationError) as caught:
        tx.put(Thing("p1", 1), condition=_nested(300))
    assert caught.value.table == REPO.table
    assert caught.value.operation == "PutItem"
    tx.rollback()


def test_a_long_flat_condition_over_4_kb_is_a_validation_error():
    flat = functools.reduce(operator.and_, [attr("n") != i for i in range(600)])
    tx = DB.transaction()
    with pytest.raises(ValidationError, match="ConditionExpression"):
        tx.put(Thing("p1", 1), condition=flat)
    tx.rollback()
