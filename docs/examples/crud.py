"""Repositories: get, put, create, update and delete, key forms, and optimistic locking."""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import attrs

from dynamorm_async import (
    ConversionError,
    Database,
    DynamORMError,
    ItemAlreadyExists,
    ItemNotFound,
    Mapper,
    VersionConflict,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb

E = TypeVar("E", bound=DynamORMError)


@attrs.define
class Book:
    author: str
    title: str
    year: int
    pages: int = 0
    tags: frozenset[str] = frozenset()
    subtitle: str | None = None


books = Mapper(Book, table="books", partition_key="author", sort_key="title")


@attrs.define
class Account:
    id: str
    owner: str
    balance: int = 0
    version: int = 0


accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")


async def expect(error: type[E], pending: Awaitable[object]) -> E:
    """Await a call that must raise `error`; print and return the error."""
    try:
        await pending
    except error as exc:
        print(f"{type(exc).__name__}: {exc.message}")
        return exc
    raise AssertionError(f"{error.__name__} was not raised")


async def books_tour(db: Database) -> None:
    repo = db.repository(books)

    # put: writes the whole item, replacing any item with the same key.
    ddia = await repo.put(Book("Kleppmann", "DDIA", 2017, pages=611))

    # Key forms: a (partition, sort) tuple, a dict of field names, or the object itself.
    assert await repo.get(("Kleppmann", "DDIA")) == ddia
    assert await repo.get({"author": "Kleppmann", "title": "DDIA"}) == ddia
    assert await repo.get(ddia, consistent=True) == ddia  # a strongly consistent read
    assert await repo.get(("Kleppmann", "Missing")) is None
    await expect(ItemNotFound, repo.get_or_raise(("Kleppmann", "Missing")))

    # projection: fetch only some fields (the key is always fetched). Fields left out
    # take their defaults, so every field without a default must be projected.
    slim = await repo.get(ddia, projection=["year"])
    assert slim == Book("Kleppmann", "DDIA", 2017)  # pages is back to its default, 0
    await expect(ConversionError, repo.get(ddia, projection=["pages"]))

    # create: like put, but only if no item has the key.
    taken = await expect(ItemAlreadyExists, repo.create(Book("Kleppmann", "DDIA", 2018)))
    assert taken.item == ddia  # the stored item, decoded

    # put(return_old=True) returns the item it replaced (None if there was none).
    old = await repo.put(attrs.evolve(ddia, pages=616), return_old=True)
    assert old == ddia

    # update: change some attributes; by default it returns the item after the update.
    new = await repo.update(
        ("Kleppmann", "DDIA"),
        set={"subtitle": "The Big Ideas"},
        add={"pages": 2, "tags": {"databases", "distributed"}},
    )
    assert new is not None
    assert new.pages == 618
    assert new.tags == {"databases", "distributed"}
    before = await repo.update(
        new, delete={"tags": {"distributed"}}, remove=["subtitle"], return_values="ALL_OLD"
    )
    assert before == new
    assert await repo.update(new, set={"year": 2017}, return_values="NONE") is None

    # An update of a missing key is refused, unless it is asked to be an "upsert".
    await expect(ItemNotFound, repo.update(("Fowler", "PoEAA"), set={"year": 2002}))
    created = await repo.update(("Fowler", "Refactoring"), set={"year": 1999}, upsert=True)
    assert created == Book("Fowler", "Refactoring", 1999)

    # delete: by key or object; deleting a missing item is not an error.
    gone = await repo.delete(("Fowler", "Refactoring"), return_old=True)
    assert gone == created
    assert await repo.delete(("Fowler", "Refactoring"), return_old=True) is None


async def locking_tour(db: Database) -> None:
    repo = db.repository(accounts)

    # A versioned put expects the stored version to equal the object's (0: no item
    # yet) and stores version + 1. Keep the object put() returns for the next write.
    alice = await repo.put(Account("a1", "alice"))
    assert alice.version == 1

    alice = await repo.update(alice, add={"balance": 100})  # checks 1, stores 2
    assert alice is not None
    assert (alice.balance, alice.version) == (100, 2)

    # A writer holding an older copy is refused, and told what is stored now.
    stale = attrs.evolve(alice, version=1)
    conflict = await expect(VersionConflict, repo.put(attrs.evolve(stale, balance=0)))
    assert conflict.item == alice

    # Putting a new object (version 0) over an existing item is a conflict too.
    await expect(VersionConflict, repo.put(Account("a1", "mallory")))

    # An update by key (not by object) bumps the version without checking it.
    bumped = await repo.update("a1", add={"balance": -30})
    assert bumped is not None
    assert (bumped.balance, bumped.version) == (70, 3)

    # Deleting an object checks its version; deleting by key does not.
    await expect(VersionConflict, repo.delete(alice))  # alice is version 2, stored is 3
    await repo.delete(bumped)
    assert await repo.get("a1") is None


async def main() -> None:
    async with (
        local_dynamodb() as url,
        Database.connect(url, mappers=[books, accounts], **LOCAL_CREDENTIALS) as db,
    ):
        await db.schema.ensure(books)
        await db.schema.ensure(accounts)
        await books_tour(db)
        await locking_tour(db)
        print("done")


if __name__ == "__main__":
    asyncio.run(main())
