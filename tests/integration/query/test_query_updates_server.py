"""SET values computed by the server: arithmetic, if_not_exists, list appends, copies.

Each test has its own table (the plugin's `dynamorm_db`); results are checked both in
the returned object and in the item as stored, read with the raw client.
"""

from __future__ import annotations

import contextlib

import attrs
import pytest
from _query_helpers import sent_requests

from dynamorm_async import (
    ConditionFailed,
    ConversionError,
    DynamORMError,
    Mapper,
    ValidationError,
    attr,
    if_not_exists,
    list_append,
)


@attrs.define
class Dims:
    width: int
    height: int


@attrs.define
class Counter:
    id: str
    n: int = 0
    step: int = 0
    m: int | None = None
    name: str = ""
    alias: str | None = None
    tags: list[str] = attrs.Factory(list)
    backup: list[str] = attrs.Factory(list)
    hist: list[int] | None = None
    dims: Dims | None = None


counters = Mapper(Counter, table="counters", partition_key="id")

START = Counter("c1", n=5, step=3, name="first", tags=["a"], dims=Dims(4, 7))


@pytest.fixture
def dynamorm_mappers():
    return [counters]


@pytest.fixture
async def repo(dynamorm_db):
    repo = dynamorm_db.repository(counters)
    await repo.put(START)
    return repo


async def stored(db, repo, key="c1"):
    """The item as stored, read with the raw aiobotocore client."""
    response = await db.client.get_item(
        TableName=repo.table, Key={"id": {"S": key}}, ConsistentRead=True
    )
    return response.get("Item")


# --- arithmetic --------------------------------------------------------------------------------


async def test_add_one(repo, dynamorm_db):
    updated = await repo.update("c1", set={"n": attr("n") + 1})
    assert updated == attrs.evolve(START, n=6)
    assert (await stored(dynamorm_db, repo))["n"] == {"N": "6"}
    assert await repo.get("c1", consistent=True) == updated


async def test_subtract_two(repo, dynamorm_db):
    assert (await repo.update("c1", set={"n": attr("n") - 2})).n == 3
    assert (await stored(dynamorm_db, repo))["n"] == {"N": "3"}
    assert (await repo.update("c1", set={"n": attr("n") - 10})).n == -7


async def test_value_on_the_left(repo):
    assert (await repo.update("c1", set={"n": 1 + attr("n")})).n == 6
    assert (await repo.update("c1", set={"n": 10 - attr("n")})).n == 4


async def test_two_attributes(repo):
    assert (await repo.update("c1", set={"n": attr("n") + attr("step")})).n == 8
    assert (await repo.update("c1", set={"step": attr("n") - attr("step")})).step == 5


async def test_increments_add_up_on_the_server(repo):
    # One after another: moto's threaded server does not isolate concurrent updates of
    # one item (DynamoDB does), so concurrency is for the DynamoDB Local backend.
    for _ in range(20):
        await repo.update("c1", set={"n": attr("n") + 1})
    assert (await repo.get("c1", consistent=True)).n == START.n + 20


async def test_arithmetic_on_a_missing_attribute_is_refused_by_the_server(repo):
    with pytest.raises(ValidationError, match="does not exist"):
        await repo.update("c1", set={"m": attr("m") + 1})
    assert await repo.get("c1", consistent=True) == START


async def test_chained_arithmetic_is_refused_before_sending(repo, dynamorm_db):
    with sent_requests(dynamorm_db) as sent:
        with pytest.raises(ValidationError, match="one \\+ or -"):
            await repo.update("c1", set={"n": attr("n") + 1 + 1})
        with pytest.raises(ConversionError):
            await repo.update("c1", set={"n": attr("n") + 1.5})  # n is an int
        with pytest.raises(ValidationError, match="need a number field"):
            await repo.update("c1", set={"name": attr("name") + 1})
        with pytest.raises(ValidationError, match="types differ"):
            await repo.update("c1", set={"n": if_not_exists("name", "x")})
        with pytest.raises(ValidationError, match="need a number field"):
            await repo.update("c1", set={"name": attr("n") + attr("n")})
    assert sent == []


# --- if_not_exists ---------------------------------------------------------------------------------


async def test_if_not_exists_sets_a_missing_attribute(repo, dynamorm_db):
    assert "m" not in await stored(dynamorm_db, repo)
    assert (await repo.update("c1", set={"m": if_not_exists("m", 0)})).m == 0
    assert (await stored(dynamorm_db, repo))["m"] == {"N": "0"}


async def test_if_not_exists_keeps_a_present_attribute(repo):
    assert (await repo.update("c1", set={"n": if_not_exists("n", 100)})).n == 5
    assert (await repo.update("c1", set={"name": if_not_exists("name", "other")})).name == "first"


async def test_if_not_exists_counter(repo):
    for expected in (1, 2, 3):
        assert (await repo.update("c1", set={"m": if_not_exists("m", 0) + 1})).m == expected


async def test_if_not_exists_with_another_attribute_as_default(repo):
    updated = await repo.update("c1", set={"alias": if_not_exists("alias", attr("name"))})
    assert updated.alias == "first"
    await repo.update("c1", set={"name": "second"})
    again = await repo.update("c1", set={"alias": if_not_exists("alias", attr("name"))})
    assert (again.name, again.alias) == ("second", "first")


# --- lists -------------------------------------------------------------------------------------------


async def test_append_and_prepend(repo, dynamorm_db):
    assert (await repo.update("c1", set={"tags": attr("tags").append(["b", "c"])})).tags == [
        "a",
        "b",
        "c",
    ]
    assert (await repo.update("c1", set={"tags": attr("tags").prepend(["z"])})).tags == [
        "z",
        "a",
        "b",
        "c",
    ]
    assert (await stored(dynamorm_db, repo))["tags"] == {
        "L": [{"S": "z"}, {"S": "a"}, {"S": "b"}, {"S": "c"}]
    }


async def test_list_append_forms(repo):
    assert (await repo.update("c1", set={"tags": list_append(["p"], attr("tags"))})).tags == [
        "p",
        "a",
    ]
    doubled = await repo.update("c1", set={"tags": list_append(attr("tags"), attr("tags"))})
    assert doubled.tags == ["p", "a", "p", "a"]
    assert (await repo.update("c1", set={"backup": attr("tags").append([])})).backup == doubled.tags


async def test_append_to_an_empty_default_list(dynamorm_db):
    repo = dynamorm_db.repository(counters)
    await repo.put(Counter("c2"))  # an empty list is stored as one, so it can grow
    assert (await repo.update("c2", set={"tags": attr("tags").append(["x"])})).tags == ["x"]


async def test_append_to_a_missing_list(repo):
    with pytest.raises(ValidationError, match="does not exist"):
        await repo.update("c1", set={"hist": attr("hist").append([1])})
    grow = {"hist": list_append(if_not_exists("hist", []), [1])}
    assert (await repo.update("c1", set=grow)).hist == [1]
    assert (await repo.update("c1", set=grow)).hist == [1, 1]


async def test_append_refuses_values_of_the_wrong_type_before_sending(repo, dynamorm_db):
    with sent_requests(dynamorm_db) as sent:
        with pytest.raises(ValidationError, match="joins lists"):
            await repo.update("c1", set={"tags": attr("tags").append("x")})
        with pytest.raises(ConversionError):
            await repo.update("c1", set={"tags": attr("tags").append([1])})
    assert sent == []


# --- copies --------------------------------------------------------------------------------------------


async def test_copy_one_attribute_to_another(repo, dynamorm_db):
    updated = await repo.update("c1", set={"alias": attr("name"), "backup": attr("tags")})
    assert (updated.alias, updated.backup) == ("first", ["a"])
    item = await stored(dynamorm_db, repo)
    assert (item["alias"], item["backup"]) == ({"S": "first"}, {"L": [{"S": "a"}]})


async def test_copy_a_nested_attribute(repo):
    assert (await repo.update("c1", set={"n": attr("dims.width")})).n == 4
    assert (await repo.update("c1", set={"dims.width": attr("dims.height")})).dims == Dims(7, 7)


async def test_copy_of_another_type_is_refused_before_sending(repo, dynamorm_db):
    with sent_requests(dynamorm_db) as sent, contextlib.suppress(DynamORMError):
        await repo.update("c1", set={"n": attr("name")})
    assert sent == []
    assert await repo.get("c1", consistent=True) == START


# --- together ----------------------------------------------------------------------------------------------


async def test_several_computed_values_in_one_conditional_update(repo, dynamorm_db):
    changes = {
        "n": attr("n") + 1,
        "m": if_not_exists("m", 10),
        "tags": attr("tags").append(["b"]),
        "alias": attr("name"),
    }
    with sent_requests(dynamorm_db) as sent:
        updated = await repo.update("c1", set=changes, condition=attr("n") == 5)
    assert [op for op, _ in sent] == ["UpdateItem"]
    assert updated == attrs.evolve(START, n=6, m=10, tags=["a", "b"], alias="first")
    with pytest.raises(ConditionFailed) as info:
        await repo.update("c1", set=changes, condition=attr("n") == 5)
    assert info.value.item == updated  # nothing changed by the refused update
    assert await repo.get("c1", consistent=True) == updated


async def test_return_values_none_still_applies_the_update(repo):
    assert await repo.update("c1", set={"n": attr("n") + 1}, return_values="NONE") is None
    assert (await repo.get("c1", consistent=True)).n == 6
