"""Shared by the query and scan tests: fast seeding, and a log of what is sent.

`seed` writes objects with the raw aiobotocore client's BatchWriteItem (25 items a
request, a few requests at a time), encoded by the mapper exactly as `put` would.
`sent_requests` records every request the `Database`'s real client sends, through
botocore's event hooks (nothing is mocked: the requests still reach the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from dynamorm_async import Database, Mapper

_hook_ids = itertools.count(1)


async def seed(db: Database, mapper: Mapper[Any], objects: Iterable[Any]) -> None:
    """Write `objects` to the mapper's table with BatchWriteItem."""
    table = db.table_name(mapper)
    requests = [{"PutRequest": {"Item": mapper.encode(obj)}} for obj in objects]
    chunks = [requests[i : i + 25] for i in range(0, len(requests), 25)]
    limit = asyncio.Semaphore(4)

    async def write(chunk: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: chunk}
        async with limit:
            while pending:
                response = await db.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    await asyncio.gather(*(write(chunk) for chunk in chunks))


@contextlib.contextmanager
def sent_requests(db: Database) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """``(operation, params)`` of every request `db`'s client sends inside the block."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        sent.append((model.name, copy.deepcopy(params)))

    event = "provide-client-params.dynamodb.*"
    unique_id = f"dynamorm-query-tests-{next(_hook_ids)}"
    db.client.meta.events.register(event, record, unique_id=unique_id)
    try:
        yield sent
    finally:
        db.client.meta.events.unregister(event, unique_id=unique_id)


async def new_tasks_left(before: set[asyncio.Task[Any]], *, within: float = 2.0) -> set[Any]:
    """Tasks not in `before` still running after a short while (``set()`` once all end).

    Cancelled tasks end on the loop's next turns, and an async generator dropped by a
    ``break`` is closed by the loop soon after: poll rather than sleep a fixed time.
    """
    left: set[Any] = set()
    for _ in range(int(within / 0.05)):
        await asyncio.sleep(0.05)
        left = asyncio.all_tasks() - before
        if not left:
            break
    return left


def keys(objects: Iterable[Any], *fields: str) -> list[tuple[Any, ...]]:
    """The `fields` of each object (or dict), in order: to compare results readably."""
    out = []
    for obj in objects:
        if isinstance(obj, dict):
            out.append(tuple(obj[f] for f in fields))
        else:
            out.append(tuple(getattr(obj, f) for f in fields))
    return out
