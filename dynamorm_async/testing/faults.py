"""Fault injection: a seeded schedule of DynamoDB's failures, in front of a real endpoint.

`inject(db, FaultPlan(...))` wraps every request the `Database` sends (each attempt,
through `Transport.interceptors`) and, as the plan's dice say, makes it fail the way
DynamoDB and the network do:

* **throttling** (``ThrottlingException``, ``ProvisionedThroughputExceededException``)
  and **server errors** (HTTP 500 ``InternalServerError``, 503 ``ServiceUnavailable``),
  before the request reaches the server;
* **connection resets**, before the request reaches the server, or *after* it was
  applied (the response is lost: the caller cannot tell);
* **slow responses**, and **read timeouts** after the server applied the request;
* **unprocessed items and keys**: part of a ``BatchWriteItem`` / ``BatchGetItem`` is
  handed back, as DynamoDB does under load (and items that are `stuck` every time);
* **transaction conflicts**: ``TransactWriteItems`` / ``TransactGetItems`` cancelled
  with a ``TransactionConflict`` reason, single writes refused with
  ``TransactionConflictException``.

Failures are raised as botocore's own exceptions, so they travel the client's real
error mapping and retries. Every decision is drawn from the plan's `seed` and the
request's content (with table names as the mappers name them and without the
transaction token), so a campaign replays exactly, whatever order concurrent requests
run in. `FaultInjector.faults` lists what was injected.

Example::

    plan = FaultPlan(seed=7, throttle=0.1, reset_after=0.05, unprocessed=0.3)
    with inject(db, plan) as faults:
        async with db.unit_of_work() as uow:
            ...
    print(faults.counts)
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import attrs
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from dynamorm_async.errors import ValidationError
from dynamorm_async.transport import Send

if TYPE_CHECKING:
    from dynamorm_async.db import Database

__all__ = ["DATA_OPERATIONS", "FaultInjector", "FaultPlan", "InjectedFault", "inject"]

#: The operations a plan applies to by default: reads and writes of items.
DATA_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)

_SINGLE_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
_TRANSACTIONS = frozenset({"TransactGetItems", "TransactWriteItems"})
_BATCHES = frozenset({"BatchGetItem", "BatchWriteItem"})

# The request failures, in the order their chances are stacked on one roll.
_ERRORS = ("throttle", "server_error", "reset_before", "reset_after", "timeout", "conflict")


def _chance(_: Any, attribute: attrs.Attribute[float], value: object) -> None:
    if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValidationError(f"FaultPlan.{attribute.name} is a chance in [0, 1], not {value!r}")


@attrs.frozen
class FaultPlan:
    """What to inject, and how often; every chance is per request (or per batch item).

    The error chances (`throttle` to `conflict`) add up on one roll per request, so
    their sum must not exceed 1; a request gets at most one of them.

    Attributes:
        seed: seeds every decision; the same seed and requests give the same faults.
        throttle: a throttling error, before the request reaches the server.
        server_error: HTTP 500 or 503, before the request reaches the server.
        reset_before: the connection is reset before the request reaches the server.
        reset_after: the server applies the request, then the connection is reset.
        timeout: the server applies the request; the response never comes (read
            timeout, after `delay` seconds).
        conflict: a transaction is cancelled with a ``TransactionConflict`` reason, a
            single write refused with ``TransactionConflictException`` (other
            operations are not affected).
        slow: the response is delayed by `delay` seconds.
        delay: seconds of a slow response or of a timeout.
        unprocessed: each item of a batch is handed back unprocessed.
        stuck: each item of a batch is handed back on every attempt (decided per item).
        operations: the operations the plan applies to; others pass untouched.
        max_per_request: at most this many failures for one request content (the
            retries of a request get through after that); ``None``: no limit.
    """

    seed: int = 0
    throttle: float = attrs.field(default=0.0, validator=_chance)
    server_error: float = attrs.field(default=0.0, validator=_chance)
    reset_before: float = attrs.field(default=0.0, validator=_chance)
    reset_after: float = attrs.field(default=0.0, validator=_chance)
    timeout: float = attrs.field(default=0.0, validator=_chance)
    conflict: float = attrs.field(default=0.0, validator=_chance)
    slow: float = attrs.field(default=0.0, validator=_chance)
    delay: float = 0.05
    unprocessed: float = attrs.field(default=0.0, validator=_chance)
    stuck: float = attrs.field(default=0.0, validator=_chance)
    operations: frozenset[str] = attrs.field(default=DATA_OPERATIONS, converter=frozenset)
    max_per_request: int | None = None

    def __attrs_post_init__(self) -> None:
        total = sum(getattr(self, name) for name in _ERRORS)
        if total > 1.0 + 1e-9:
            raise ValidationError(f"FaultPlan's error chances add up to {total:g}; at most 1")
        delay: object = self.delay
        if not (isinstance(delay, (int, float)) and delay >= 0):
            raise ValidationError(f"FaultPlan.delay is seconds >= 0, not {self.delay!r}")


@attrs.frozen
class InjectedFault:
    """One fault the injector caused.

    Attributes:
        operation: the DynamoDB operation (``"BatchWriteItem"``...).
        kind: ``"throttle"``, ``"server_error"``, ``"reset_before"``, ``"reset_after"``,
            ``"timeout"``, ``"conflict"``, ``"slow"`` or ``"unprocessed"``.
        applied: whether the server received the request (its writes were applied,
            for the items that were forwarded).
        held_back: how many batch items were handed back unprocessed.
    """

    operation: str
    kind: str
    applied: bool
    held_back: int = 0


class FaultInjector:
    """An `Interceptor` that fails requests as its `FaultPlan` says.

    Attributes:
        plan: the schedule.
        faults: every fault injected, in order.
        requests: how many requests (attempts) reached the injector, per operation.
    """

    def __init__(
        self,
        plan: FaultPlan,
        *,
        endpoint_url: str = "https://dynamodb.local",
        table_names: Mapping[str, str] | None = None,
    ) -> None:
        """`table_names` maps real table names to the names used to seed decisions
        (the mappers' names), so that a plan replays under another table prefix."""
        self.plan = plan
        self.faults: list[InjectedFault] = []
        self.requests: Counter[str] = Counter()
        self._endpoint = endpoint_url
        # Longest first, so that no name is replaced inside a longer one.
        self._names = sorted((table_names or {}).items(), key=lambda kv: -len(kv[0]))
        self._seen: Counter[str] = Counter()
        self._failed: Counter[str] = Counter()
        self._applied_tokens: set[str] = set()

    @property
    def counts(self) -> Counter[str]:
        """How many faults of each kind were injected."""
        return Counter(f.kind for f in self.faults)

    async def __call__(self, operation: str, request: dict[str, Any], send: Send) -> dict[str, Any]:
        """Send `request`, or fail it, as the plan says."""
        plan = self.plan
        if operation not in plan.operations:
            return await send(request)
        self.requests[operation] += 1
        content = self._digest(operation, request)
        attempt = self._seen[content]
        self._seen[content] += 1
        rng = random.Random(f"{plan.seed}|{content}|{attempt}")
        token = request.get("ClientRequestToken")
        # DynamoDB answers the replay of a token it applied with success, never with a
        # conflict: an injected one would make the caller retry under a new token.
        error = self._error(operation, rng, replay=token in self._applied_tokens)
        if error is not None and (
            plan.max_per_request is not None and self._failed[content] >= plan.max_per_request
        ):
            error = None
        if error is not None:
            self._failed[content] += 1
        if rng.random() < plan.slow:
            self.faults.append(InjectedFault(operation, "slow", applied=True))
            await anyio.sleep(plan.delay)
        if error in ("throttle", "server_error", "reset_before", "conflict"):
            self.faults.append(InjectedFault(operation, error, applied=False))
            raise self._exception(error, operation, request, rng)
        if operation in _BATCHES and (plan.unprocessed or plan.stuck):
            response = await self._batch(operation, request, send, rng)
        else:
            response = await send(request)
        if token is not None:
            self._applied_tokens.add(token)
        if error is not None:  # reset_after, timeout: applied, then the answer is lost
            self.faults.append(InjectedFault(operation, error, applied=True))
            if error == "timeout":
                await anyio.sleep(plan.delay)
            raise self._exception(error, operation, request, rng)
        return response

    # --- decisions ------------------------------------------------------------------

    def _canonical(self, value: Any) -> str:
        text = json.dumps(value, sort_keys=True, default=repr)
        for real, logical in self._names:
            text = text.replace(json.dumps(real), json.dumps(logical))
        return text

    def _digest(self, operation: str, request: dict[str, Any]) -> str:
        # The token changes on every transaction attempt; the content does not.
        stable = {k: v for k, v in request.items() if k != "ClientRequestToken"}
        text = f"{operation}|{self._canonical(stable)}"
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()

    def _error(self, operation: str, rng: random.Random, *, replay: bool) -> str | None:
        roll = rng.random()
        for kind in _ERRORS:
            chance: float = getattr(self.plan, kind)
            if kind == "conflict" and (replay or operation not in _TRANSACTIONS | _SINGLE_WRITES):
                continue
            if roll < chance:
                return kind
            roll -= chance
        return None

    def _exception(
        self, kind: str, operation: str, request: dict[str, Any], rng: random.Random
    ) -> Exception:
        error: Exception  # botocore's classes are untyped
        if kind in ("reset_before", "reset_after"):
            error = ConnectionClosedError(endpoint_url=self._endpoint)
            return error
        if kind == "timeout":
            error = ReadTimeoutError(endpoint_url=self._endpoint)
            return error
        response: dict[str, Any]
        if kind == "throttle":
            code = rng.choice(["ThrottlingException", "ProvisionedThroughputExceededException"])
            response = _error_response(code, "Rate of requests exceeds the allowed throughput", 400)
        elif kind == "server_error":
            code, status = rng.choice([("InternalServerError", 500), ("ServiceUnavailable", 503)])
            response = _error_response(code, "The service is unavailable", status)
        elif operation in _TRANSACTIONS:
            actions = len(request.get("TransactItems", []))
            reasons = [{"Code": "None"} for _ in range(actions)]
            if reasons:
                reasons[rng.randrange(actions)] = {
                    "Code": "TransactionConflict",
                    "Message": "Transaction is ongoing for the item",
                }
            response = _error_response(
                "TransactionCanceledException",
                "Transaction cancelled, please refer cancellation reasons for specific reasons "
                f"[{', '.join(r['Code'] for r in reasons)}]",
                400,
            )
            response["CancellationReasons"] = reasons
        else:
            response = _error_response(
                "TransactionConflictException",
                "Transaction is ongoing for the item",
                400,
            )
        error = ClientError(response, operation)
        return error

    # --- unprocessed batch items -------------------------------------------------------

    async def _batch(
        self, operation: str, request: dict[str, Any], send: Send, rng: random.Random
    ) -> dict[str, Any]:
        plan = self.plan
        entries = _entries(request)
        held = [
            self._is_stuck(table, entry) or rng.random() < plan.unprocessed
            for table, entry in entries
        ]
        forward = [e for e, h in zip(entries, held, strict=True) if not h]
        back = [e for e, h in zip(entries, held, strict=True) if h]
        if not back:
            return await send(request)
        self.faults.append(
            InjectedFault(operation, "unprocessed", applied=bool(forward), held_back=len(back))
        )
        response: dict[str, Any] = {}
        if forward:
            response = await send(_subset(request, forward))
        response = dict(response)
        if operation == "BatchWriteItem":
            unprocessed = copy.deepcopy(response.get("UnprocessedItems") or {})
            for table, entry in back:
                unprocessed.setdefault(table, []).append(copy.deepcopy(entry))
            response["UnprocessedItems"] = unprocessed
        else:
            unprocessed = copy.deepcopy(response.get("UnprocessedKeys") or {})
            for table, entry in back:
                shape = _shape(request["RequestItems"][table])
                unprocessed.setdefault(table, {**shape, "Keys": []})["Keys"].append(
                    copy.deepcopy(entry)
                )
            response["UnprocessedKeys"] = unprocessed
            response.setdefault("Responses", {})
        return response

    def _is_stuck(self, table: str, entry: Any) -> bool:
        if not self.plan.stuck:
            return False
        seed = f"{self.plan.seed}|stuck|{self._canonical([table, entry])}"
        return random.Random(seed).random() < self.plan.stuck


def _error_response(code: str, message: str, status: int) -> dict[str, Any]:
    return {
        "Error": {"Code": code, "Message": f"{message} (injected)"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def _entries(request: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(table, entry)`` of every item of a batch: a write request, or a key."""
    out: list[tuple[str, Any]] = []
    for table, value in request["RequestItems"].items():
        entries = value if isinstance(value, list) else value["Keys"]
        out.extend((table, entry) for entry in entries)
    return out


def _shape(spec: dict[str, Any]) -> dict[str, Any]:
    """A BatchGetItem table's settings, without its keys."""
    return {k: copy.deepcopy(v) for k, v in spec.items() if k != "Keys"}


def _subset(request: dict[str, Any], entries: list[tuple[str, Any]]) -> dict[str, Any]:
    """`request` holding only `entries`."""
    items: dict[str, Any] = {}
    for table, entry in entries:
        original = request["RequestItems"][table]
        if isinstance(original, list):
            items.setdefault(table, []).append(entry)
        else:
            items.setdefault(table, {**_shape(original), "Keys": []})["Keys"].append(entry)
    return {**request, "RequestItems": items}


@contextlib.contextmanager
def inject(db: Database, plan: FaultPlan) -> Iterator[FaultInjector]:
    """Inject `plan`'s faults into every request `db` sends inside the block.

    Decisions are seeded by the mappers' table names (not the real, prefixed ones),
    so a plan replays the same in any environment.
    """
    names = {db.table_name(m): m.table for m in db.mappers}
    injector = FaultInjector(
        plan, endpoint_url=db.config.endpoint_url or "https://dynamodb", table_names=names
    )
    interceptors = db.transport.interceptors
    interceptors.insert(0, injector)
    try:
        yield injector
    finally:
        interceptors.remove(injector)
