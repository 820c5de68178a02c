"""Errors: one tree under DynamORMError, each error with its context."""

import asyncio
import math
import socket
from collections.abc import Awaitable
from typing import TypeVar

import attrs

from dynamorm_async import (
    ConditionFailed,
    ConversionError,
    Database,
    DynamoDBError,
    DynamORMError,
    ItemAlreadyExists,
    ItemNotFound,
    ItemTooLarge,
    Mapper,
    MappingError,
    TableNotFound,
    TransportError,
    ValidationError,
    VersionConflict,
    attr,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb

E = TypeVar("E", bound=DynamORMError)


@attrs.define
class Note:
    id: str
    text: str
    score: float = 0.0
    meta: dict[str, str] | None = None
    version: int = 0


notes = Mapper(Note, table="notes", partition_key="id", version_attribute="version")
never_created = Mapper(Note, table="never-created", partition_key="id")


def report(exc: DynamORMError) -> None:
    """Print an error and its context."""
    print(f"{type(exc).__name__}: {exc}")
    print(f"    table={exc.table!r} operation={exc.operation!r} key={exc.key!r}")
    if exc.expressions:
        print(f"    expressions={exc.expressions!r}")


async def expect(error: type[E], pending: Awaitable[object]) -> E:
    """Await a call that must raise `error`; report and return the error."""
    try:
        await pending
    except error as exc:
        report(exc)
        return exc
    raise AssertionError(f"{error.__name__} was not raised")


def unused_local_url() -> str:
    """The URL of a local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def main() -> None:
    # MappingError (a TypeError): the mapping is wrong; raised when it is built.
    try:
        Mapper(Note, table="notes", partition_key="id", version_attribute="score")
    except MappingError as exc:
        report(exc)
    else:
        raise AssertionError("the mapping was accepted")

    async with (
        local_dynamodb() as url,
        Database.connect(url, mappers=[notes], **LOCAL_CREDENTIALS) as db,
    ):
        await db.schema.ensure(notes)
        repo = db.repository(notes)
        note = await repo.put(Note("n1", "hello"))

        print("\n-- found before sending: nothing reaches DynamoDB --")
        # ConversionError (a ValueError): a value DynamoDB cannot hold.
        bad = await expect(ConversionError, repo.put(attrs.evolve(note, score=math.inf)))
        assert (bad.cls, bad.field) == (Note, "score")
        # ValidationError (a ValueError): an invalid request (here: an empty key).
        await expect(ValidationError, repo.get(""))
        # ItemTooLarge (a ValidationError): over 400 KB, with the size DynamoDB would count.
        big = await expect(ItemTooLarge, repo.put(attrs.evolve(note, text="x" * 500_000)))
        assert big.size > big.limit == 400 * 1024

        print("\n-- found by DynamoDB --")
        # ItemNotFound (a LookupError): get_or_raise() found no item.
        await expect(ItemNotFound, repo.get_or_raise("n2"))
        # ConditionFailed: .item is the stored item, decoded.
        failed = await expect(
            ConditionFailed, repo.update(note, set={"text": "hi"}, condition=attr("score") > 1)
        )
        assert failed.item == note
        # ItemAlreadyExists (a ConditionFailed): create() found the key taken.
        await expect(ItemAlreadyExists, repo.create(Note("n1", "again")))
        # VersionConflict (a ConditionFailed): the stored version is not the one loaded.
        await expect(VersionConflict, repo.put(attrs.evolve(note, version=0)))
        # ValidationError from DynamoDB's ValidationException: "meta" is not a map yet.
        await expect(ValidationError, repo.update("n1", set={"meta.color": "red"}))
        # TableNotFound (a LookupError).
        await expect(TableNotFound, db.repository(never_created).get("n1"))
        # DynamoDBError: any other error, with DynamoDB's error code.
        other = await expect(DynamoDBError, db.schema.create(notes))
        assert other.code == "ResourceInUseException"

        # A stored item that does not fit the class: ConversionError on read,
        # naming the field and the item's key.
        await db.client.put_item(
            TableName=db.table_name(notes), Item={"id": {"S": "n3"}, "text": {"N": "1"}}
        )
        unreadable = await expect(ConversionError, repo.get("n3"))
        assert (unreadable.field, unreadable.key) == ("text", {"id": "n3"})

    print("\n-- DynamoDB cannot be reached --")
    async with Database.connect(
        unused_local_url(), mappers=[notes], max_attempts=1, **LOCAL_CREDENTIALS
    ) as db:
        await expect(TransportError, db.repository(notes).get("n1"))

    # Catch DynamORMError to handle every error of the library.
    assert issubclass(VersionConflict, DynamORMError)


if __name__ == "__main__":
    asyncio.run(main())
