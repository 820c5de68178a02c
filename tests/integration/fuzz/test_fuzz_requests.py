"""Fuzzing requests against the embedded server: keys, values, conditions, table names.

Through the pytest plugin's ``dynamorm_db`` (fresh tables for ``dynamorm_mappers``),
hypothesis drives get, put, update, delete, query and batch_get with keys and values
of every type, empty, over DynamoDB's limits (2,048 bytes for a partition key, 1,024
for a sort key) or holding text with no UTF-8 form (lone surrogates), and table names
through ``table_name_template`` / ``table_name_vars`` and `Mapper` with odd characters
or lengths (DynamoDB allows 3 to 255 of ``[A-Za-z0-9_.-]``). Each call returns a result
or raises a `DynamORMError`; never another exception or a hang (every call runs under
``anyio.fail_after``). A key or value refused before sending is a `ValidationError` or
`ConversionError` (a lone surrogate: a `ValidationError` in a key, a `ConversionError`
elsewhere); one the server refuses is mapped too. A key that is accepted round-trips.

The examples are derandomized, so CI replays the same cases.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import attrs
import pytest
from _fuzzing import (
    ON_FIXTURES,
    attempt,
    described,
    key_problem,
    lone_surrogates,
    mostly,
    session,
    sized_texts,
)
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    ConversionError,
    Database,
    DynamORMError,
    Mapper,
    MappingError,
    ValidationError,
    attr,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS

FUZZ = settings(ON_FIXTURES, max_examples=60)
FEW = settings(FUZZ, max_examples=20)
VALID_TABLE_NAME = re.compile(r"[A-Za-z0-9_.\-]{3,255}")


@attrs.define
class Pair:
    pk: str
    sk: int
    n: int = 0
    s: str = ""
    tags: frozenset[str] = frozenset()
    m: dict[str, Any] = attrs.field(factory=dict)
    opt: Decimal | None = None


@attrs.define
class Texts:
    pk: str
    sk: str
    body: str = ""


@attrs.define
class Blobs:
    pk: bytes
    sk: Decimal


PAIRS = Mapper(Pair, table="pairs", partition_key="pk", sort_key="sk")
TEXTS = Mapper(Texts, table="texts", partition_key="pk", sort_key="sk")
BLOBS = Mapper(Blobs, table="blobs", partition_key="pk", sort_key="sk")


@pytest.fixture
def dynamorm_mappers():
    return [PAIRS, TEXTS, BLOBS]


# --- values of every type ---------------------------------------------------------------

random_instances = st.builds(
    lambda name: type(name, (), {})(), st.from_regex(r"[A-Z][a-z]{0,6}", fullmatch=True)
)
hashable_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**38 - 1, 10**38, -(10**40)]),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False),
    st.text(max_size=8),
    lone_surrogates,
    st.binary(max_size=8),
)
scalars = st.one_of(
    hashable_scalars,
    st.floats(),
    st.sampled_from([Decimal("1" * 39), Decimal("NaN"), Decimal("1E+126")]),
    st.datetimes(),
    st.uuids(),
    random_instances,
)
any_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.sets(hashable_scalars, max_size=3),
        st.frozensets(st.text(max_size=4), max_size=3),
        st.dictionaries(st.text(max_size=4), children, max_size=3),
    ),
    max_leaves=5,
)


key_texts = st.one_of(
    sized_texts(
        st.one_of(
            st.integers(0, 3),
            st.integers(1020, 1030),
            st.integers(2040, 2052),
            st.integers(510, 515),
        )
    ),
    st.text(max_size=20),
)


# --- keys ----------------------------------------------------------------------------


@FUZZ
@given(
    pk=mostly(key_texts, any_values),
    sk=mostly(st.integers(), any_values),
)
@example(pk="", sk=1)
@example(pk="a", sk=None)
@example(pk="a", sk=True)
@example(pk="a", sk=10**38)
@example(pk="a", sk=1.5)
@example(pk=5, sk=1)
@example(pk="a" * 2048, sk=1)
@example(pk="a" * 2049, sk=1)
@example(pk="\x00", sk=-1)
@example(pk="\ud800", sk=1)
async def test_fuzzed_keys_through_every_call(dynamorm_db, pk, sk):
    repo = dynamorm_db.repository(PAIRS)
    key = (pk, sk)
    stored = await attempt(lambda: repo.put(Pair(pk, sk, n=7)))
    event("refused" if isinstance(stored, DynamORMError) else "stored")
    if isinstance(stored, DynamORMError):
        # A key refused before sending: as for every call with it.
        assert isinstance(stored, ValidationError | ConversionError), repr(stored)
        assert stored.table == repo.table
        assert stored.operation == "PutItem"
        for call in (
            lambda: repo.get(key),
            lambda: repo.update(key, set={"n": 1}),
            lambda: repo.delete(key),
            lambda: repo.batch_get([key]),
        ):
            refused = await attempt(call)
            assert isinstance(refused, ValidationError), repr(refused)
    else:
        assert await attempt(lambda: repo.get(key, consistent=True)) == Pair(pk, sk, n=7)
        updated = await attempt(lambda: repo.update(key, add={"n": 1}))
        assert updated == Pair(pk, sk, n=8)
        assert await attempt(lambda: repo.batch_get([key, key])) == [updated, updated]
        assert await attempt(lambda: repo.delete(key, return_old=True)) == updated
        assert await attempt(lambda: repo.get(key, consistent=True)) is None
    # A query with any key values: a result (what DynamoDB refuses is mapped).
    await attempt(lambda: repo.where("pk", "=", pk).where(attr("sk") >= sk).all())
    await attempt(lambda: repo.where("pk", "=", pk).count())


@FUZZ
@given(pk=key_texts, sk=key_texts)
@example(pk="a" * 2048, sk="b" * 1024)
@example(pk="é" * 1024, sk="é" * 512)
@example(pk="🙂" * 512, sk="🙂" * 256)
@example(pk="a" * 2049, sk="b")
@example(pk="a", sk="b" * 1025)
@example(pk="a", sk="")
@example(pk="a", sk="b\udfff")
async def test_string_keys_up_to_the_limits_round_trip_and_longer_ones_are_refused(
    dynamorm_db, pk, sk
):
    repo = dynamorm_db.repository(TEXTS)
    # The partition key is checked first.
    problem = key_problem(pk, 2048) or key_problem(sk, 1024)
    result = await attempt(lambda: repo.put(Texts(pk, sk, body="x")))
    event(problem or "fits")
    if problem is None:
        assert result == Texts(pk, sk, body="x")
        assert await attempt(lambda: repo.get((pk, sk), consistent=True)) == result
        found = await attempt(
            lambda: repo.where("pk", "=", pk).where(attr("sk").begins_with(sk)).all()
        )
        assert found == [result]
        await attempt(lambda: repo.delete((pk, sk)))
    else:
        assert isinstance(result, ValidationError)
        assert problem in str(result), str(result)
        refused = await attempt(lambda: repo.get((pk, sk)))
        assert isinstance(refused, ValidationError)
        assert problem in str(refused), str(refused)


@FUZZ
@given(
    pk=st.one_of(st.binary(max_size=4), st.integers(2040, 2060).map(lambda n: b"\x00" * n)),
    sk=st.one_of(
        st.decimals(allow_nan=False),
        st.sampled_from([Decimal("1E+125"), Decimal("-1E-130"), Decimal("1" * 38), Decimal("-0")]),
    ),
)
async def test_binary_and_number_keys(dynamorm_db, pk, sk):
    repo = dynamorm_db.repository(BLOBS)
    result = await attempt(lambda: repo.put(Blobs(pk, sk)))
    if isinstance(result, DynamORMError):
        assert isinstance(result, ValidationError | ConversionError)
    else:
        assert 0 < len(pk) <= 2048
        assert await attempt(lambda: repo.get((pk, sk), consistent=True)) == Blobs(pk, sk)
        assert await attempt(lambda: repo.where("pk", "=", pk).where("sk", "=", sk).count()) == 1


# --- values, conditions and updates -----------------------------------------------------

FIELDS = ["n", "s", "tags", "m", "opt", "zz"]
OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "between", "in", "begins_with", "contains", "exists"]


def _where(field: str, operator: str, value: Any) -> Any:
    if operator == "between":
        return attr(field).between(value, value)
    if operator == "in":
        return attr(field).is_in([value, value])
    if operator in ("begins_with", "contains"):
        return getattr(attr(field), operator)(value)
    if operator == "exists":
        return attr(field).exists()
    return {
        "=": attr(field) == value,
        "!=": attr(field) != value,
        "<": attr(field) < value,
        "<=": attr(field) <= value,
        ">": attr(field) > value,
        ">=": attr(field) >= value,
    }[operator]


#: Values that fit each field, drawn as often as values of any type.
FITTING = {
    "n": st.integers(-(10**6), 10**6),
    "s": mostly(st.text(max_size=10), lone_surrogates),
    "tags": st.frozensets(st.text(max_size=3), max_size=3),
    "m": st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 9), max_size=2),
    "opt": st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=2)),
    "zz": any_values,
}
field_values = st.sampled_from(FIELDS).flatmap(
    lambda field: st.tuples(st.just(field), st.one_of(FITTING[field], any_values))
)
conditions = st.builds(
    lambda pair, operator: lambda: _where(pair[0], operator, pair[1]),
    field_values,
    st.sampled_from(OPERATORS),
)


@FUZZ
@given(
    change=field_values.filter(lambda pair: pair[0] != "zz"),
    action=st.sampled_from(["put", "set", "add", "delete", "remove"]),
    condition=st.one_of(st.none(), conditions),
)
@example(change=("n", float("nan")), action="set", condition=lambda: attr("n") > 0)
@example(change=("tags", frozenset()), action="add", condition=lambda: attr("n") > 0)
@example(change=("m", {"": 1}), action="set", condition=lambda: attr("n") > 0)
@example(change=("s", "x" * 410_000), action="put", condition=lambda: attr("n") > 0)
@example(change=("s", "\ud800"), action="put", condition=None)
@example(change=("s", "\ud800"), action="set", condition=None)
async def test_fuzzed_values_in_writes_and_conditions(dynamorm_db, change, action, condition):
    field, value = change
    repo = dynamorm_db.repository(PAIRS)
    await repo.put(Pair("p", 1, n=1, tags=frozenset({"a"})))
    built = condition and condition()
    writes = {
        "put": lambda: repo.put(attrs.evolve(Pair("p", 1), **{field: value}), condition=built),
        "set": lambda: repo.update(("p", 1), set={field: value}, condition=built),
        "add": lambda: repo.update(("p", 1), add={field: value}, condition=built),
        "delete": lambda: repo.update(("p", 1), delete={field: value}, condition=built),
        "remove": lambda: repo.update(("p", 1), remove=[field], condition=built),
    }
    result = await attempt(writes[action])
    event(type(result).__name__ if isinstance(result, DynamORMError) else "written")
    if isinstance(result, DynamORMError):
        assert result.table == repo.table
        assert result.operation in ("PutItem", "UpdateItem")
    # Whatever happened, the item still reads back into its class.
    assert isinstance(await attempt(lambda: repo.get(("p", 1), consistent=True)), Pair | None)


@FUZZ
@given(
    where=st.lists(conditions, max_size=2),
    filters=st.lists(conditions, max_size=2),
    pk=mostly(st.just("p"), any_values),
    allow_scan=st.booleans(),
    projection=st.lists(st.sampled_from([*FIELDS, "pk", "m.x", "tags[0]"]), max_size=2),
)
async def test_fuzzed_queries(dynamorm_db, where, filters, pk, allow_scan, projection):
    repo = dynamorm_db.repository(PAIRS)
    await repo.put(Pair("p", 1, n=1, s="s", tags=frozenset({"a"}), m={"x": 1}))

    async def query() -> Any:
        built = repo.query(allow_scan=allow_scan).where("pk", "=", pk)
        for condition in where:
            built = built.where(condition())
        for condition in filters:
            built = built.filter(condition())
        if projection:
            built = built.project(*projection).as_dicts()
        return [*await built.all(), await built.count(), await built.page(size=1)]

    result = await attempt(query)
    event(type(result).__name__ if isinstance(result, DynamORMError) else "read")


# --- table names -----------------------------------------------------------------------

name_texts = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="abc-_.09 /#%{}:", max_size=12),
    st.integers(250, 260).map(lambda n: "t" * n),
    st.sampled_from(["", "x", "xy", "ok-name", "a b", "é", "{table}", "{x}", "{0}", "{", "}"]),
)


@FUZZ
@given(prefix=name_texts, suffix=name_texts, value=name_texts)
@example(prefix="", suffix="", value="")
@example(prefix="t" * 250, suffix="", value="")
@example(prefix="prod-", suffix=".{x}", value="eu west")
@example(prefix="{", suffix="", value="")
@example(prefix="", suffix="{0}", value="")
async def test_table_name_templates_with_odd_characters_and_lengths(
    dynamorm_endpoint, prefix, suffix, value
):
    template = prefix + "{table}" + suffix

    def connect() -> Database:
        return Database.connect(
            dynamorm_endpoint,
            mappers=[TEXTS],
            table_name_template=template,
            table_name_vars={"x": value},
            session=session(),
            **LOCAL_CREDENTIALS,
        )

    try:
        db = connect()
    except MappingError as exc:
        event("refused")
        described(exc)
        return
    event("accepted")
    name = db.table_name(TEXTS)
    assert VALID_TABLE_NAME.fullmatch(name), name
    async with db:
        assert await attempt(lambda: db.schema.exists(TEXTS)) in (True, False)
        result = await attempt(lambda: db.repository(TEXTS).get(("a", "b")))
        assert result is None or isinstance(result, DynamORMError)


@FUZZ
@given(table=name_texts)
@example(table="ab")
@example(table="abc")
@example(table="t" * 255)
@example(table="t" * 256)
async def test_mapper_table_names(dynamorm_db, table):
    try:
        mapper = Mapper(Texts, table=table, partition_key="pk", sort_key="sk")
    except MappingError as exc:
        event("refused")
        described(exc)
        assert not VALID_TABLE_NAME.fullmatch(table)
        return
    event("accepted")
    assert VALID_TABLE_NAME.fullmatch(table)
    # The test database prefixes it: a name near 255 may be too long then.
    try:
        repo = dynamorm_db.repository(mapper)
    except MappingError:
        assert len(table) > 200
        return
    result = await attempt(lambda: repo.get(("a", "b")))
    assert isinstance(result, DynamORMError)  # no such table
    assert result.table == repo.table


# --- lone surrogates and table name variables ---------------------------------------


@FEW
@given(text=lone_surrogates, where=st.sampled_from(["key", "field"]))
@example(text="\ud800", where="key")
@example(text="a\udfff", where="field")
async def test_lone_surrogates(dynamorm_db, text, where):
    """Text with no UTF-8 form is refused before sending: in a key by every call (a
    ValidationError), in any other field by a put (a ConversionError)."""
    repo = dynamorm_db.repository(TEXTS)
    if where == "key":
        for operation, call in [
            ("GetItem", lambda: repo.get((text, "b"))),
            ("PutItem", lambda: repo.put(Texts(text, "b"))),
            ("DeleteItem", lambda: repo.delete((text, "b"))),
        ]:
            refused = await attempt(call)
            assert isinstance(refused, ValidationError), repr(refused)
            assert "not valid Unicode text" in str(refused)
            assert (refused.table, refused.operation) == (repo.table, operation)
    else:
        refused = await attempt(lambda: repo.put(Texts("a", "b", body=text)))
        assert isinstance(refused, ConversionError), repr(refused)
        assert "not valid Unicode text" in str(refused)
        assert (refused.table, refused.operation) == (repo.table, "PutItem")
        assert await attempt(lambda: repo.get(("a", "b"), consistent=True)) is None


@pytest.mark.parametrize(
    "variables",
    [5, "xy", [1, 2], [("env", "prod")], {1: "x"}, {None: "x"}, {"env": "prod", 2: "x"}],
    ids=repr,
)
def test_table_name_vars_that_are_not_a_mapping_of_names_are_mapping_errors(variables):
    with pytest.raises(MappingError, match="table_name_vars"):
        Database.connect(
            "http://127.0.0.1:9",
            mappers=[TEXTS],
            table_name_template="{table}",
            table_name_vars=variables,
            **LOCAL_CREDENTIALS,
        )


def test_template_mistakes_are_mapping_errors():
    for template, variables in [
        ("{table", {}),
        ("{{table}}", {}),
        ("{table}-{env}", {}),
        ("{table.x}", {}),
        ("{table}{0}", {}),
        ("{table:d}", {}),
        ("{table}", {"table": "x"}),
        ("t" * 300 + "{table}", {}),
        ("{table}-{env}", {"env": "a b"}),
    ]:
        with pytest.raises(MappingError):
            Database.connect(
                "http://127.0.0.1:9",
                mappers=[TEXTS],
                table_name_template=template,
                table_name_vars=variables,
                **LOCAL_CREDENTIALS,
            )


@pytest.mark.parametrize("key_type", [bool, list, dict, dt.timedelta, type(None), Any])
def test_mappers_refuse_keys_of_types_dynamodb_cannot_key_on(key_type):
    cls = attrs.make_class("Odd", {"pk": attrs.field(type=key_type)})
    with pytest.raises(MappingError):
        Mapper(cls, table="odd", partition_key="pk")
