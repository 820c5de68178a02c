"""Units of work and transactions: writes collected, then sent together.

A `UnitOfWork` sends plain puts and deletes through BatchWriteItem (25 a request,
chunks in parallel under a limit, unprocessed items retried with backoff) and
every other write as its own call; whatever still fails is reported item by item
in `UnitOfWorkError`, nothing is dropped. A `Transaction` sends everything as one
TransactWriteItems: all or nothing.

Both record writes as the operations of `dynamorm_async.query` (validated and
encoded when added, versions checked and bumped), so mistakes surface at the line
that adds the write, before anything is sent.
"""

from __future__ import annotations

import contextlib
import enum
import uuid
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio

from dynamorm_async import query as ops
from dynamorm_async.convert import MAX_ITEM_BYTES, item_size
from dynamorm_async.db._batch import Identity, Unprocessed, identity
from dynamorm_async.errors import (
    CancellationReason,
    ConversionError,
    ItemTooLarge,
    ThrottledError,
    TransactionCanceled,
    TransportError,
    UnitOfWorkError,
    ValidationError,
    WriteFailure,
    readable_key,
)
from dynamorm_async.expressions import Condition, PathLike, Update
from dynamorm_async.mapping import Mapper
from dynamorm_async.transport import is_retryable, reading

if TYPE_CHECKING:
    from dynamorm_async.db._database import Database
    from dynamorm_async.db._repository import Repository

__all__ = ["Transaction", "UnitOfWork"]

T = TypeVar("T")

#: DynamoDB's limits.
MAX_BATCH_WRITE = 25
MAX_BATCH_BYTES = 16 * 1024 * 1024
MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024

_OPERATIONS = {
    ops.PutOp: "PutItem",
    ops.UpdateOp: "UpdateItem",
    ops.DeleteOp: "DeleteItem",
    ops.CheckOp: "ConditionCheck",
}


class State(enum.Enum):
    """Where a unit of work or a transaction stands."""

    ACTIVE = "active"
    COMMITTING = "committing"
    COMMITTED = "committed"
    FAILED = "failed"
    ROLLED_BACK = "rolled back"


class _Writes:
    """Recording writes, and the lifecycle both units and transactions follow."""

    _kind = "unit of work"

    def __init__(self, database: Database) -> None:
        self._db = database
        self._ops: list[tuple[Repository[Any], ops.WriteOp]] = []
        self.state = State.ACTIVE

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.state.value}, {len(self._ops)} write(s)>"

    def __len__(self) -> int:
        return len(self._ops)

    # --- recording ------------------------------------------------------------------

    def _repository(self, target: Any, mapper: Mapper[Any] | None) -> Repository[Any]:
        if mapper is not None:
            return self._db.repository(mapper)
        if isinstance(target, (str, int, bytes, tuple, Mapping)) or target is None:
            raise ValidationError(
                f"{self._kind}: a key alone does not say its table; pass mapper=..."
            )
        return self._db.model(type(target))

    def _add(self, repository: Repository[Any], op: ops.WriteOp) -> None:
        if self.state is not State.ACTIVE:
            raise ValidationError(
                f"this {self._kind} is {self.state.value}: writes cannot be added any more"
            )
        # Compile now: a mistake in a condition or a value fails here, not half-way
        # through the commit (compiling again then is cheap: templates are cached).
        if not op.batchable:  # a batched put or delete has no expression to get wrong
            with repository._context(_OPERATIONS[type(op)], op.key):
                op.request(repository.table)
        self._check_added(repository, op)
        self._ops.append((repository, op))

    def _check_added(self, repository: Repository[Any], op: ops.WriteOp) -> None:
        """Refuse a write the commit could not send as asked (overridden)."""

    def put(
        self, obj: T, *, condition: Condition | None = None, mapper: Mapper[T] | None = None
    ) -> T:
        """Write `obj`, replacing any item with its key. Returns the object as it will be
        stored (a versioned object with its version bumped: keep it for later writes)."""
        repository = self._repository(obj, mapper)
        with repository._context("PutItem", obj):
            op = ops.put(repository.mapper, obj, condition=condition)
        self._add(repository, op)
        stored: T = op.stored
        return stored

    def create(self, obj: T, *, mapper: Mapper[T] | None = None) -> T:
        """Write `obj` only if no item has its key (else the write fails)."""
        repository = self._repository(obj, mapper)
        with repository._context("PutItem", obj):
            op = ops.put(repository.mapper, obj, create=True)
        self._add(repository, op)
        stored: T = op.stored
        return stored

    def update(
        self,
        target: Any,
        *,
        set: Mapping[PathLike, Any] | None = None,
        remove: Iterable[PathLike] | None = None,
        add: Mapping[PathLike, Any] | None = None,
        delete: Mapping[PathLike, Any] | None = None,
        condition: Condition | None = None,
        upsert: bool = False,
        mapper: Mapper[Any] | None = None,
    ) -> None:
        """Change some attributes of `target` (an object, or a key with `mapper`), as
        `Repository.update` does."""
        repository = self._repository(target, mapper)
        with repository._context("UpdateItem", target):
            changes = Update.of(set=set, remove=remove, add=add, delete=delete)
            op = ops.update(
                repository.mapper,
                target,
                changes,
                condition=condition,
                return_values="NONE",
                upsert=upsert,
            )
        self._add(repository, op)

    def put_item(self, item: Mapping[str, Any], *, mapper: Mapper[Any]) -> None:
        """Write a raw item (DynamoDB's wire format) to the mapper's table, as it is.

        Nothing is encoded and no version is bumped: this is for copies of items
        between tables (`MigrationContext.copy_table`). The key and the size are
        checked.
        """
        repository = self._repository(None, mapper)
        fields = [mapper.fields[name].stored for name in mapper.key_fields]
        missing = [name for name in fields if name not in item]
        if missing:
            raise ValidationError(
                f"the item lacks the key attribute(s) {missing}",
                table=repository.table,
                operation="PutItem",
            )
        key = {name: item[name] for name in fields}
        size = item_size(dict(item))
        if size > MAX_ITEM_BYTES:
            raise ItemTooLarge(
                f"the item is {size:,} bytes; DynamoDB's limit is {MAX_ITEM_BYTES:,}",
                size=size,
                limit=MAX_ITEM_BYTES,
                table=repository.table,
                operation="PutItem",
                key=mapper.key_values(key),
            )
        op: ops.PutOp[Any] = ops.PutOp(mapper, key, None, None, item=dict(item), stored=None)
        self._add(repository, op)

    def delete(
        self, target: Any, *, condition: Condition | None = None, mapper: Mapper[Any] | None = None
    ) -> None:
        """Delete `target` (an object, or a key with `mapper`)."""
        repository = self._repository(target, mapper)
        with repository._context("DeleteItem", target):
            op = ops.delete(repository.mapper, target, condition=condition)
        self._add(repository, op)

    def check(self, mapper: Mapper[Any], key: Any, condition: Condition) -> None:
        """Require `condition` of the item with `key` (it is not written)."""
        repository = self._db.repository(mapper)
        with repository._context("ConditionCheck", key):
            op = ops.check(mapper, key, condition)
        self._add(repository, op)

    def rollback(self) -> None:
        """Forget every recorded write; nothing was sent, and nothing will be."""
        if self.state is not State.ACTIVE:
            raise ValidationError(f"this {self._kind} is {self.state.value}: nothing to roll back")
        self._ops.clear()
        self.state = State.ROLLED_BACK

    async def commit(self) -> None:
        """Send the recorded writes (once; a second commit is an error)."""
        raise NotImplementedError

    def _begin(self) -> list[tuple[Repository[Any], ops.WriteOp]]:
        if self.state is not State.ACTIVE:
            raise ValidationError(f"this {self._kind} is {self.state.value}: it cannot commit")
        self.state = State.COMMITTING
        return list(self._ops)

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:  # an error in the block: send nothing
            if self.state is State.ACTIVE:
                self.rollback()
            return
        if self.state is State.ACTIVE:
            await self.commit()


def _positive(what: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"{what} must be an int >= 1, not {value!r}")
    return value


def _failure(repository: Repository[Any], op: ops.WriteOp, error: BaseException) -> WriteFailure:
    return WriteFailure(
        _OPERATIONS[type(op)], repository.table, readable_key(op.key), error, op=(repository, op)
    )


class UnitOfWork(_Writes):
    """Writes to any number of tables, sent together on commit; not atomic.

    Plain puts and deletes go through BatchWriteItem (duplicates of one key collapse:
    the last write wins); conditional writes, updates, versioned items and checks go
    as single calls. Checks are sent first: if one fails, nothing else is. Whatever
    fails is raised in `UnitOfWorkError`, whose failures can be given to `retry`.

    Example:
        ```python
        async with db.unit_of_work() as uow:       # commits when the block ends
            for order in orders_to_archive:
                uow.put(archived(order))
                uow.delete(order)
            uow.update(counter, add={"archived": len(orders_to_archive)})
        ```
    """

    _kind = "unit of work"

    def __init__(
        self,
        database: Database,
        *,
        concurrency: int = 8,
        attempts: int = 10,
        deadline: float | None = 60.0,
    ) -> None:
        super().__init__(database)
        _positive("concurrency", concurrency)
        _positive("attempts", attempts)
        if deadline is not None and not deadline > 0:
            raise ValidationError(f"deadline must be > 0 seconds or None, not {deadline!r}")
        self.concurrency = concurrency
        self.attempts = attempts
        self.deadline = deadline
        # Which path each item takes, to refuse two writes whose order would be a race.
        self._paths: dict[Identity, bool] = {}
        self._settled: set[int] = set()
        self._unsettled_source: list[tuple[Repository[Any], ops.WriteOp]] = []
        self._failures: list[WriteFailure] = []
        #: After a commit was interrupted (cancelled): every write not known to be
        #: applied, as failures to give to `retry`: those whose outcome is unknown (a
        #: retryable `TransportError`; puts and deletes are safe to repeat) and those
        #: that had already failed, with their own error.
        self.unsettled: tuple[WriteFailure, ...] = ()

    async def __aenter__(self) -> UnitOfWork:
        return self

    def _check_added(self, repository: Repository[Any], op: ops.WriteOp) -> None:
        ident = identity(repository.table, op.key)
        batched = op.batchable
        seen = self._paths.get(ident)
        if seen is not None and not (seen and batched):
            raise ValidationError(
                f"this unit of work already writes the item {readable_key(op.key)} of "
                f"{repository.table!r}: only plain puts and deletes of one item collapse "
                "(the last wins); use one update, or a second unit of work"
            )
        self._paths[ident] = batched

    def retry(self, failures: UnitOfWorkError | Iterable[WriteFailure]) -> None:
        """Add again the writes of a failed unit (e.g. ``error.failures``)."""
        listed = failures.failures if isinstance(failures, UnitOfWorkError) else failures
        for failure in listed:
            repository, op = failure.op
            self._add(repository, op)

    async def commit(self) -> None:
        """Send every recorded write; raise `UnitOfWorkError` listing any that failed."""
        recorded = self._begin()
        try:
            await self._commit(recorded)
        finally:
            if self.state is State.COMMITTING:  # cancelled, or an unexpected error
                self.state = State.FAILED
                interrupted = TransportError(
                    "the commit was interrupted before this write's outcome was known: "
                    "it may or may not have been applied",
                    retryable=True,
                )
                self.unsettled = (
                    *self._failures,  # failed before the interruption: still not applied
                    *(
                        _failure(r, op, interrupted)
                        for r, op in self._unsettled_source
                        if id(op) not in self._settled
                    ),
                )

    async def _commit(self, recorded: list[tuple[Repository[Any], ops.WriteOp]]) -> None:
        checks = [(r, op) for r, op in recorded if isinstance(op, ops.CheckOp)]
        latest: dict[Identity, tuple[Repository[Any], ops.WriteOp]] = {}
        singles: list[tuple[Repository[Any], ops.WriteOp]] = []
        for repository, op in recorded:
            if op.batchable:
                latest[identity(repository.table, op.key)] = (repository, op)  # last wins
            elif not isinstance(op, ops.CheckOp):
                singles.append((repository, op))
        batched = list(latest.values())
        failures = self._failures = []  # kept on the unit: a cancellation reports them
        limiter = anyio.CapacityLimiter(self.concurrency)

        settled = self._settled
        self._unsettled_source = [*checks, *batched, *singles]

        async def run(work: Callable[[], Any], writes: list[tuple[Repository[Any], Any]]) -> None:
            async with limiter:
                failures.extend(await work())
            settled.update(id(op) for _, op in writes)  # applied, or in `failures`

        if checks:
            async with anyio.create_task_group() as group:
                for repository, op in checks:
                    group.start_soon(run, _single(repository, op), [(repository, op)])
            if failures:
                skipped = ValidationError("not sent: a check of this unit of work failed")
                failures += [_failure(r, op, skipped) for r, op in (*batched, *singles)]
                self._fail(failures, applied=0)
        async with anyio.create_task_group() as group:
            for chunk in _chunks(batched):
                group.start_soon(run, self._batch(chunk), chunk)
            for repository, op in singles:
                group.start_soon(run, _single(repository, op), [(repository, op)])
        if failures:
            self._fail(failures, applied=len(batched) + len(singles) - len(failures))
        self.state = State.COMMITTED

    def _fail(self, failures: list[WriteFailure], *, applied: int) -> None:
        self.state = State.FAILED
        raise UnitOfWorkError(
            f"{len(failures)} write(s) of the unit of work failed, {applied} applied; "
            "see .failures (retry them with UnitOfWork.retry)",
            failures=tuple(failures),
            applied=applied,
        )

    def _batch(self, chunk: list[tuple[Repository[Any], ops.WriteOp]]) -> Callable[[], Any]:
        async def send() -> list[WriteFailure]:
            pending = {identity(r.table, op.key): (r, op) for r, op in chunk}
            policy = self._db.transport.retry_policy
            error: BaseException | None = None
            retrying = policy.retrying(
                self.attempts,
                retry_if=lambda e: isinstance(e, Unprocessed),
                deadline=self.deadline,
            )
            try:
                async for attempt in retrying:
                    with attempt:
                        pending = await self._send_batch(pending)
                        if pending:
                            raise Unprocessed(len(pending), "item(s)")
            except Unprocessed as exc:
                # Reported as what stopped the last try: throttling, or unprocessed items.
                error = exc.throttled or exc
            except Exception as exc:  # the whole request failed, after its own retries
                # (anything unexpected too: it is reported per item, never lost)
                error = exc
            if not pending:
                return []
            assert error is not None
            return [_failure(r, op, error) for r, op in pending.values()]

        return send

    async def _send_batch(
        self, pending: dict[Identity, tuple[Repository[Any], ops.WriteOp]]
    ) -> dict[Identity, tuple[Repository[Any], ops.WriteOp]]:
        """Send `pending`; return what DynamoDB left unprocessed."""
        request: dict[str, list[dict[str, Any]]] = {}
        for repository, op in pending.values():
            assert isinstance(op, (ops.PutOp, ops.DeleteOp))
            request.setdefault(repository.table, []).append(op.batch_request())
        try:
            response = await self._db.transport.call(
                "BatchWriteItem", {"RequestItems": request}, retry_if=_not_throttling
            )
        except ThrottledError as exc:
            # DynamoDB refuses a whole batch for throughput when it could write none of
            # it: the same as every item unprocessed, with the unit's budget for those.
            raise Unprocessed(len(pending), "item(s)", throttled=exc) from exc
        left: dict[Identity, tuple[Repository[Any], ops.WriteOp]] = {}
        tables = {r.table: r.mapper for r, _ in pending.values()}
        # An entry not sent, or of an odd shape: what was written is unknown, so every
        # item of the request is reported (with this error), as after a lost response.
        with reading("BatchWriteItem"):
            for table, entries in (response.get("UnprocessedItems") or {}).items():
                # Mappers sharing a table share its key attributes: any of them will do.
                mapper = tables[table]
                stored_keys = [mapper.stored_name(field) for field in mapper.key_fields]
                for entry in entries:
                    if "PutRequest" in entry:
                        item = entry["PutRequest"]["Item"]
                        key = {name: item[name] for name in stored_keys}
                    else:
                        key = entry["DeleteRequest"]["Key"]
                    ident = identity(table, key)
                    left[ident] = pending[ident]
        return left


def _not_throttling(error: BaseException) -> bool:
    return is_retryable(error) and not isinstance(error, ThrottledError)


def _chunks(
    writes: list[tuple[Repository[Any], ops.WriteOp]],
) -> list[list[tuple[Repository[Any], ops.WriteOp]]]:
    """Requests of at most 25 writes and 16 MB (any 25 items of 400 KB fit in 16 MB;
    the size is checked anyway, in case DynamoDB's limits change)."""
    chunks: list[list[tuple[Repository[Any], ops.WriteOp]]] = []
    current: list[tuple[Repository[Any], ops.WriteOp]] = []
    size = 0
    for repository, op in writes:
        weight = item_size(op.item) if isinstance(op, ops.PutOp) else item_size(op.key)
        if current and (len(current) == MAX_BATCH_WRITE or size + weight > MAX_BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append((repository, op))
        size += weight
    if current:
        chunks.append(current)
    return chunks


def _single(repository: Repository[Any], op: ops.WriteOp) -> Callable[[], Any]:
    async def send() -> list[WriteFailure]:
        operation = _OPERATIONS[type(op)]
        try:
            with repository._context(operation, op.key):
                if isinstance(op, ops.CheckOp):
                    # A lone condition check: a transaction of one action.
                    await _transact(repository.database, [(repository, op)])
                else:
                    await repository._write(operation, op)
        except Exception as exc:  # reported per item, never lost
            return [_failure(repository, op, exc)]
        return []

    return send


class Transaction(_Writes):
    """Writes sent as one TransactWriteItems: all are applied, or none.

    At most 100 actions and 4 MB, one action per item; checked before sending. A
    retry after a network error reuses the ClientRequestToken, so DynamoDB applies
    the transaction once. A cancellation by a conflicting transaction is retried
    with backoff; any other cancellation raises `TransactionCanceled`, with the
    reason for each action and the stored item of a failed condition, decoded.

    Example:
        ```python
        async with db.transaction() as tx:
            tx.update(account_a, add={"balance": -10}, condition=attr("balance") >= 10)
            tx.update(account_b, add={"balance": 10})
        ```
    """

    _kind = "transaction"

    def __init__(self, database: Database, *, attempts: int = 5, token: str | None = None) -> None:
        super().__init__(database)
        self.attempts = _positive("attempts", attempts)
        if token is not None and not (
            isinstance(cast(object, token), str) and 1 <= len(token) <= 36
        ):
            raise ValidationError("a ClientRequestToken is a string of 1 to 36 characters")
        #: The ClientRequestToken of the last attempt. If the commit raised an error
        #: that leaves the outcome unknown (a TransportError, a 5xx), a new transaction
        #: of the same writes with ``token=`` this, within 10 minutes, is applied once.
        self.token = token
        self._items: set[Identity] = set()

    async def __aenter__(self) -> Transaction:
        return self

    def _check_added(self, repository: Repository[Any], op: ops.WriteOp) -> None:
        if len(self._ops) >= MAX_TRANSACTION_ACTIONS:
            raise ValidationError(
                f"a transaction holds at most {MAX_TRANSACTION_ACTIONS} actions; split the "
                "work into several transactions (each is atomic on its own)"
            )
        ident = identity(repository.table, op.key)
        if ident in self._items:
            raise ValidationError(
                f"this transaction already has an action on the item {readable_key(op.key)} "
                f"of {repository.table!r}: DynamoDB allows one action per item"
            )
        self._items.add(ident)

    def _used(self, token: str) -> None:
        self.token = token

    async def commit(self) -> None:
        """Send the transaction; raise `TransactionCanceled` if DynamoDB cancels it."""
        recorded = self._begin()
        try:
            if recorded:
                await _transact(
                    self._db,
                    recorded,
                    attempts=self.attempts,
                    token=self.token,
                    on_token=self._used,
                )
        except BaseException:
            self.state = State.FAILED
            raise
        self.state = State.COMMITTED


def _action_size(action: dict[str, Any]) -> int:
    """What an action weighs toward the 4 MB limit: a put's item, else its key and values."""
    ((_, body),) = action.items()
    if "Item" in body:
        return item_size(body["Item"])
    return item_size({**body.get("Key", {}), **body.get("ExpressionAttributeValues", {})})


async def _transact(
    database: Database,
    recorded: list[tuple[Repository[Any], ops.WriteOp]],
    attempts: int = 5,
    token: str | None = None,
    on_token: Callable[[str], None] | None = None,
) -> None:
    items = [op.transact_item(repository.table) for repository, op in recorded]
    size = sum(_action_size(item) for item in items)
    if size > MAX_TRANSACTION_BYTES:
        raise ValidationError(
            f"the transaction's items are {size:,} bytes; DynamoDB allows "
            f"{MAX_TRANSACTION_BYTES:,}",
            operation="TransactWriteItems",
        )
    policy = database.transport.retry_policy
    tokens = iter([token] if token else [])
    async for attempt in policy.retrying(attempts, retry_if=_only_conflicts):
        with attempt:
            # A token per attempt: a cancelled transaction applied nothing, and the
            # transport's own retries of this attempt (lost responses) reuse it.
            used = next(tokens, None) or str(uuid.uuid4())
            if on_token is not None:
                on_token(used)
            request = {"TransactItems": items, "ClientRequestToken": used}
            try:
                await database.transport.call("TransactWriteItems", request)
            except TransactionCanceled as exc:
                raise _decoded(exc, recorded) from None


#: Cancellation reasons that may go away on their own.
TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def _only_conflicts(error: BaseException) -> bool:
    """A cancellation caused only by conflicts or throttling: worth another try."""
    return (
        isinstance(error, TransactionCanceled)
        and bool(error.failed)
        and all(r.code in TRANSIENT_REASONS for r in error.failed)
    )


def _decoded(
    exc: TransactionCanceled, recorded: list[tuple[Repository[Any], ops.WriteOp]]
) -> TransactionCanceled:
    reasons = []
    given = list(exc.reasons)
    # DynamoDB gives one reason per action; pad if it gave fewer, so none is lost.
    given += [CancellationReason(i, "Unknown") for i in range(len(given), len(recorded))]
    for reason, (repository, op) in zip(given, recorded, strict=False):
        item: Any = reason.item
        if item is not None:
            # An item its class cannot read is given as stored.
            with contextlib.suppress(ConversionError):
                item = repository.mapper.decode(dict(item))
        code = reason.code
        message = reason.message
        if code == "ConditionalCheckFailed" and op.is_version_conflict(reason.item):
            message = f"version conflict: expected version {op.expected_version}; {message}"
        reasons.append(
            CancellationReason(
                reason.index,
                code,
                message,
                item,
                operation=_OPERATIONS[type(op)].removesuffix("Item"),
                table=repository.table,
                key=readable_key(op.key),
            )
        )
    failed = [r for r in reasons if r.failed]
    summary = "; ".join(f"action {r.index} ({r.operation} {r.key}): {r.code}" for r in failed)
    return TransactionCanceled(
        f"the transaction was cancelled, nothing was written: {summary}"
        if summary
        else f"{exc.message} (nothing was written)",
        reasons=tuple(reasons),
        operation="TransactWriteItems",
    )
