"""Every error dynamorm_async raises, as one tree.

```
DynamORMError
├── MappingError (TypeError)           a class or mapper is set up wrongly
├── ConversionError (ValueError)       a value cannot be encoded or an item decoded
├── ValidationError (ValueError)       a request is invalid (ours, or DynamoDB's ValidationException)
│   ├── ItemTooLarge                   an item is over 400 KB, found before sending
│   ├── NoIndexForQuery                no table or index can serve a query's conditions
│   └── InvalidCursor                  a page cursor was altered or belongs to another query
├── ItemNotFound (LookupError)         get_or_raise found nothing
├── ConditionFailed                    a condition expression was false
│   ├── ItemAlreadyExists              create() found the key taken
│   └── VersionConflict                the stored version differs from the loaded one
├── TableNotFound (LookupError)        the table does not exist
├── TransportError                     DynamoDB could not be reached, or the request not signed
│   └── CircuitOpenError               the circuit breaker is open: the call was not made
├── TransactionCanceled                a transaction was cancelled: nothing was written
├── UnitOfWorkError                    some writes of a unit of work failed: the report says which
├── BatchGetError                      some keys of a batch read were never returned
└── DynamoDBError                      any other error DynamoDB returned, with its code
    └── ThrottledError                 DynamoDB throttled the request
```

Each error carries the context it happened in: the table, the operation, the key
and the expressions of the request (with values left out), and renders them in its
message. The `error_context` helper attaches that context to errors raised inside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "BatchGetError",
    "CancellationReason",
    "CircuitOpenError",
    "ConditionFailed",
    "ConversionError",
    "DynamORMError",
    "DynamoDBError",
    "ErrorContext",
    "ItemAlreadyExists",
    "ItemNotFound",
    "ItemTooLarge",
    "InvalidCursor",
    "MappingError",
    "MigrationError",
    "NoIndexForQuery",
    "SchemaMismatch",
    "TableNotFound",
    "ThrottledError",
    "TransactionCanceled",
    "TransportError",
    "UnitOfWorkError",
    "ValidationError",
    "VersionConflict",
    "WriteFailure",
    "error_context",
    "readable_key",
]


class ErrorContext:
    """Where an error happened: table, operation, key and request expressions.

    The context holds no values of the request besides the key (which says which
    item failed); a message about one bad value does quote that value.
    """

    __slots__ = ("expressions", "key", "operation", "table")

    def __init__(
        self,
        table: str | None = None,
        operation: str | None = None,
        key: Mapping[str, Any] | None = None,
        expressions: Mapping[str, str] | None = None,
    ) -> None:
        self.table = table
        self.operation = operation
        self.key = dict(key) if key is not None else None
        self.expressions = dict(expressions) if expressions else None

    def describe(self) -> str:
        """The context as ``table=..., operation=..., key=...`` (empty parts left out)."""
        parts = []
        if self.table is not None:
            parts.append(f"table={self.table!r}")
        if self.operation is not None:
            parts.append(f"operation={self.operation}")
        if self.key is not None:
            parts.append(f"key={self.key!r}")
        if self.expressions:
            parts.extend(f"{name}={text!r}" for name, text in self.expressions.items())
        return ", ".join(parts)


class DynamORMError(Exception):
    """The root of every error raised by dynamorm_async.

    Attributes:
        message: what went wrong, without the context.
        table: the table's full name, when known.
        operation: the DynamoDB operation (``PutItem``...) or ours (``encode``...).
        key: the item's key as DynamoDB sees it, when known.
        expressions: the request's expression strings (no values), when known.
        attempts: how many times the request was sent (1 unless it was retried).
    """

    attempts = 1

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        operation: str | None = None,
        key: Mapping[str, Any] | None = None,
        expressions: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.context = ErrorContext(table, operation, key, expressions)

    @property
    def table(self) -> str | None:
        """The table's full name, when known."""
        return self.context.table

    @property
    def operation(self) -> str | None:
        """The operation that failed, when known."""
        return self.context.operation

    @property
    def key(self) -> dict[str, Any] | None:
        """The key of the item concerned, when known."""
        return self.context.key

    @property
    def expressions(self) -> dict[str, str] | None:
        """The request's expression strings, when known."""
        return self.context.expressions

    def add_context(
        self,
        *,
        table: str | None = None,
        operation: str | None = None,
        key: Mapping[str, Any] | None = None,
        expressions: Mapping[str, str] | None = None,
    ) -> None:
        """Fill in the context parts that are still unknown; known parts are kept."""
        ctx = self.context
        if ctx.table is None:
            ctx.table = table
        if ctx.operation is None:
            ctx.operation = operation
        if ctx.key is None and key is not None:
            ctx.key = dict(key)
        if ctx.expressions is None and expressions:
            ctx.expressions = dict(expressions)

    def __str__(self) -> str:
        where = self.context.describe()
        return f"{self.message} ({where})" if where else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take keyword-only arguments: rebuild from the state, so that errors
        # cross process pools and task queues.
        return (_restore, (type(self), self.args, self.__dict__))


class MappingError(DynamORMError, TypeError):
    """A class, field, key or index is mapped in a way that cannot work."""


class SchemaMismatch(MappingError):
    """A live table differs from its model in a way the operation will not change.

    Attributes:
        changes: the differences (``dynamorm_async.db.Change``), each with its
            severity: ``"safe"``, ``"data"`` (needs a data migration) or
            ``"breaking"`` (needs a new table).
    """

    def __init__(self, message: str, *, changes: tuple[Any, ...] = (), **context: Any) -> None:
        super().__init__(message, **context)
        self.changes = changes


class MigrationError(DynamORMError):
    """A migration cannot run: a missing or changed migration, a held lock, a failure.

    Attributes:
        version: the migration concerned, when there is one.
    """

    def __init__(self, message: str, *, version: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.version = version


class ConversionError(DynamORMError, ValueError):
    """A value cannot be encoded to DynamoDB, or a stored item does not fit its class.

    Attributes:
        cls: the class being encoded or decoded, when known.
        field: the field (dotted path for nested classes), when known.
        value: the offending value or attribute value, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        cls: type | None = None,
        field: str | None = None,
        value: Any = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.cls = cls
        self.field = field
        self.value = value


class ValidationError(DynamORMError, ValueError):
    """A request is invalid: found by us before sending, or DynamoDB's ValidationException."""


class ItemTooLarge(ValidationError):
    """An item is over DynamoDB's 400 KB limit; it was not sent.

    Attributes:
        size: the item's size in bytes, counted as DynamoDB counts it.
        limit: the limit in bytes (409,600).
    """

    def __init__(self, message: str, *, size: int, limit: int, **context: Any) -> None:
        super().__init__(message, **context)
        self.size = size
        self.limit = limit


class NoIndexForQuery(ValidationError):
    """No table or index can serve a query: nothing was sent.

    Attributes:
        rejected: ``(name, reason)`` for the table (``"table"``) and each index.
    """

    def __init__(
        self, message: str, *, rejected: tuple[tuple[str, str], ...] = (), **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.rejected = rejected


class InvalidCursor(ValidationError):
    """A page cursor was altered, is malformed, or belongs to another query."""


class ItemNotFound(DynamORMError, LookupError):
    """No item has the key that was asked for."""


class ConditionFailed(DynamORMError):
    """A condition expression was false; nothing was written.

    Attributes:
        item: the item as it is stored now, decoded into its class when DynamoDB
            returned it (``None`` when there is no such item).
    """

    def __init__(self, message: str, *, item: Any = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.item = item


class ItemAlreadyExists(ConditionFailed):
    """``create()`` found an item with the same key; it was not overwritten."""


class VersionConflict(ConditionFailed):
    """The stored version differs from the one loaded: someone else wrote first."""


class TableNotFound(DynamORMError, LookupError):
    """The table does not exist (or is not visible to these credentials)."""


class TransportError(DynamORMError):
    """DynamoDB could not be reached (connection, timeout) or the request not signed
    (no credentials, no region); the request may or may not have been applied.

    Attributes:
        retryable: whether trying again may succeed (a connection or timeout error).
    """

    def __init__(self, message: str, *, retryable: bool = False, **context: Any) -> None:
        super().__init__(message, **context)
        self.retryable = retryable


class CircuitOpenError(TransportError):
    """Too many calls failed in a row: calls fail fast until the breaker's cool-down ends.

    Attributes:
        retry_after: seconds until the breaker lets a probe call through.
    """

    def __init__(self, message: str, *, retry_after: float = 0.0, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class CancellationReason:
    """Why one action of a cancelled transaction failed (or ``"None"`` if it did not).

    Attributes:
        index: the action's position in the transaction.
        code: DynamoDB's reason code (``"ConditionalCheckFailed"``, ``"TransactionConflict"``,
            ``"None"``...).
        message: DynamoDB's message, if any.
        item: the item as stored, decoded into its class, for a failed condition.
        operation: ``"Put"``, ``"Update"``, ``"Delete"`` or ``"ConditionCheck"``.
        table: the action's table.
        key: the action's key, readably.
    """

    __slots__ = ("code", "index", "item", "key", "message", "operation", "table")

    def __init__(
        self,
        index: int,
        code: str,
        message: str = "",
        item: Any = None,
        *,
        operation: str | None = None,
        table: str | None = None,
        key: Mapping[str, Any] | None = None,
    ) -> None:
        self.index = index
        self.code = code
        self.message = message
        self.item = item
        self.operation = operation
        self.table = table
        self.key = dict(key) if key is not None else None

    @property
    def failed(self) -> bool:
        """Whether this action is a cause of the cancellation."""
        return self.code not in ("None", "")

    def __repr__(self) -> str:
        return (
            f"CancellationReason(index={self.index}, code={self.code!r}, "
            f"operation={self.operation!r}, table={self.table!r}, key={self.key!r})"
        )


class TransactionCanceled(DynamORMError):
    """DynamoDB cancelled a transaction; none of its actions were applied.

    Attributes:
        reasons: one `CancellationReason` per action, in the order they were added.
    """

    def __init__(
        self, message: str, *, reasons: tuple[CancellationReason, ...] = (), **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.reasons = reasons

    @property
    def failed(self) -> list[CancellationReason]:
        """The reasons of the actions that caused the cancellation."""
        return [r for r in self.reasons if r.failed]


class WriteFailure:
    """One write of a unit of work that was not done, and why.

    Attributes:
        operation: ``"PutItem"``, ``"DeleteItem"``, ``"UpdateItem"`` or ``"ConditionCheck"``.
        table: the table's full name.
        key: the item's key, readably.
        error: the error that stopped it.
        op: the operation itself: give the failures to ``UnitOfWork.retry`` to try again.
    """

    __slots__ = ("error", "key", "op", "operation", "table")

    def __init__(
        self, operation: str, table: str, key: Mapping[str, Any], error: BaseException, op: Any
    ) -> None:
        self.operation = operation
        self.table = table
        self.key = dict(key)
        self.error = error
        self.op = op

    def __repr__(self) -> str:
        return (
            f"WriteFailure({self.operation}, table={self.table!r}, key={self.key!r}, "
            f"error={type(self.error).__name__}: {self.error})"
        )


class UnitOfWorkError(DynamORMError):
    """Some writes of a unit of work failed; all the others were applied.

    Attributes:
        failures: a `WriteFailure` per write that was not done (nothing is left out).
        applied: how many writes were applied.
    """

    def __init__(
        self,
        message: str,
        *,
        failures: tuple[WriteFailure, ...] = (),
        applied: int = 0,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.failures = failures
        self.applied = applied


class BatchGetError(DynamORMError):
    """Some keys of a batch read were still unprocessed when the retry budget ran out.

    Attributes:
        unprocessed: ``(table, key)`` for every key not read (keys shown readably).
        found: what was read, as the call would have returned it (missing keys: None).
    """

    def __init__(
        self,
        message: str,
        *,
        unprocessed: tuple[tuple[str, dict[str, Any]], ...] = (),
        found: Any = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.unprocessed = unprocessed
        self.found = found


class DynamoDBError(DynamORMError):
    """Any other error DynamoDB returned.

    Attributes:
        code: the AWS error code, such as ``InternalServerError``.
        http_status: the HTTP status of the response, when there was one.
    """

    def __init__(
        self, message: str, *, code: str, http_status: int | None = None, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.code = code
        self.http_status = http_status


class ThrottledError(DynamoDBError):
    """DynamoDB throttled the request (throughput or request-rate limits)."""


def _restore(cls: type[DynamORMError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def readable_key(key: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A stored key (``{"id": {"S": "p1"}}``) as errors show it (``{"id": "p1"}``)."""
    return {name: next(iter(av.values()), None) for name, av in key.items()}


@contextlib.contextmanager
def error_context(
    *,
    table: str | None = None,
    operation: str | None = None,
    key: Mapping[str, Any] | None = None,
    expressions: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """Attach context to any `DynamORMError` raised inside the block.

    Example:
        >>> with error_context(table="products", operation="PutItem"):
        ...     raise ValidationError("bad")
        Traceback (most recent call last):
        dynamorm_async.errors.ValidationError: bad (table='products', operation=PutItem)
    """
    try:
        yield
    except DynamORMError as exc:
        exc.add_context(table=table, operation=operation, key=key, expressions=expressions)
        raise
