"""Repository CRUD against the embedded DynamoDB: get, put, create, update, delete."""

from __future__ import annotations

import attrs
import pytest

from dynamorm_async import (
    ConditionFailed,
    ItemAlreadyExists,
    ItemNotFound,
    Mapper,
    ValidationError,
    attr,
)


@attrs.define
class Dims:
    width: int
    height: int
    unit: str = "mm"


@attrs.define
class Product:
    id: str
    price: int
    name: str = ""
    tags: frozenset[str] = frozenset()
    sizes: frozenset[int] = frozenset()
    note: str | None = None
    stock: int = 0
    dims: Dims | None = None
    colors: list[str] = attrs.field(factory=list)
    extra: dict[str, int] = attrs.field(factory=dict)


products = Mapper(Product, table="products", partition_key="id")


@pytest.fixture
def dynamorm_mappers():
    return [products]


@pytest.fixture
def repo(dynamorm_db):
    return dynamorm_db.repository(products)


async def raw_item(db, repo, key: dict) -> dict | None:
    """The item as stored, read with the raw aiobotocore client."""
    response = await db.client.get_item(TableName=repo.table, Key=key, ConsistentRead=True)
    return response.get("Item")


# --- get ---------------------------------------------------------------------------------


async def test_get_missing_returns_none(repo):
    assert await repo.get("nope") is None


async def test_get_returns_stored_object(repo):
    await repo.put(Product("p1", 12, "DDIA", frozenset({"books"})))
    assert await repo.get("p1") == Product("p1", 12, "DDIA", frozenset({"books"}))


async def test_get_consistent_read(repo):
    await repo.put(Product("p1", 12))
    assert await repo.get("p1", consistent=True) == Product("p1", 12)
    assert await repo.get("missing", consistent=True) is None


async def test_get_or_raise_returns_object(repo):
    await repo.put(Product("p1", 12))
    assert await repo.get_or_raise("p1") == Product("p1", 12)


async def test_get_or_raise_missing_raises_item_not_found_with_context(repo):
    with pytest.raises(ItemNotFound) as info:
        await repo.get_or_raise("ghost")
    exc = info.value
    assert isinstance(exc, LookupError)
    assert exc.table == repo.table
    assert exc.operation == "GetItem"
    assert exc.key == {"id": "ghost"}
    text = str(exc)
    assert repo.table in text
    assert "GetItem" in text
    assert "ghost" in text
    assert "Product" in text


# --- put ---------------------------------------------------------------------------------


async def test_put_returns_stored_object(repo):
    product = Product("p1", 12, "DDIA")
    stored = await repo.put(product)
    assert stored == product
    assert await repo.get("p1") == product


async def test_put_replaces_whole_item(repo, dynamorm_db):
    await repo.put(Product("p1", 12, "DDIA", note="first"))
    await repo.put(Product("p1", 13))
    assert await repo.get("p1") == Product("p1", 13)
    raw = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    assert "note" not in raw  # None is left out, and the old attribute is gone


async def test_put_return_old_returns_replaced_item(repo):
    first = Product("p1", 12, "old")
    assert await repo.put(first, return_old=True) is None
    old = await repo.put(Product("p1", 20, "new"), return_old=True)
    assert old == first
    assert await repo.get("p1") == Product("p1", 20, "new")


async def test_put_with_condition_passing(repo):
    await repo.put(Product("p1", 12))
    stored = await repo.put(Product("p1", 10), condition=attr("price") > 5)
    assert stored == Product("p1", 10)
    assert await repo.get("p1") == Product("p1", 10)


async def test_put_of_wrong_class_is_refused(repo):
    with pytest.raises(ValidationError) as info:
        await repo.put("not a product")  # type: ignore[arg-type]
    assert "PutItem" in str(info.value)


# --- create ------------------------------------------------------------------------------


async def test_create_new_item(repo):
    product = Product("p1", 12)
    assert await repo.create(product) == product
    assert await repo.get("p1") == product


async def test_create_existing_raises_item_already_exists_with_decoded_item(repo):
    existing = Product("p1", 12, "kept", frozenset({"a"}))
    await repo.put(existing)
    with pytest.raises(ItemAlreadyExists) as info:
        await repo.create(Product("p1", 99, "intruder"))
    exc = info.value
    assert isinstance(exc, ConditionFailed)
    assert exc.item == existing
    assert isinstance(exc.item, Product)
    assert exc.table == repo.table
    assert exc.operation == "PutItem"
    assert exc.key == {"id": "p1"}
    assert repo.table in str(exc)
    assert "PutItem" in str(exc)
    assert await repo.get("p1") == existing  # not overwritten


# --- update ------------------------------------------------------------------------------


async def test_update_set_returns_all_new_by_default(repo):
    await repo.put(Product("p1", 12, "DDIA"))
    updated = await repo.update("p1", set={"price": 10, "name": "Designing"})
    assert updated == Product("p1", 10, "Designing")
    assert await repo.get("p1") == updated


async def test_update_accepts_an_object_as_target(repo):
    stored = await repo.put(Product("p1", 12))
    updated = await repo.update(stored, set={"price": 11})
    assert updated == Product("p1", 11)


async def test_update_return_values_all_old(repo):
    await repo.put(Product("p1", 12, "DDIA"))
    old = await repo.update("p1", set={"price": 10}, return_values="ALL_OLD")
    assert old == Product("p1", 12, "DDIA")
    assert await repo.get("p1") == Product("p1", 10, "DDIA")


async def test_update_return_values_all_old_of_new_item_is_none(repo):
    assert (
        await repo.update("fresh", set={"price": 3}, return_values="ALL_OLD", upsert=True) is None
    )
    assert await repo.get("fresh") == Product("fresh", 3)


async def test_update_return_values_none(repo):
    await repo.put(Product("p1", 12))
    assert await repo.update("p1", set={"price": 10}, return_values="NONE") is None
    assert await repo.get("p1") == Product("p1", 10)


async def test_update_invalid_return_values_is_refused(repo):
    with pytest.raises(ValidationError):
        await repo.update("p1", set={"price": 1}, return_values="UPDATED_NEW")  # type: ignore[arg-type]
    assert await repo.get("p1") is None


async def test_update_of_missing_key_raises_item_not_found(repo):
    with pytest.raises(ItemNotFound) as info:
        await repo.update("new", set={"price": 5})
    exc = info.value
    assert exc.table == repo.table
    assert exc.operation == "UpdateItem"
    assert exc.key == {"id": "new"}
    assert repo.table in str(exc)
    assert "UpdateItem" in str(exc)
    assert await repo.get("new", consistent=True) is None  # nothing was created


async def test_update_of_missing_key_with_condition_raises_item_not_found(repo):
    with pytest.raises(ItemNotFound):
        await repo.update("new", set={"price": 5}, condition=attr("price") > 1)
    assert await repo.get("new", consistent=True) is None


async def test_upsert_of_missing_key_creates_item(repo):
    created = await repo.update("new", set={"price": 5}, upsert=True)
    assert created == Product("new", 5)
    assert await repo.get("new") == Product("new", 5)
    # An upsert of an existing item is a plain update.
    updated = await repo.update("new", set={"name": "n"}, upsert=True)
    assert updated == Product("new", 5, "n")


async def test_upsert_refused_by_its_condition(repo):
    with pytest.raises(ConditionFailed) as info:
        await repo.update("new", set={"price": 5}, condition=attr("id").exists(), upsert=True)
    assert info.value.item is None
    assert await repo.get("new", consistent=True) is None


async def test_update_remove(repo, dynamorm_db):
    await repo.put(Product("p1", 12, "DDIA", note="hello"))
    updated = await repo.update("p1", remove=["note"])
    assert updated == Product("p1", 12, "DDIA")
    raw = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    assert "note" not in raw


async def test_update_set_none_removes_attribute(repo, dynamorm_db):
    await repo.put(Product("p1", 12, note="hello"))
    raw = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    assert raw["note"] == {"S": "hello"}
    updated = await repo.update("p1", set={"note": None})
    assert updated == Product("p1", 12)
    raw = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    assert "note" not in raw
    assert {"NULL": True} not in raw.values()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"set": {"price": None}}, "cannot set price to None: its type is int"),
        (
            {"remove": ["price"]},
            "cannot remove price: it has no default and is not Optional, so the item "
            "could no longer be read",
        ),
    ],
    ids=["set-none", "remove"],
)
async def test_update_cannot_remove_a_required_field(repo, dynamorm_db, changes, message):
    # price has no default: an item without it can no longer be read back as a
    # Product, so the update is refused before anything is sent.
    await repo.put(Product("p1", 12))
    before = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    with pytest.raises(ValidationError) as info:
        await repo.update("p1", **changes)
    assert info.value.message == message
    assert await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}}) == before
    assert await repo.get("p1", consistent=True) == Product("p1", 12)


async def test_update_set_empty_set_removes_attribute(repo, dynamorm_db):
    await repo.put(Product("p1", 12, tags=frozenset({"a"})))
    updated = await repo.update("p1", set={"tags": frozenset()})
    assert updated == Product("p1", 12)
    raw = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    assert "tags" not in raw


async def test_update_add_number(repo):
    await repo.put(Product("p1", 12, stock=5))
    updated = await repo.update("p1", add={"stock": -2})
    assert updated is not None
    assert updated.stock == 3
    updated = await repo.update("p1", add={"stock": 10})
    assert updated is not None
    assert updated.stock == 13


async def test_update_add_to_missing_number_starts_at_zero(repo):
    await repo.put(Product("p1", 12))
    raw_missing = await repo.update("p1", remove=["stock"])
    assert raw_missing is not None
    assert raw_missing.stock == 0  # the default, as the attribute is gone
    updated = await repo.update("p1", add={"stock": 4})
    assert updated is not None
    assert updated.stock == 4


async def test_update_add_and_delete_set_elements(repo, dynamorm_db):
    await repo.put(Product("p1", 12, tags=frozenset({"a", "b"}), sizes=frozenset({1, 2})))
    updated = await repo.update("p1", add={"tags": {"c"}, "sizes": {3}})
    assert updated is not None
    assert updated.tags == frozenset({"a", "b", "c"})
    assert updated.sizes == frozenset({1, 2, 3})
    updated = await repo.update("p1", delete={"tags": {"a", "b"}, "sizes": {1}})
    assert updated is not None
    assert updated.tags == frozenset({"c"})
    assert updated.sizes == frozenset({2, 3})
    raw = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    assert set(raw["tags"]["SS"]) == {"c"}
    assert sorted(raw["sizes"]["NS"]) == ["2", "3"]


async def test_update_delete_last_set_element_reads_back_empty(repo, dynamorm_db):
    await repo.put(Product("p1", 12, tags=frozenset({"a"})))
    updated = await repo.update("p1", delete={"tags": {"a"}})
    assert updated == Product("p1", 12)
    raw = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    assert "tags" not in raw


async def test_update_set_remove_add_delete_in_one_call(repo):
    await repo.put(Product("p1", 12, "DDIA", frozenset({"a", "b"}), note="x", stock=1))
    updated = await repo.update(
        "p1",
        set={"price": 9},
        remove=["note"],
        add={"stock": 2},
        delete={"tags": {"a"}},
    )
    assert updated == Product("p1", 9, "DDIA", frozenset({"b"}), stock=3)


async def test_update_nested_paths(repo, dynamorm_db):
    await repo.put(Product("p1", 12, dims=Dims(10, 20), colors=["red", "blue"], extra={"a": 1}))
    updated = await repo.update(
        "p1",
        set={"dims.width": 11, "colors[1]": "green", "extra.b": 2},
        add={"extra.a": 5},
    )
    assert updated == Product(
        "p1", 12, dims=Dims(11, 20), colors=["red", "green"], extra={"a": 6, "b": 2}
    )
    raw = await raw_item(dynamorm_db, repo, {"id": {"S": "p1"}})
    assert raw["dims"]["M"]["width"] == {"N": "11"}
    updated = await repo.update("p1", remove=["colors[0]", "extra.a"])
    assert updated == Product("p1", 12, dims=Dims(11, 20), colors=["green"], extra={"b": 2})


async def test_update_set_whole_nested_object(repo):
    await repo.put(Product("p1", 12))
    updated = await repo.update("p1", set={"dims": Dims(1, 2, "cm"), "colors": ["x"]})
    assert updated == Product("p1", 12, dims=Dims(1, 2, "cm"), colors=["x"])
    updated = await repo.update("p1", set={"dims": None})
    assert updated == Product("p1", 12, colors=["x"])


async def test_update_with_overlapping_paths_is_refused(repo):
    await repo.put(Product("p1", 12, dims=Dims(1, 2)))
    with pytest.raises(ValidationError):
        await repo.update("p1", set={"dims": Dims(3, 4), "dims.width": 5})
    with pytest.raises(ValidationError):
        await repo.update("p1", set={"price": 1}, add={"price": 1})
    assert await repo.get("p1", consistent=True) == Product("p1", 12, dims=Dims(1, 2))


async def test_update_of_key_field_is_refused(repo):
    await repo.put(Product("p1", 12))
    with pytest.raises(ValidationError):
        await repo.update("p1", set={"id": "p2"})
    assert await repo.get("p1") == Product("p1", 12)


async def test_update_with_nothing_to_do_is_refused(repo):
    with pytest.raises(ValidationError):
        await repo.update("p1")
    assert await repo.get("p1") is None


# --- delete ------------------------------------------------------------------------------


async def test_delete_by_key(repo):
    await repo.put(Product("p1", 12))
    assert await repo.delete("p1") is None
    assert await repo.get("p1") is None


async def test_delete_by_object(repo):
    stored = await repo.put(Product("p1", 12))
    await repo.delete(stored)
    assert await repo.get("p1") is None


async def test_delete_return_old(repo):
    product = Product("p1", 12, "DDIA", frozenset({"x"}))
    await repo.put(product)
    assert await repo.delete("p1", return_old=True) == product
    assert await repo.get("p1") is None


async def test_delete_missing_is_no_error(repo):
    assert await repo.delete("ghost") is None
    assert await repo.delete("ghost", return_old=True) is None


async def test_delete_with_condition(repo):
    await repo.put(Product("p1", 12))
    with pytest.raises(ConditionFailed) as info:
        await repo.delete("p1", condition=attr("price") > 100)
    assert info.value.item == Product("p1", 12)
    assert await repo.get("p1") == Product("p1", 12)
    await repo.delete("p1", condition=attr("price") < 100)
    assert await repo.get("p1") is None
