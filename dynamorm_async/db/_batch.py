"""Batch reads: BatchGetItem in chunks of 100 keys, run concurrently, with the keys
DynamoDB leaves unprocessed retried with backoff; and TransactGetItems."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import anyio

from dynamorm_async.errors import (
    BatchGetError,
    DynamORMError,
    ThrottledError,
    ValidationError,
    readable_key,
)
from dynamorm_async.transport import reading

if TYPE_CHECKING:
    from dynamorm_async.db._database import Database
    from dynamorm_async.db._repository import Repository

__all__ = [
    "MAX_BATCH_GET",
    "MAX_TRANSACT_GET",
    "Identity",
    "Unprocessed",
    "batch_get",
    "identity",
    "transact_get",
]

MAX_BATCH_GET = 100
MAX_TRANSACT_GET = 100

Identity = tuple[str, tuple[Any, ...]]


def identity(table: str, key: Mapping[str, Any]) -> Identity:
    """An item's identity: its table and its stored key, hashable.

    Numbers compare by value: DynamoDB returns ``"1.50"`` as ``"1.5"``.
    """
    parts = []
    for name, av in key.items():
        ((tag, value),) = av.items()
        parts.append((name, tag, Decimal(value) if tag == "N" else value))
    return (table, tuple(sorted(parts)))


class Unprocessed(DynamORMError):
    """A batch left items or keys unprocessed (retried with backoff, then reported).

    Attributes:
        throttled: the throttling error, when DynamoDB refused the whole batch.
    """

    def __init__(self, count: int, what: str, throttled: ThrottledError | None = None) -> None:
        super().__init__(
            f"DynamoDB left {count} {what} unprocessed (throughput) until the retry budget ran out"
        )
        self.throttled = throttled


async def batch_get(
    database: Database,
    wanted: Sequence[tuple[Repository[Any], dict[str, Any]]],
    *,
    consistent: bool = False,
    concurrency: int = 8,
    attempts: int = 10,
    deadline: float | None = 60.0,
) -> dict[Identity, dict[str, Any]]:
    """The stored items of `wanted` (repository, stored key), by identity; keys with no
    item are absent. Raises `BatchGetError` if keys stay unprocessed."""
    unique: dict[Identity, tuple[Repository[Any], dict[str, Any]]] = {}
    for repository, key in wanted:  # DynamoDB refuses a key twice in one request
        unique.setdefault(identity(repository.table, key), (repository, key))
    entries = list(unique.items())
    chunks = [entries[i : i + MAX_BATCH_GET] for i in range(0, len(entries), MAX_BATCH_GET)]
    found: dict[Identity, dict[str, Any]] = {}
    left: list[tuple[str, dict[str, Any]]] = []
    errors: list[Exception] = []
    limiter = anyio.CapacityLimiter(concurrency)
    policy = database.transport.retry_policy

    async def read(chunk: list[tuple[Identity, tuple[Repository[Any], dict[str, Any]]]]) -> None:
        """Read one chunk, retrying its unprocessed keys; record what stays unread."""
        pending = dict(chunk)
        retrying = policy.retrying(
            attempts, retry_if=lambda e: isinstance(e, Unprocessed), deadline=deadline
        )
        async with limiter:
            try:
                async for attempt in retrying:
                    with attempt:
                        pending = await _read(database, pending, consistent, found)
                        if pending:
                            raise Unprocessed(len(pending), "key(s)")
            except Unprocessed:
                left.extend((r.table, readable_key(k)) for r, k in pending.values())
            except Exception as exc:  # raised below, not as an ExceptionGroup
                errors.append(exc)

    async with anyio.create_task_group() as group:
        for chunk in chunks:
            group.start_soon(read, chunk)
    if errors:  # a request failed after its retries: its own error, typed
        raise errors[0]
    if left:
        raise BatchGetError(
            f"{len(left)} key(s) were still unprocessed when the retry budget ran out",
            unprocessed=tuple(left),
            found=found,
            operation="BatchGetItem",
        )
    return found


async def _read(
    database: Database,
    pending: dict[Identity, tuple[Repository[Any], dict[str, Any]]],
    consistent: bool,
    found: dict[Identity, dict[str, Any]],
) -> dict[Identity, tuple[Repository[Any], dict[str, Any]]]:
    """One BatchGetItem of `pending`; items go into `found`; returns the unprocessed."""
    request: dict[str, dict[str, Any]] = {}
    tables: dict[str, Repository[Any]] = {}
    for repository, key in pending.values():
        table = request.setdefault(repository.table, {"Keys": []})
        table["Keys"].append(key)
        if consistent:
            table["ConsistentRead"] = True
        tables[repository.table] = repository
    response = await database.transport.call("BatchGetItem", {"RequestItems": request})
    left: dict[Identity, tuple[Repository[Any], dict[str, Any]]] = {}
    # Items of a table or a key never asked for, or without their key: malformed.
    with reading("BatchGetItem"):
        for table, items in (response.get("Responses") or {}).items():
            mapper = tables[table].mapper
            names = [mapper.stored_name(field) for field in mapper.key_fields]
            for item in items:
                ident = identity(table, {name: item[name] for name in names})
                if ident not in pending:
                    raise KeyError(f"an item of {table!r} that was not asked for")
                found[ident] = item
        for table, unprocessed in (response.get("UnprocessedKeys") or {}).items():
            for key in unprocessed.get("Keys", []):
                ident = identity(table, key)
                left[ident] = pending[ident]
    return left


async def transact_get(
    database: Database, wanted: Sequence[tuple[Repository[Any], dict[str, Any]]]
) -> list[dict[str, Any] | None]:
    """The stored items of `wanted`, read atomically (TransactGetItems), in order."""
    if len(wanted) > MAX_TRANSACT_GET:
        raise ValidationError(
            f"transact_get reads at most {MAX_TRANSACT_GET} items, got {len(wanted)}",
            operation="TransactGetItems",
        )
    if not wanted:
        return []
    seen = {identity(r.table, key) for r, key in wanted}
    if len(seen) != len(wanted):
        raise ValidationError(
            "transact_get reads each item once: the keys repeat", operation="TransactGetItems"
        )
    items = [{"Get": {"TableName": r.table, "Key": key}} for r, key in wanted]
    response = await database.transport.call("TransactGetItems", {"TransactItems": items})
    with reading("TransactGetItems"):
        found = [entry.get("Item") for entry in response["Responses"]]
        if len(found) != len(wanted):
            raise ValueError(f"{len(found)} responses for {len(wanted)} keys")
        return found
