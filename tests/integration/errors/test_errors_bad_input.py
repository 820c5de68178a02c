"""Bad input is refused with a typed error carrying its context, and nothing is written.

The tests share one database (tables made once for the module by the plugin's
`open_test_database`), emptied before each test, so "nothing was written" is
checked by scanning the whole table.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs
import pytest
import pytest_asyncio

from dynamorm_async import (
    ConversionError,
    DynamORMError,
    ItemTooLarge,
    Mapper,
    MappingError,
    TableNotFound,
    ValidationError,
    attr,
)
from dynamorm_async.convert import MAX_ITEM_BYTES
from dynamorm_async.testing.pytest_plugin import open_test_database


class Kind(enum.Enum):
    A = "a"
    B = "b"


@attrs.define
class Doc:
    id: str
    body: str = ""
    score: float = 0.0
    amount: Decimal = Decimal(0)
    count: int = 0
    kind: Kind = Kind.A
    blobs: list[bytes] = attrs.field(factory=list)


docs = Mapper(Doc, table="docs", partition_key="id")


@attrs.define
class Pair:
    pk: str
    sk: int
    data: str = ""


pairs = Mapper(Pair, table="pairs", partition_key="pk", sort_key="sk")


@attrs.define
class Unmapped:
    id: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [docs, pairs])
    try:
        yield db
    finally:
        for mapper in (docs, pairs):
            await db.schema.delete(mapper, wait=False)
        await db.close()


@pytest.fixture
async def clean_db(shared_db):
    """The shared database, its tables emptied."""
    for mapper in (docs, pairs):
        table = shared_db.table_name(mapper)
        key_names = [mapper.stored_name(k) for k in mapper.key_fields]
        for item in await scan_all(shared_db, table):
            key = {name: item[name] for name in key_names}
            await shared_db.client.delete_item(TableName=table, Key=key)
    return shared_db


@pytest.fixture
def repo(clean_db):
    return clean_db.repository(docs)


async def scan_all(db, table: str) -> list[dict]:
    response = await db.client.scan(TableName=table, ConsistentRead=True)
    items: list[dict] = response["Items"]
    return items


def assert_context(exc: DynamORMError, table: str, operation: str) -> None:
    """The error names the real table and the operation, as attributes and in str()."""
    text = str(exc)
    assert exc.table == table, f"error table {exc.table!r}, expected {table!r}: {text}"
    assert exc.operation == operation
    assert table in text
    assert operation in text


# --- item size -------------------------------------------------------------------------


async def test_item_over_400_kb_raises_item_too_large_and_writes_nothing(repo, clean_db):
    big = Doc("big", body="x" * (MAX_ITEM_BYTES + 1))
    with pytest.raises(ItemTooLarge) as info:
        await repo.put(big)
    exc = info.value
    assert isinstance(exc, ValidationError)
    assert exc.size > exc.limit == MAX_ITEM_BYTES
    assert exc.key == {"id": "big"}
    assert await scan_all(clean_db, repo.table) == []
    assert_context(exc, repo.table, "PutItem")


async def test_item_too_large_counts_names_and_values(repo, clean_db):
    # 50 attributes of 8 KB each: no single value is large, the item is.
    big = Doc("big", blobs=[b"\x00" * 8192] * 50)
    with pytest.raises(ItemTooLarge):
        await repo.put(big)
    with pytest.raises(ItemTooLarge):
        await repo.create(big)
    assert await scan_all(clean_db, repo.table) == []


async def test_item_too_large_leaves_existing_item_unchanged(repo):
    await repo.put(Doc("d1", body="small"))
    with pytest.raises(ItemTooLarge):
        await repo.put(Doc("d1", body="x" * 410_000))
    assert await repo.get("d1", consistent=True) == Doc("d1", body="small")


async def test_large_item_under_the_limit_is_written(repo):
    # Well under 400 KB (moto's own check refuses items over 405,000 bytes).
    body = "y" * 400_000
    await repo.put(Doc("ok", body=body))
    got = await repo.get("ok", consistent=True)
    assert got is not None
    assert got.body == body


# --- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("score", float("nan")),
        ("score", float("inf")),
        ("score", float("-inf")),
        ("amount", Decimal("NaN")),
        ("amount", Decimal("Infinity")),
        ("amount", Decimal("1." + "1" * 38)),  # 39 significant digits
        ("amount", Decimal("1" * 39)),
        ("count", 10**38 + 1),  # 39 significant digits
        ("amount", Decimal("1E+126")),  # out of range
        ("amount", Decimal("1E-131")),
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "decimal-nan",
        "decimal-inf",
        "39-digit-fraction",
        "39-digit-decimal",
        "39-digit-int",
        "too-big",
        "too-small",
    ],
)
async def test_unstorable_numbers_raise_conversion_error_before_sending(
    repo, clean_db, field, value
):
    await repo.put(Doc("d1"))
    bad = attrs.evolve(Doc("d1"), **{field: value})
    with pytest.raises(ConversionError) as info:
        await repo.put(bad)
    exc = info.value
    assert exc.cls is Doc
    assert exc.field == field
    assert field in str(exc)
    assert_context(exc, repo.table, "PutItem")
    with pytest.raises(ConversionError):
        await repo.update("d1", set={field: value})
    with pytest.raises(ConversionError):
        await repo.put(Doc("d1"), condition=attr(field) == value)
    assert await scan_all(clean_db, repo.table) == [{"id": {"S": "d1"}, **_defaults()}]


def _defaults() -> dict:
    return {
        "body": {"S": ""},
        "score": {"N": "0"},
        "amount": {"N": "0"},
        "count": {"N": "0"},
        "kind": {"S": "a"},
        "blobs": {"L": []},
    }


async def test_38_digit_decimal_is_accepted(repo):
    value = Decimal("1." + "1" * 37)
    await repo.put(Doc("d1", amount=value))
    got = await repo.get("d1", consistent=True)
    assert got is not None
    assert got.amount == value


async def test_wrong_value_type_in_item_raises_conversion_error(repo, clean_db):
    with pytest.raises(ConversionError) as info:
        await repo.put(Doc("d1", count="three"))  # type: ignore[arg-type]
    exc = info.value
    assert exc.field == "count"
    assert "Doc.count" in str(exc)
    assert_context(exc, repo.table, "PutItem")
    with pytest.raises(ConversionError) as info:
        await repo.put(Doc("d1", kind="a"))  # type: ignore[arg-type]
    assert info.value.field == "kind"
    assert await scan_all(clean_db, repo.table) == []


# --- keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "fragment"),
    [("", "empty"), (None, "None"), (5, "5"), (b"id", "id")],
    ids=["empty-string", "none", "int-for-str", "bytes-for-str"],
)
async def test_bad_single_key_raises_validation_error(repo, clean_db, key, fragment):
    raised = []
    for operation, call in (
        ("GetItem", lambda: repo.get(key)),
        ("UpdateItem", lambda: repo.update(key, set={"body": "x"})),
        ("DeleteItem", lambda: repo.delete(key)),
    ):
        with pytest.raises(ValidationError) as info:
            await call()
        assert fragment in str(info.value)
        raised.append((info.value, operation))
    assert await scan_all(clean_db, repo.table) == []
    for exc, operation in raised:
        assert_context(exc, repo.table, operation)


async def test_bad_key_in_object_raises_validation_error_before_sending(repo, clean_db):
    with pytest.raises(ValidationError) as info:
        await repo.put(Doc(""))
    assert "empty" in str(info.value)
    with pytest.raises((ValidationError, ConversionError)) as info2:
        await repo.put(Doc(None))  # type: ignore[arg-type]
    assert await scan_all(clean_db, repo.table) == []
    assert_context(info.value, repo.table, "PutItem")
    assert_context(info2.value, repo.table, "PutItem")


async def test_bad_composite_keys(clean_db):
    repo = clean_db.repository(pairs)
    with pytest.raises(ValidationError):
        await repo.get(("p", "not-an-int"))
    with pytest.raises(ValidationError):
        await repo.get(("", 1))
    with pytest.raises(ValidationError):
        await repo.get(("p", None))
    with pytest.raises(ValidationError):
        await repo.get(("p", 1, 2))
    with pytest.raises(ValidationError):
        await repo.put(Pair("", 1))
    with pytest.raises(ValidationError) as info:
        await repo.get({"pk": "p", "sk": 1, "data": "x"})
    assert "data" in str(info.value)
    assert await scan_all(clean_db, repo.table) == []
    assert_context(info.value, repo.table, "GetItem")


# --- unknown fields --------------------------------------------------------------------


async def test_unknown_field_in_update_raises_mapping_error_with_suggestion(repo, clean_db):
    await repo.put(Doc("d1"))
    raised = []
    for changes, suggestion in (
        ({"set": {"bdy": "x"}}, "body"),
        ({"remove": ["bodyy"]}, "body"),
        ({"add": {"cuont": 1}}, "count"),
        ({"delete": {"kinds": {"a"}}}, "kind"),
    ):
        with pytest.raises(MappingError) as info:
            await repo.update("d1", **changes)
        assert f"did you mean {suggestion!r}" in str(info.value)
        raised.append(info.value)
    assert await repo.get("d1", consistent=True) == Doc("d1")
    for exc in raised:
        assert_context(exc, repo.table, "UpdateItem")


async def test_unknown_field_in_condition_raises_mapping_error_with_suggestion(repo):
    await repo.put(Doc("d1"))
    raised = []
    for call, operation in (
        (lambda: repo.put(Doc("d1", body="new"), condition=attr("scor") > 1), "PutItem"),
        (
            lambda: repo.update("d1", set={"body": "x"}, condition=attr("bodi").exists()),
            "UpdateItem",
        ),
        (lambda: repo.delete("d1", condition=attr("countt") == 1), "DeleteItem"),
    ):
        with pytest.raises(MappingError) as info:
            await call()
        assert "did you mean" in str(info.value)
        raised.append((info.value, operation))
    assert await repo.get("d1", consistent=True) == Doc("d1")
    for exc, operation in raised:
        assert_context(exc, repo.table, operation)


async def test_unmapped_class_in_model_raises_mapping_error(clean_db):
    with pytest.raises(MappingError) as info:
        clean_db.model(Unmapped)
    assert "Unmapped" in str(info.value)
    assert clean_db.model(Doc).mapper is docs


# --- decoding what another writer stored -------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("count", {"S": "three"}),
        ("count", {"N": "1.5"}),
        ("score", {"S": "x"}),
        ("kind", {"S": "zzz"}),
        ("body", {"N": "1"}),
        ("blobs", {"L": [{"S": "not bytes"}]}),
    ],
    ids=[
        "str-for-int",
        "fraction-for-int",
        "str-for-float",
        "bad-enum",
        "num-for-str",
        "list-elem",
    ],
)
async def test_decoding_garbage_raises_conversion_error_naming_class_and_field(
    repo, clean_db, attribute, value
):
    await clean_db.client.put_item(TableName=repo.table, Item={"id": {"S": "g1"}, attribute: value})
    with pytest.raises(ConversionError) as info:
        await repo.get("g1")
    exc = info.value
    assert exc.cls is Doc
    assert exc.field is not None
    assert exc.field.split(".")[0].split("[")[0] == attribute
    text = str(exc)
    assert f"Doc.{attribute}" in text
    assert_context(exc, repo.table, "GetItem")
    assert exc.key == {"id": "g1"}


async def test_decoding_item_missing_required_attribute(clean_db):
    repo = clean_db.repository(pairs)
    await clean_db.client.put_item(TableName=repo.table, Item={"pk": {"S": "p"}, "sk": {"N": "1"}})
    assert await repo.get(("p", 1)) == Pair("p", 1)  # data has a default
    await clean_db.client.put_item(
        TableName=repo.table, Item={"pk": {"S": "p"}, "sk": {"N": "2"}, "data": {"BOOL": True}}
    )
    with pytest.raises(ConversionError) as info:
        await repo.get(("p", 2))
    assert info.value.field == "data"
    assert "Pair.data" in str(info.value)


# --- tables ----------------------------------------------------------------------------


async def test_missing_table_raises_table_not_found(clean_db):
    missing = Mapper(Doc, table="never-created", partition_key="id")
    repo = clean_db.repository(missing)
    for operation, call in (
        ("GetItem", lambda: repo.get("x")),
        ("PutItem", lambda: repo.put(Doc("x"))),
        ("UpdateItem", lambda: repo.update("x", set={"body": "y"})),
        ("DeleteItem", lambda: repo.delete("x")),
    ):
        with pytest.raises(TableNotFound) as info:
            await call()
        assert isinstance(info.value, LookupError)
        assert_context(info.value, repo.table, operation)
    with pytest.raises(TableNotFound) as info:
        await clean_db.schema.describe(missing)
    assert_context(info.value, repo.table, "DescribeTable")
    assert await clean_db.schema.exists(missing) is False
