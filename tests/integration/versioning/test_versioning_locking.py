"""Optimistic locking with `version_attribute`, checked by the server."""

from __future__ import annotations

import attrs
import pytest
from _versioning_models import Account, Doc, accounts, docs

from dynamorm_async import (
    ConditionFailed,
    ItemAlreadyExists,
    ItemNotFound,
    ValidationError,
    VersionConflict,
    attr,
)


@pytest.fixture
def dynamorm_mappers():
    return [accounts]


@pytest.fixture
def repo(dynamorm_db):
    return dynamorm_db.repository(accounts)


async def stored_version(db, repo, key: str) -> str | None:
    response = await db.client.get_item(
        TableName=repo.table, Key={"id": {"S": key}}, ConsistentRead=True
    )
    item = response.get("Item")
    return None if item is None else item["version"]["N"]


async def test_put_new_object_stores_version_1(repo, dynamorm_db):
    account = Account("a1", 100)
    stored = await repo.put(account)
    assert stored == Account("a1", 100, version=1)
    assert account.version == 0  # the caller's object is not changed
    assert await stored_version(dynamorm_db, repo, "a1") == "1"
    assert await repo.get("a1") == stored


async def test_successive_puts_bump_version(repo):
    stored = await repo.put(Account("a1", 100))
    stored = await repo.put(attrs.evolve(stored, balance=90))
    assert stored.version == 2
    stored = await repo.put(attrs.evolve(stored, balance=80))
    assert stored.version == 3
    assert await repo.get("a1") == Account("a1", 80, version=3)


async def test_put_new_object_over_existing_item_is_version_conflict(repo):
    current = await repo.put(Account("a1", 100))
    with pytest.raises(VersionConflict) as info:
        await repo.put(Account("a1", 5))
    exc = info.value
    assert isinstance(exc, ConditionFailed)
    assert exc.item == current
    assert exc.table == repo.table
    assert exc.operation == "PutItem"
    assert await repo.get("a1") == current


async def test_stale_put_raises_version_conflict_with_current_item(repo, dynamorm_db):
    loaded = await repo.put(Account("a1", 100))
    current = await repo.put(attrs.evolve(loaded, balance=50))  # someone else writes
    with pytest.raises(VersionConflict) as info:
        await repo.put(attrs.evolve(loaded, balance=1))
    exc = info.value
    assert exc.item == current
    assert isinstance(exc.item, Account)
    assert repo.table in str(exc)
    assert "PutItem" in str(exc)
    assert await repo.get("a1", consistent=True) == current
    assert await stored_version(dynamorm_db, repo, "a1") == "2"


async def test_put_of_loaded_object_after_item_was_deleted_is_version_conflict(repo):
    loaded = await repo.put(Account("a1", 100))
    await repo.delete("a1")
    with pytest.raises(VersionConflict) as info:
        await repo.put(attrs.evolve(loaded, balance=1))
    assert info.value.item is None
    assert await repo.get("a1") is None


async def test_put_return_old_with_version(repo):
    first = await repo.put(Account("a1", 100))
    old = await repo.put(attrs.evolve(first, balance=1), return_old=True)
    assert old == first
    assert await repo.get("a1") == Account("a1", 1, version=2)


async def test_user_condition_failing_with_current_version_is_condition_failed(repo):
    loaded = await repo.put(Account("a1", 100))
    with pytest.raises(ConditionFailed) as info:
        await repo.put(attrs.evolve(loaded, balance=1), condition=attr("balance") > 500)
    assert type(info.value) is ConditionFailed  # not a version problem
    assert info.value.item == loaded
    with pytest.raises(ConditionFailed) as info:
        await repo.update(loaded, set={"balance": 1}, condition=attr("balance") > 500)
    assert type(info.value) is ConditionFailed
    assert await repo.get("a1") == loaded


async def test_create_versioned(repo):
    created = await repo.create(Account("a1", 100))
    assert created.version == 1
    with pytest.raises(ItemAlreadyExists) as info:
        await repo.create(Account("a1", 5))
    assert info.value.item == created


async def test_update_of_loaded_object_checks_and_bumps_version(repo, dynamorm_db):
    loaded = await repo.put(Account("a1", 100))
    updated = await repo.update(loaded, set={"balance": 90})
    assert updated == Account("a1", 90, version=2)
    updated = await repo.update(updated, add={"balance": 5})
    assert updated == Account("a1", 95, version=3)
    assert await stored_version(dynamorm_db, repo, "a1") == "3"


async def test_update_of_stale_object_raises_version_conflict(repo):
    loaded = await repo.put(Account("a1", 100))
    current = await repo.update(loaded, set={"balance": 90})
    with pytest.raises(VersionConflict) as info:
        await repo.update(loaded, set={"balance": 0})
    exc = info.value
    assert exc.item == current
    assert exc.operation == "UpdateItem"
    assert repo.table in str(exc)
    assert await repo.get("a1", consistent=True) == current


async def test_update_of_loaded_object_after_item_was_deleted_is_version_conflict(repo):
    loaded = await repo.put(Account("a1", 100))
    await repo.delete("a1")
    with pytest.raises(VersionConflict) as info:
        await repo.update(loaded, set={"balance": 1})
    assert info.value.item is None
    assert await repo.get("a1", consistent=True) is None


async def test_update_of_never_stored_object_raises_item_not_found(repo, dynamorm_db):
    # Without upsert an update never creates an item: one made of the updated
    # attributes only (no balance) could not be read back as an Account.
    with pytest.raises(ItemNotFound):
        await repo.update(Account("a9", 5), set={"owner": "x"})
    assert await stored_version(dynamorm_db, repo, "a9") is None  # nothing written


async def test_update_by_key_of_missing_item_raises_item_not_found(repo):
    with pytest.raises(ItemNotFound):
        await repo.update("a1", set={"balance": 1})
    assert await repo.get("a1", consistent=True) is None


async def test_update_by_key_bumps_version_without_checking(repo):
    await repo.put(Account("a1", 100))
    updated = await repo.update("a1", set={"balance": 1})
    assert updated == Account("a1", 1, version=2)
    updated = await repo.update("a1", add={"balance": 1})
    assert updated == Account("a1", 2, version=3)


async def test_update_of_version_attribute_is_refused(repo):
    loaded = await repo.put(Account("a1", 100))
    with pytest.raises(ValidationError):
        await repo.update(loaded, set={"version": 10})
    assert await repo.get("a1") == loaded


async def test_delete_of_stale_object_raises_version_conflict(repo):
    loaded = await repo.put(Account("a1", 100))
    current = await repo.update(loaded, set={"owner": "bob"})
    with pytest.raises(VersionConflict) as info:
        await repo.delete(loaded)
    exc = info.value
    assert exc.item == current
    assert exc.operation == "DeleteItem"
    assert await repo.get("a1", consistent=True) == current
    # The current object deletes.
    assert await repo.delete(current, return_old=True) == current
    assert await repo.get("a1") is None


async def test_delete_of_never_stored_object_does_not_delete_stored_item(repo):
    # An object at version 0 was never stored: "deleted only if its version is
    # current" must not let it delete someone else's item at version 3.
    stored = await repo.put(Account("a1", 100))
    stored = await repo.put(stored)
    stored = await repo.put(stored)
    assert stored.version == 3
    with pytest.raises(VersionConflict) as info:
        await repo.delete(Account("a1", 0))
    assert info.value.item == stored
    assert await repo.get("a1", consistent=True) == stored


async def test_delete_of_never_stored_object_with_no_item_is_no_error(repo):
    assert await repo.delete(Account("a1", 0)) is None
    assert await repo.get("a1") is None


async def test_delete_by_key_does_not_check_version(repo):
    await repo.put(Account("a1", 100))
    await repo.delete("a1")
    assert await repo.get("a1") is None


async def test_negative_version_is_refused_before_sending(repo):
    with pytest.raises(ValidationError):
        await repo.put(Account("a1", 100, version=-1))
    assert await repo.get("a1") is None


async def test_updates_from_one_loaded_object_one_wins(repo):
    loaded = await repo.put(Account("a1", 100))

    async def withdraw(amount: int) -> Account | VersionConflict:
        try:
            result = await repo.update(loaded, set={"balance": loaded.balance - amount})
        except VersionConflict as exc:
            return exc
        assert result is not None
        return result

    # One after the other from the same loaded object: moto's server does not isolate
    # concurrent conditional writes of one item, so true concurrency is for DynamoDB Local.
    outcomes = [await withdraw(10), await withdraw(30)]
    winners = [o for o in outcomes if isinstance(o, Account)]
    losers = [o for o in outcomes if isinstance(o, VersionConflict)]
    assert len(winners) == 1
    assert len(losers) == 1
    winner = winners[0]
    assert winner.version == 2
    assert winner.balance == 90
    assert losers[0].item == winner
    assert await repo.get("a1", consistent=True) == winner


async def test_puts_from_one_loaded_object_one_wins(repo):
    loaded = await repo.put(Account("a1", 100))
    results: list[object] = []
    for n in range(5):  # one after the other (see above)
        try:
            results.append(await repo.put(attrs.evolve(loaded, balance=n)))
        except VersionConflict as exc:
            results.append(exc)
    stored = [r for r in results if isinstance(r, Account)]
    conflicts = [r for r in results if isinstance(r, VersionConflict)]
    assert len(stored) == 1
    assert len(conflicts) == 4
    assert await repo.get("a1", consistent=True) == stored[0]
    assert all(c.item == stored[0] for c in conflicts)


@pytest.mark.parametrize("dynamorm_mappers", [[docs]])
async def test_versioned_composite_key_with_renamed_version(dynamorm_db):
    repo = dynamorm_db.repository(docs)
    stored = await repo.put(Doc("t1", "intro", "hello"))
    assert stored.rev == 1
    response = await dynamorm_db.client.get_item(
        TableName=repo.table, Key={"tenant": {"S": "t1"}, "slug": {"S": "intro"}}
    )
    assert response["Item"]["_rev"] == {"N": "1"}
    assert "rev" not in response["Item"]
    updated = await repo.update(stored, set={"body": "hi"})
    assert updated == Doc("t1", "intro", "hi", 2)
    with pytest.raises(VersionConflict) as info:
        await repo.update(stored, set={"body": "stale"})
    assert info.value.item == updated
    with pytest.raises(VersionConflict):
        await repo.delete(stored)
    await repo.delete(updated)
    assert await repo.get(("t1", "intro")) is None
