"""Condition expressions evaluated by the server: each operator passing and failing.

A failed condition raises `ConditionFailed` whose `.item` is the stored item decoded
into its class, and leaves the stored item exactly as it was.

The many operator cases share one database (tables made by the plugin's
`open_test_database`, once for the module); each test works on its own item.
"""

from __future__ import annotations

import enum
import itertools

import attrs
import pytest
import pytest_asyncio

from dynamorm_async import (
    Condition,
    ConditionFailed,
    ConversionError,
    Mapper,
    MappingError,
    ValidationError,
    attr,
)
from dynamorm_async.testing.pytest_plugin import open_test_database


class Status(enum.Enum):
    DRAFT = "draft"
    LIVE = "live"
    GONE = "gone"


@attrs.define
class Dims:
    width: int
    height: int


@attrs.define
class Book:
    id: str
    price: int
    name: str = ""
    tags: frozenset[str] = frozenset()
    colors: list[str] = attrs.field(factory=list)
    note: str | None = None
    status: Status = Status.DRAFT
    dims: Dims | None = None
    size: int = 0  # a DynamoDB reserved word
    discount: int | None = None  # absent from BOOK


books = Mapper(Book, table="books", partition_key="id")

BOOK = Book(
    "b1",
    10,
    "Designing Data-Intensive Applications",
    frozenset({"databases", "distributed"}),
    ["red", "blue"],
    note="a classic",
    status=Status.LIVE,
    dims=Dims(178, 233),
    size=3,
)


_ids = itertools.count(1)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [books])
    try:
        yield db
    finally:
        await db.schema.delete(books, wait=False)
        await db.close()


@pytest.fixture
def book():
    """BOOK under a key of the test's own."""
    return attrs.evolve(BOOK, id=f"b{next(_ids)}")


@pytest.fixture
async def repo(shared_db, book):
    repo = shared_db.repository(books)
    await repo.put(book)
    return repo


async def check_update(repo, book: Book, condition: Condition, *, passes: bool) -> None:
    """An update under `condition`: applied if it passes, else refused with the item."""
    if passes:
        updated = await repo.update(book.id, set={"price": 11}, condition=condition)
        assert updated == attrs.evolve(book, price=11)
        await repo.put(book)  # put it back for the next check
        return
    with pytest.raises(ConditionFailed) as info:
        await repo.update(book.id, set={"price": 11}, condition=condition)
    exc = info.value
    assert type(exc) is ConditionFailed
    assert exc.item == book
    assert isinstance(exc.item, Book)
    assert await repo.get(book.id, consistent=True) == book


CASES = {
    "gt": (attr("price") > 5, attr("price") > 10),
    "ge": (attr("price") >= 10, attr("price") >= 11),
    "lt": (attr("price") < 11, attr("price") < 10),
    "le": (attr("price") <= 10, attr("price") <= 9),
    "eq": (attr("price") == 10, attr("price") == 9),
    "ne": (attr("price") != 9, attr("price") != 10),
    "eq-str": (attr("name") == BOOK.name, attr("name") == "Other"),
    "eq-enum": (attr("status") == Status.LIVE, attr("status") == Status.DRAFT),
    "reserved-word": (attr("size") == 3, attr("size") == 4),
    "exists": (attr("note").exists(), attr("discount").exists()),
    "not-exists": (attr("discount").not_exists(), attr("note").not_exists()),
    "not-exists-nested": (attr("dims.width").exists(), attr("dims.width").not_exists()),
    "begins-with": (attr("name").begins_with("Designing"), attr("name").begins_with("Data")),
    "between": (attr("price").between(5, 15), attr("price").between(11, 20)),
    "between-inclusive": (attr("price").between(10, 10), attr("price").between(0, 9)),
    "is-in-number": (attr("price").is_in([1, 10, 100]), attr("price").is_in([1, 2, 3])),
    "is-in-enum": (
        attr("status").is_in([Status.LIVE, Status.GONE]),
        attr("status").is_in([Status.DRAFT, Status.GONE]),
    ),
    "contains-set": (attr("tags").contains("databases"), attr("tags").contains("cooking")),
    "contains-list": (attr("colors").contains("blue"), attr("colors").contains("green")),
    "contains-substring": (attr("name").contains("Data"), attr("name").contains("Cooking")),
    "nested-path": (attr("dims.width") > 100, attr("dims", "height") < 100),
    "list-index": (attr("colors", 0) == "red", attr("colors[1]") == "red"),
    "eq-none-absent": (attr("discount") == None, attr("note") == None),  # noqa: E711
    "ne-none-present": (attr("note") != None, attr("discount") != None),  # noqa: E711
    "path-vs-path": (attr("price") > attr("size"), attr("price") < attr("size")),
    "none-in-or": (
        (attr("discount") == None) | (attr("price") > 50),  # noqa: E711
        (attr("note") == None) | (attr("price") > 50),  # noqa: E711
    ),
    "and": (
        (attr("price") > 5) & attr("name").begins_with("Design"),
        (attr("price") > 5) & (attr("price") > 50),
    ),
    "and-three": (
        (attr("price") > 5) & (attr("size") == 3) & attr("note").exists(),
        (attr("price") > 5) & (attr("size") == 3) & attr("note").not_exists(),
    ),
    "or": (
        (attr("price") > 50) | attr("tags").contains("databases"),
        (attr("price") > 50) | attr("tags").contains("cooking"),
    ),
    "not": (~(attr("price") > 50), ~(attr("price") > 5)),
    "not-exists-via-invert": (~attr("discount").exists(), ~attr("note").exists()),
    "nested-combination": (
        ((attr("price") < 5) | (attr("price") > 8)) & ~attr("status").is_in([Status.GONE]),
        ((attr("price") < 5) | (attr("price") > 8)) & ~attr("status").is_in([Status.LIVE]),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_condition_on_update(repo, book, name):
    passing, failing = CASES[name]
    await check_update(repo, book, passing, passes=True)
    await check_update(repo, book, failing, passes=False)


async def test_exists_on_absent_attribute_fails(repo, book):
    await repo.update(book.id, set={"note": None})
    current = attrs.evolve(book, note=None)
    with pytest.raises(ConditionFailed) as info:
        await repo.update(book.id, set={"price": 1}, condition=attr("note").exists())
    assert info.value.item == current
    updated = await repo.update(book.id, set={"price": 1}, condition=attr("note").not_exists())
    assert updated == attrs.evolve(current, price=1)


async def test_is_in_with_more_than_100_values(repo, book):
    # DynamoDB allows 100 operands per IN: longer lists are split into ORs.
    await check_update(repo, book, attr("price").is_in(range(150)), passes=True)
    await check_update(repo, book, attr("price").is_in(range(200, 350)), passes=False)
    await repo.put(attrs.evolve(book, price=120))
    updated = await repo.update(book.id, set={"size": 4}, condition=attr("price").is_in(range(150)))
    assert updated is not None
    assert updated.size == 4


async def test_condition_on_put_passing_and_failing(repo, book):
    replacement = attrs.evolve(book, price=1, note=None)
    with pytest.raises(ConditionFailed) as info:
        await repo.put(replacement, condition=attr("price") > 50)
    assert info.value.item == book
    assert await repo.get(book.id, consistent=True) == book
    assert await repo.put(replacement, condition=attr("price") > 5) == replacement
    assert await repo.get(book.id, consistent=True) == replacement


async def test_condition_on_put_of_new_item(repo):
    new = attrs.evolve(BOOK, id=f"new{next(_ids)}")
    with pytest.raises(ConditionFailed) as info:
        await repo.put(new, condition=attr("id").exists())
    assert info.value.item is None
    assert await repo.get(new.id) is None
    await repo.put(new, condition=attr("id").not_exists())
    assert await repo.get(new.id) == new


async def test_condition_on_delete_passing_and_failing(repo, book):
    with pytest.raises(ConditionFailed) as info:
        await repo.delete(book.id, condition=attr("status") == Status.GONE)
    assert info.value.item == book
    assert await repo.get(book.id, consistent=True) == book
    deleted = await repo.delete(book.id, condition=attr("status") == Status.LIVE, return_old=True)
    assert deleted == book
    assert await repo.get(book.id, consistent=True) is None


async def test_failed_update_changes_nothing(repo, book, shared_db):
    key = {"id": {"S": book.id}}
    before = await shared_db.client.get_item(TableName=repo.table, Key=key, ConsistentRead=True)
    with pytest.raises(ConditionFailed):
        await repo.update(
            book.id,
            set={"price": 1, "name": "x"},
            remove=["note"],
            add={"size": 1, "tags": {"new"}},
            condition=attr("price") > 100,
        )
    with pytest.raises(ConditionFailed):
        await repo.update(book.id, delete={"tags": {"databases"}}, condition=attr("price") > 100)
    after = await shared_db.client.get_item(TableName=repo.table, Key=key, ConsistentRead=True)
    assert after["Item"] == before["Item"]


async def test_condition_failed_carries_context(repo, book):
    with pytest.raises(ConditionFailed) as info:
        await repo.update(book.id, set={"price": 11}, condition=attr("price") > 50)
    exc = info.value
    assert exc.table == repo.table
    assert exc.operation == "UpdateItem"
    assert exc.key == {"id": book.id}
    assert exc.expressions is not None
    assert "ConditionExpression" in exc.expressions
    assert "UpdateExpression" in exc.expressions
    text = str(exc)
    assert repo.table in text
    assert "UpdateItem" in text
    assert "ConditionExpression" in text
    # Values never appear in the expressions: only placeholders.
    assert "50" not in exc.expressions["ConditionExpression"]


async def test_condition_failed_item_undecodable_is_given_raw(repo, book, shared_db):
    # An item that no longer fits the class is still reported, as it is stored.
    raw = {"id": {"S": book.id}, "price": {"S": "ten"}}
    await shared_db.client.put_item(TableName=repo.table, Item=raw)
    with pytest.raises(ConditionFailed) as info:
        await repo.update(book.id, set={"size": 1}, condition=attr("size") > 100)
    assert info.value.item == raw


async def test_condition_with_unknown_field_is_refused_before_sending(repo, book):
    with pytest.raises(MappingError) as info:
        await repo.update(book.id, set={"price": 11}, condition=attr("prise") > 5)
    assert "price" in str(info.value)
    assert await repo.get(book.id, consistent=True) == book


async def test_condition_with_python_boolean_operators_is_refused(repo, book):
    with pytest.raises(TypeError):
        await repo.update(book.id, set={"price": 1}, condition=(attr("price") > 5) and attr("x"))
    assert await repo.get(book.id, consistent=True) == book


async def test_condition_that_is_not_a_condition_is_refused(repo, book):
    with pytest.raises(ValidationError):
        await repo.update(book.id, set={"price": 1}, condition="price > 5")  # type: ignore[arg-type]
    assert await repo.get(book.id, consistent=True) == book


async def test_condition_on_enum_field_with_raw_value_raises_conversion_error(repo, book):
    # As when encoding an item, a str where an Enum member belongs is refused with a
    # ConversionError (with context), not a bare AttributeError from the hook.
    with pytest.raises(ConversionError) as info:
        await repo.update(book.id, set={"price": 11}, condition=attr("status") == "live")
    assert repo.table in str(info.value)
    assert "UpdateItem" in str(info.value)
    assert await repo.get(book.id, consistent=True) == book
