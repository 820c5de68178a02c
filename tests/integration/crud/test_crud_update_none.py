"""None and empty sets in ``update(set=...)``, and ``remove=``, through the server.

An update stores them as a put would: the attribute is removed when its absence
reads back the same, and set to NULL when it would read back as another default.
Either way, what the update returns and what a later get reads is the value set.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from dynamorm_async import Mapper, ValidationError


@attrs.define
class Dims:
    width: int
    unit: str | None = "mm"
    note: str | None = None


@attrs.define
class Thing:
    id: str
    price: int
    maybe: int | None
    codes: frozenset[str]
    name: str = ""
    n: int | None = 5
    note: str | None = None
    tags: frozenset[str] = frozenset({"default"})
    labels: frozenset[str] = frozenset()
    xs: list[int] | None = attrs.Factory(list)
    anything: Any = "x"
    dims: Dims | None = None
    stock: int = 0


things = Mapper(Thing, table="things", partition_key="id", field_names={"n": "num"})

NULL = {"NULL": True}


def full(**changes: Any) -> Thing:
    return attrs.evolve(
        Thing(
            "t1",
            price=1,
            maybe=2,
            codes=frozenset({"c"}),
            name="nm",
            n=7,
            note="x",
            tags=frozenset({"t"}),
            labels=frozenset({"l"}),
            xs=[1],
            anything="y",
            dims=Dims(1, "cm", "d"),
            stock=3,
        ),
        **changes,
    )


@pytest.fixture
def dynamorm_mappers():
    return [things]


@pytest.fixture
def repo(dynamorm_db):
    return dynamorm_db.repository(things)


async def raw_item(db, repo) -> dict:
    response = await db.client.get_item(
        TableName=repo.table, Key={"id": {"S": "t1"}}, ConsistentRead=True
    )
    return response["Item"]


@pytest.mark.parametrize(
    ("field", "value", "stored", "read_back"),
    [
        ("n", None, "num", None),
        ("tags", frozenset(), "tags", frozenset()),
        ("tags", None, "tags", frozenset()),
        ("xs", None, "xs", None),
        ("anything", None, "anything", None),
    ],
)
async def test_set_none_stores_null_where_absence_would_read_back_a_default(
    repo, dynamorm_db, field, value, stored, read_back
):
    await repo.put(full())
    updated = await repo.update("t1", set={field: value})
    expected = full(**{field: read_back})
    assert updated == expected
    assert (await raw_item(dynamorm_db, repo))[stored] == NULL
    assert await repo.get("t1", consistent=True) == expected


@pytest.mark.parametrize(
    ("field", "value", "read_back"),
    [
        ("note", None, None),
        ("maybe", None, None),
        ("codes", frozenset(), frozenset()),
        ("labels", frozenset(), frozenset()),
        ("labels", None, frozenset()),
        ("dims", None, None),
    ],
)
async def test_set_none_removes_where_absence_reads_back_the_same(
    repo, dynamorm_db, field, value, read_back
):
    await repo.put(full())
    updated = await repo.update("t1", set={field: value})
    expected = full(**{field: read_back})
    assert updated == expected
    assert field not in await raw_item(dynamorm_db, repo)
    assert await repo.get("t1", consistent=True) == expected


async def test_optional_field_with_a_default_round_trips_none_then_a_value(repo, dynamorm_db):
    # n: int | None = 5 -- before, set={"n": None} was refused or read back 5.
    await repo.put(full())
    assert (await repo.update("t1", set={"n": None})).n is None
    assert (await repo.get("t1", consistent=True)).n is None
    assert (await repo.update("t1", set={"n": 8})).n == 8
    assert (await raw_item(dynamorm_db, repo))["num"] == {"N": "8"}


async def test_nested_none_follows_the_nested_field_default(repo, dynamorm_db):
    await repo.put(full())
    updated = await repo.update("t1", set={"dims.unit": None, "dims.note": None})
    assert updated == full(dims=Dims(1, None, None))
    assert (await raw_item(dynamorm_db, repo))["dims"] == {"M": {"width": {"N": "1"}, "unit": NULL}}
    assert await repo.get("t1", consistent=True) == full(dims=Dims(1, None, None))


async def test_update_and_put_store_none_the_same_way(repo, dynamorm_db):
    nones = {"n": None, "note": None, "xs": None, "anything": None, "tags": frozenset()}
    await repo.put(full())
    await repo.update("t1", set=nones)
    updated = await raw_item(dynamorm_db, repo)
    await repo.put(full(**nones))
    assert await raw_item(dynamorm_db, repo) == updated


async def test_remove_resets_a_field_to_its_default(repo, dynamorm_db):
    await repo.put(full())
    updated = await repo.update("t1", remove=["n", "tags", "name", "stock", "xs", "dims.unit"])
    expected = full(
        n=5, tags=frozenset({"default"}), name="", stock=0, xs=[], dims=Dims(1, "mm", "d")
    )
    assert updated == expected
    raw = await raw_item(dynamorm_db, repo)
    assert not {"num", "tags", "name", "stock", "xs"} & raw.keys()
    assert "unit" not in raw["dims"]["M"]
    assert await repo.get("t1", consistent=True) == expected


async def test_remove_of_optional_or_set_fields_without_default(repo, dynamorm_db):
    await repo.put(full())
    updated = await repo.update("t1", remove=["maybe", "codes"])
    assert updated == full(maybe=None, codes=frozenset())
    assert not {"maybe", "codes"} & (await raw_item(dynamorm_db, repo)).keys()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"set": {"price": None}}, "cannot set price to None: its type is int"),
        ({"set": {"name": None}}, "cannot set name to None: its type is str"),
        ({"set": {"dims.width": None}}, "cannot set dims.width to None: its type is int"),
        (
            {"remove": ["price"]},
            "cannot remove price: it has no default and is not Optional, so the item "
            "could no longer be read",
        ),
        (
            {"remove": ["dims.width"]},
            "cannot remove dims.width: it has no default and is not Optional, so the item "
            "could no longer be read",
        ),
    ],
)
async def test_updates_leaving_an_unreadable_item_are_refused_before_sending(
    repo, dynamorm_db, changes, message
):
    await repo.put(full())
    before = await raw_item(dynamorm_db, repo)
    with pytest.raises(ValidationError) as info:
        await repo.update("t1", **changes)
    assert info.value.message == message
    assert info.value.table == repo.table
    assert info.value.operation == "UpdateItem"
    assert await raw_item(dynamorm_db, repo) == before
