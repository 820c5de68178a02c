"""Shared by the unit-of-work, transaction and batch-read tests.

* The classes and mappers the tests write: `Event` (composite key), `Tag` (simple
  key) and the versioned `Account`.
* `sent_requests` records every request the `Database`'s real client sends, through
  botocore's event hooks (nothing is mocked: the requests still reach the server).
* `stored` reads a whole table with the raw client (consistent scans, every page).
* `Faults` wraps our own `Transport._send` (never aiobotocore): for BatchWriteItem
  and BatchGetItem it forwards only some items of each request to the real server
  and hands the rest back as DynamoDB does (UnprocessedItems / UnprocessedKeys), and
  it can fail a request before forwarding it, or after (the server applied it, the
  response is lost). Its decisions are drawn from a seed and the request's content
  (tables by their mapper's name), so concurrent chunks get the same faults whatever
  order they run in, and an example replays with the same faults.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import attrs

from dynamorm_async import (
    Database,
    DynamoDBError,
    Mapper,
    RetryPolicy,
    ThrottledError,
    TransportError,
)

# --- classes and mappers ---------------------------------------------------------------


@attrs.define
class Event:
    stream: str
    seq: int
    kind: str = ""
    payload: str = ""


events = Mapper(Event, table="events", partition_key="stream", sort_key="seq")


@attrs.define
class Tag:
    id: str
    label: str = ""
    count: int = 0


tags = Mapper(Tag, table="tags", partition_key="id")


@attrs.define
class Account:
    id: str
    balance: int
    owner: str = ""
    version: int = 0


accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")


async def run_writes(unit: Any, build: Callable[[Any], object]) -> Any:
    """``async with unit as u: build(u)``: a unit of work or transaction committed as a
    block commits it, in one statement (for ``pytest.raises``). Returns `unit`."""
    async with unit as writes:
        build(writes)
    return unit


def fast_retries(db: Database, attempts: int = 4) -> RetryPolicy:
    """A retry policy with tiny backoffs, so that injected faults cost milliseconds."""
    policy = RetryPolicy(attempts=attempts, base=0.001, max_backoff=0.005)
    db.transport.retry_policy = policy
    return policy


# --- what was sent ---------------------------------------------------------------------

_hook_ids = itertools.count(1)


@contextlib.contextmanager
def sent_requests(db: Database) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """``(operation, params)`` of every request `db`'s client sends inside the block."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        sent.append((model.name, copy.deepcopy(params)))

    event = "provide-client-params.dynamodb.*"
    unique_id = f"dynamorm-writes-tests-{next(_hook_ids)}"
    db.client.meta.events.register(event, record, unique_id=unique_id)
    try:
        yield sent
    finally:
        db.client.meta.events.unregister(event, unique_id=unique_id)


def operations(sent: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The operation names of `sent`, in order."""
    return [name for name, _ in sent]


# --- what is stored --------------------------------------------------------------------

Ident = tuple[str, tuple[tuple[str, Any], ...]]


def ident(table: str, key: Mapping[str, Any]) -> Ident:
    """An item's identity for the tests: its table and its key as `WriteFailure.key`
    and `BatchGetError.unprocessed` show it (stored names, values as on the wire)."""
    readable = {
        name: next(iter(value.values())) if isinstance(value, Mapping) else value
        for name, value in key.items()
    }
    return (table, tuple(sorted(readable.items())))


def key_names(mapper: Mapper[Any]) -> list[str]:
    return [mapper.stored_name(field) for field in mapper.key_fields]


async def stored(db: Database, mapper: Mapper[Any]) -> dict[Ident, Any]:
    """Every item of the mapper's table, decoded, by identity (consistent scans)."""
    table = db.table_name(mapper)
    names = key_names(mapper)
    out: dict[Ident, Any] = {}
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        response = await db.client.scan(**request)
        for item in response.get("Items", []):
            out[ident(table, {n: item[n] for n in names})] = mapper.decode(item)
        last = response.get("LastEvaluatedKey")
        if not last:
            return out
        request["ExclusiveStartKey"] = last


async def count_items(db: Database, mapper: Mapper[Any]) -> int:
    """How many items the mapper's table holds (Select=COUNT, every page)."""
    request: dict[str, Any] = {"TableName": db.table_name(mapper), "Select": "COUNT"}
    total = 0
    while True:
        response = await db.client.scan(**request)
        total += response["Count"]
        last = response.get("LastEvaluatedKey")
        if not last:
            return total
        request["ExclusiveStartKey"] = last


async def raw_put(db: Database, mapper: Mapper[Any], objects: list[Any]) -> None:
    """Write `objects` with the raw client (BatchWriteItem), bypassing the library."""
    table = db.table_name(mapper)
    entries = [{"PutRequest": {"Item": mapper.encode(obj)}} for obj in objects]
    for start in range(0, len(entries), 25):
        pending: dict[str, Any] = {table: entries[start : start + 25]}
        while pending:
            response = await db.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}


# --- faults at our own transport ---------------------------------------------------------


@attrs.define
class FaultPlan:
    """How a `Faults` wrapper misbehaves; every choice is drawn from `seed`.

    Attributes:
        seed: seeds every decision.
        hold_back: chance that an item of a request is handed back unprocessed.
        stuck: chance that an item is handed back on every attempt (decided per item).
        error: chance that a request fails (throttled, HTTP 500 or a dropped connection),
            before it is forwarded or after (applied, response lost).
        error_once: fail a given request content at most once, so that the transport's
            own retries always get through.
        kinds: the errors to choose from.
        when: when a failing request fails: "before" forwarding it, "after" (applied).
    """

    seed: int = 0
    hold_back: float = 0.0
    stuck: float = 0.0
    error: float = 0.0
    error_once: bool = False
    kinds: tuple[str, ...] = ("throttled", "server", "transport")
    when: tuple[str, ...] = ("before", "after")


def injected_error(kind: str, operation: str) -> Exception:
    """An error built as the transport builds it from a real failure."""
    if kind == "throttled":
        return ThrottledError(
            "Rate of requests exceeds the allowed throughput (injected)",
            code="ThrottlingException",
            http_status=400,
            operation=operation,
        )
    if kind == "server":
        return DynamoDBError(
            "InternalServerError: injected",
            code="InternalServerError",
            http_status=500,
            operation=operation,
        )
    return TransportError(
        "ConnectionError: injected dropped connection", retryable=True, operation=operation
    )


class Faults:
    """Replaces ``db.transport._send`` (an instance attribute, restored on exit).

    Records, by item identity: `forwarded` (the server received it: a write was
    applied, a key was read), `lost` (forwarded in a request whose response was then
    dropped) and `answered` (its response reached the library). `requests` counts the
    requests per operation that reached the wrapper (transport retries included);
    `problems` lists malformed requests (over the limits, or a key twice).
    """

    LIMITS: ClassVar[dict[str, int]] = {"BatchWriteItem": 25, "BatchGetItem": 100}

    def __init__(
        self,
        db: Database,
        plan: FaultPlan,
        mappers: list[Mapper[Any]],
        operations: tuple[str, ...] = ("BatchWriteItem", "BatchGetItem"),
        run_tag: str | None = None,
    ) -> None:
        self.db = db
        self.plan = plan
        self.operations = operations
        self.run_tag = run_tag
        self.names = {db.table_name(m): key_names(m) for m in mappers}
        self.logical = {db.table_name(m): m.table for m in mappers}
        self.forwarded: set[Ident] = set()
        self.lost: set[Ident] = set()
        self.answered: set[Ident] = set()
        self.requests: Counter[str] = Counter()
        self.problems: list[str] = []
        self.consistent: list[bool] = []
        self._seen: Counter[str] = Counter()
        self._original: Any = None

    def __enter__(self) -> Faults:
        transport = self.db.transport
        self._original = transport._send
        transport._send = self._send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.db.transport._send  # the class's method again

    def _canonical(self, item: Ident) -> str:
        """`item` without what changes between runs and examples (the tables' prefix,
        the run tag in keys), so that an example replays with the same faults."""
        table, key = item
        text = repr((self.logical[table], key))
        return text.replace(self.run_tag, "#") if self.run_tag else text

    def _stuck(self, item: Ident) -> bool:
        seed = f"{self.plan.seed}|stuck|{self._canonical(item)}"
        return random.Random(seed).random() < self.plan.stuck

    async def _send(
        self, operation: str, request: dict[str, Any], key: dict[str, Any] | None
    ) -> dict[str, Any]:
        if operation not in self.operations:
            return await self._original(operation, request, key)
        self.requests[operation] += 1
        writes = operation == "BatchWriteItem"
        entries = self._entries(operation, request)
        if not writes:
            self.consistent += [
                bool(v.get("ConsistentRead")) for v in request["RequestItems"].values()
            ]
        idents = [i for _, _, i in entries]
        if len(entries) > self.LIMITS[operation]:
            self.problems.append(f"{operation} of {len(entries)} entries")
        if len(set(idents)) != len(idents):
            self.problems.append(f"{operation} names an item twice: {sorted(idents)}")
        content = f"{operation}|{sorted(map(self._canonical, idents))!r}"
        attempt = self._seen[content]
        self._seen[content] += 1
        rng = random.Random(f"{self.plan.seed}|{content}|{attempt}")
        held = {i for i in idents if self._stuck(i) or rng.random() < self.plan.hold_back}
        error: tuple[str, str] | None = None
        may_fail = not (self.plan.error_once and attempt > 0)
        if may_fail and rng.random() < self.plan.error:
            error = (rng.choice(self.plan.kinds), rng.choice(self.plan.when))
        if error is not None and error[1] == "before":
            raise injected_error(error[0], operation)
        forward = [(t, e, i) for t, e, i in entries if i not in held]
        response: dict[str, Any] = {}
        if forward:
            response = await self._original(operation, self._request(request, forward), key)
            self.forwarded.update(i for _, _, i in forward)
        if error is not None:
            self.lost.update(i for _, _, i in forward)
            raise injected_error(error[0], operation)
        back = [(t, e, i) for t, e, i in entries if i in held]
        if writes:
            unprocessed = copy.deepcopy(response.get("UnprocessedItems") or {})
            for table, entry, _ in back:
                unprocessed.setdefault(table, []).append(copy.deepcopy(entry))
            real_left = {i for t, e, i in self._entries(operation, {"RequestItems": unprocessed})}
            response = {**response, "UnprocessedItems": unprocessed}
        else:
            unprocessed = copy.deepcopy(response.get("UnprocessedKeys") or {})
            for table, entry, _ in back:
                shape = {k: v for k, v in request["RequestItems"][table].items() if k != "Keys"}
                unprocessed.setdefault(table, {**copy.deepcopy(shape), "Keys": []})
                unprocessed[table]["Keys"].append(copy.deepcopy(entry))
            real_left = {i for t, e, i in self._entries(operation, {"RequestItems": unprocessed})}
            response = {**response, "Responses": response.get("Responses", {})}
            response["UnprocessedKeys"] = unprocessed
        self.answered.update(i for _, _, i in forward if i not in real_left)
        return response

    def _entries(self, operation: str, request: dict[str, Any]) -> list[tuple[str, Any, Ident]]:
        """``(table, entry, identity)`` of every item of a batch request."""
        out = []
        for table, value in request["RequestItems"].items():
            if operation == "BatchWriteItem":
                for entry in value:
                    if "PutRequest" in entry:
                        item = entry["PutRequest"]["Item"]
                        key = {n: item[n] for n in self.names[table]}
                    else:
                        key = entry["DeleteRequest"]["Key"]
                    out.append((table, entry, ident(table, key)))
            else:
                out.extend((table, k, ident(table, k)) for k in value["Keys"])
        return out

    @staticmethod
    def _request(request: dict[str, Any], forward: list[tuple[str, Any, Ident]]) -> dict[str, Any]:
        """`request` holding only the `forward` entries."""
        items: dict[str, Any] = {}
        for table, entry, _ in forward:
            original = request["RequestItems"][table]
            if isinstance(original, list):
                items.setdefault(table, []).append(entry)
            else:
                shape = {k: v for k, v in original.items() if k != "Keys"}
                items.setdefault(table, {**shape, "Keys": []})["Keys"].append(entry)
        return {**request, "RequestItems": items}


def readable(value: Any) -> str:
    """A compact rendering for assertion messages."""
    return json.dumps(value, default=repr, sort_keys=True)[:500]
