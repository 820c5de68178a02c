"""Version 0 means "never versioned": items stored before the mapper had a version.

Such an item (written here with the raw client, no version attribute) reads back at
version 0, and its object can be updated, put and deleted like any loaded object;
the write stores version 1. A version-0 object can never overwrite or delete an item
that has a version: that is a VersionConflict.
"""

from __future__ import annotations

import attrs
import pytest
from _versioning_models import Account, Doc, accounts, docs

from dynamorm_async import (
    ConditionFailed,
    ItemNotFound,
    VersionConflict,
    attr,
)

NEVER_STORED = "Account was changed by someone else: expected version 0 (never stored) but a versioned one exists"


@pytest.fixture
def dynamorm_mappers():
    return [accounts, docs]


@pytest.fixture
def repo(dynamorm_db):
    return dynamorm_db.repository(accounts)


async def put_legacy(db, repo, key: str = "a1", balance: int = 100) -> None:
    """Store an account as it was written before the mapper had a version attribute."""
    await db.client.put_item(
        TableName=repo.table,
        Item={"id": {"S": key}, "balance": {"N": str(balance)}, "owner": {"S": "ann"}},
    )


async def raw_item(db, repo, key: str = "a1") -> dict | None:
    response = await db.client.get_item(
        TableName=repo.table, Key={"id": {"S": key}}, ConsistentRead=True
    )
    return response.get("Item")


async def test_legacy_item_reads_back_at_version_0(repo, dynamorm_db):
    await put_legacy(dynamorm_db, repo)
    assert await repo.get("a1") == Account("a1", 100, "ann", version=0)


async def test_update_of_legacy_object_stores_version_1(repo, dynamorm_db):
    await put_legacy(dynamorm_db, repo)
    loaded = await repo.get("a1", consistent=True)
    assert loaded is not None
    updated = await repo.update(loaded, set={"balance": 90})
    assert updated == Account("a1", 90, "ann", version=1)
    assert await raw_item(dynamorm_db, repo) == {
        "id": {"S": "a1"},
        "balance": {"N": "90"},
        "owner": {"S": "ann"},
        "version": {"N": "1"},
    }
    # From now on it is versioned: the version-0 object is stale.
    with pytest.raises(VersionConflict) as info:
        await repo.update(loaded, set={"balance": 0})
    assert info.value.message == NEVER_STORED
    assert info.value.item == updated
    assert await repo.get("a1", consistent=True) == updated


async def test_upsert_of_legacy_object_stores_version_1(repo, dynamorm_db):
    await put_legacy(dynamorm_db, repo)
    loaded = await repo.get("a1", consistent=True)
    assert loaded is not None
    updated = await repo.update(loaded, add={"balance": 5}, upsert=True)
    assert updated == Account("a1", 105, "ann", version=1)
    assert await repo.get("a1", consistent=True) == updated


async def test_put_of_legacy_object_stores_version_1(repo, dynamorm_db):
    await put_legacy(dynamorm_db, repo)
    loaded = await repo.get("a1", consistent=True)
    assert loaded is not None
    old = await repo.put(attrs.evolve(loaded, owner="bob"), return_old=True)
    assert old == Account("a1", 100, "ann", version=0)
    assert await raw_item(dynamorm_db, repo) == {
        "id": {"S": "a1"},
        "balance": {"N": "100"},
        "owner": {"S": "bob"},
        "version": {"N": "1"},
    }
    # The loaded (version 0) object is now stale.
    with pytest.raises(VersionConflict) as info:
        await repo.put(attrs.evolve(loaded, owner="eve"))
    assert info.value.message == NEVER_STORED
    assert info.value.item == Account("a1", 100, "bob", version=1)


async def test_delete_of_legacy_object(repo, dynamorm_db):
    await put_legacy(dynamorm_db, repo)
    loaded = await repo.get("a1", consistent=True)
    assert loaded is not None
    assert await repo.delete(loaded, return_old=True) == Account("a1", 100, "ann", version=0)
    assert await raw_item(dynamorm_db, repo) is None


async def test_legacy_write_refused_by_a_user_condition_is_no_version_conflict(repo, dynamorm_db):
    await put_legacy(dynamorm_db, repo)
    loaded = await repo.get("a1", consistent=True)
    assert loaded is not None
    with pytest.raises(ConditionFailed) as info:
        await repo.update(loaded, set={"balance": 1}, condition=attr("balance") > 500)
    assert type(info.value) is ConditionFailed  # the version (0) was right
    assert info.value.item == loaded
    with pytest.raises(ConditionFailed) as info:
        await repo.put(loaded, condition=attr("owner") == "bob")
    assert type(info.value) is ConditionFailed
    with pytest.raises(ConditionFailed) as info:
        await repo.delete(loaded, condition=attr("balance") == 0)
    assert type(info.value) is ConditionFailed
    assert await raw_item(dynamorm_db, repo) == {
        "id": {"S": "a1"},
        "balance": {"N": "100"},
        "owner": {"S": "ann"},
    }


async def test_updates_from_one_loaded_legacy_object_one_wins(repo, dynamorm_db):
    await put_legacy(dynamorm_db, repo)
    loaded = await repo.get("a1", consistent=True)
    assert loaded is not None
    # All three from the same loaded object, one after the other: moto's server does not
    # isolate concurrent conditional writes of one item (under load, two were seen to
    # pass), so real concurrency is for the DynamoDB Local backend.
    results = []
    for n in (1, 2, 3):
        try:
            results.append(await repo.update(loaded, add={"balance": n}))
        except VersionConflict as exc:
            results.append(exc)
    winners = [r for r in results if isinstance(r, Account)]
    conflicts = [r for r in results if isinstance(r, VersionConflict)]
    assert len(winners) == 1
    assert len(conflicts) == 2
    assert winners[0].version == 1
    assert winners[0].balance == 101
    assert all(c.item == winners[0] for c in conflicts)
    assert await repo.get("a1", consistent=True) == winners[0]


# --- version-0 objects against missing and versioned items ---------------------------------


async def test_update_of_version_0_object_of_a_missing_item(repo, dynamorm_db):
    with pytest.raises(ItemNotFound):
        await repo.update(Account("a1", 5), set={"balance": 5})
    assert await raw_item(dynamorm_db, repo) is None
    created = await repo.update(Account("a1", 5), set={"balance": 5}, upsert=True)
    assert created == Account("a1", 5, version=1)
    assert (await raw_item(dynamorm_db, repo))["version"] == {"N": "1"}


async def test_version_0_object_cannot_put_over_a_versioned_item(repo, dynamorm_db):
    stored = await repo.put(Account("a1", 100))
    with pytest.raises(VersionConflict) as info:
        await repo.put(Account("a1", 5))
    assert info.value.message == NEVER_STORED
    assert "never stored" in str(info.value)
    assert info.value.item == stored
    assert info.value.operation == "PutItem"
    assert await repo.get("a1", consistent=True) == stored


async def test_version_0_object_cannot_update_a_versioned_item(repo, dynamorm_db):
    stored = await repo.put(Account("a1", 100))
    for upsert in (False, True):
        with pytest.raises(VersionConflict) as info:
            await repo.update(Account("a1", 5), set={"owner": "x"}, upsert=upsert)
        assert info.value.message == NEVER_STORED
        assert info.value.item == stored
        assert info.value.operation == "UpdateItem"
    assert await repo.get("a1", consistent=True) == stored


async def test_version_0_object_cannot_delete_a_versioned_item(repo, dynamorm_db):
    stored = await repo.put(Account("a1", 100))
    with pytest.raises(VersionConflict) as info:
        await repo.delete(Account("a1", 100))
    assert info.value.message == NEVER_STORED
    assert "never stored" in str(info.value)
    assert info.value.item == stored
    assert info.value.operation == "DeleteItem"
    assert await repo.get("a1", consistent=True) == stored


async def test_legacy_item_with_composite_key_and_renamed_version(dynamorm_db):
    repo = dynamorm_db.repository(docs)
    key = {"tenant": {"S": "t1"}, "slug": {"S": "intro"}}
    await dynamorm_db.client.put_item(TableName=repo.table, Item={**key, "body": {"S": "old"}})
    loaded = await repo.get(("t1", "intro"))
    assert loaded == Doc("t1", "intro", "old", rev=0)
    updated = await repo.update(loaded, set={"body": "new"})
    assert updated == Doc("t1", "intro", "new", rev=1)
    response = await dynamorm_db.client.get_item(TableName=repo.table, Key=key)
    assert response["Item"] == {**key, "body": {"S": "new"}, "_rev": {"N": "1"}}
    with pytest.raises(VersionConflict) as info:
        await repo.delete(loaded)
    assert info.value.message == (
        "Doc was changed by someone else: expected version 0 (never stored) but a "
        "versioned one exists"
    )
    await repo.delete(updated)
    assert await repo.get(("t1", "intro")) is None
