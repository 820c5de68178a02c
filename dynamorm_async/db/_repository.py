"""`Repository[T]`: get, put, create, update and delete objects of one mapped class."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from dynamorm_async import query as ops
from dynamorm_async.db._query import Query, Scan
from dynamorm_async.errors import (
    BatchGetError,
    ConditionFailed,
    ConversionError,
    DynamORMError,
    ItemAlreadyExists,
    ItemNotFound,
    ValidationError,
    VersionConflict,
    readable_key,
)
from dynamorm_async.expressions import Condition, PathLike, Update
from dynamorm_async.mapping import Mapper
from dynamorm_async.query import QuerySpec, ReturnValues

if TYPE_CHECKING:
    from dynamorm_async.db._database import Database

__all__ = ["Repository"]

T = TypeVar("T")


class Repository(Generic[T]):
    """Reads and writes objects of one mapped class. Get one with `Database.repository`.

    Keys are given as the partition value, a ``(partition, sort)`` tuple, or a dict
    of Python field names; an object of the class works wherever a key does.

    Example:
        ```python
        repo = db.repository(products)
        await repo.put(Product(id="p1", category="books", price=12, name="DDIA"))
        p = await repo.get("p1")
        p = await repo.update(p, set={"price": 10}, condition=attr("price") > 5)
        await repo.delete(p)
        ```
    """

    def __init__(self, database: Database, mapper: Mapper[T]) -> None:
        self.mapper = mapper
        self.table = database.table_name(mapper)
        self.database = database

    def __repr__(self) -> str:
        return f"Repository({self.mapper.cls.__name__}, table={self.table!r})"

    async def get(
        self,
        key: Any,
        *,
        consistent: bool = False,
        projection: Iterable[PathLike] | None = None,
    ) -> T | None:
        """The item with `key`, or ``None``.

        Args:
            key: the partition value, a ``(partition, sort)`` tuple or a dict.
            consistent: a strongly consistent read (twice the read cost).
            projection: fetch only these fields (the key fields are always fetched);
                every field without a default must be included to build the object.
        """
        with self._context("GetItem", key):
            op = ops.get(self.mapper, key, consistent=consistent, projection=projection)
            response = await self._call("GetItem", op.request(self.table), op.key)
            raw = response.get("Item")
            if raw is None:
                return None
            return self._decode(raw, op.key, projected=bool(op.projection))

    async def get_or_raise(
        self,
        key: Any,
        *,
        consistent: bool = False,
        projection: Iterable[PathLike] | None = None,
    ) -> T:
        """The item with `key`; raises `ItemNotFound` when there is none."""
        found = await self.get(key, consistent=consistent, projection=projection)
        if found is None:
            stored = self.mapper.key(key)
            raise ItemNotFound(
                f"no {self.mapper.cls.__name__} with this key",
                table=self.table,
                operation="GetItem",
                key=self.mapper.key_values(stored),
            )
        return found

    @overload
    async def put(
        self, obj: T, *, condition: Condition | None = None, return_old: Literal[False] = False
    ) -> T: ...

    @overload
    async def put(
        self, obj: T, *, condition: Condition | None = None, return_old: Literal[True]
    ) -> T | None: ...

    @overload
    async def put(
        self, obj: T, *, condition: Condition | None = None, return_old: bool = False
    ) -> T | None: ...

    async def put(
        self, obj: T, *, condition: Condition | None = None, return_old: bool = False
    ) -> T | None:
        """Write `obj`, replacing any item with the same key.

        Returns the object as stored (for a versioned mapper, with its version bumped:
        keep the returned object for the next write), or with ``return_old=True`` the
        item that was replaced (``None`` if there was none).

        Raises:
            ConditionFailed: `condition` was false; `.item` is the stored item.
            VersionConflict: the stored version differs from `obj`'s.
            ItemTooLarge: the item is over 400 KB (nothing is sent).
        """
        with self._context("PutItem", obj):
            op = ops.put(self.mapper, obj, condition=condition, return_old=return_old)
            response = await self._write("PutItem", op)
            if return_old:
                return self._old(response, op.key)
            return op.stored

    async def create(self, obj: T) -> T:
        """Write `obj` only if no item has its key; else raise `ItemAlreadyExists`."""
        with self._context("PutItem", obj):
            op = ops.put(self.mapper, obj, create=True)
            await self._write("PutItem", op)
            return op.stored

    @overload
    async def update(
        self,
        target: Any,
        *,
        set: Mapping[PathLike, Any] | None = None,
        remove: Iterable[PathLike] | None = None,
        add: Mapping[PathLike, Any] | None = None,
        delete: Mapping[PathLike, Any] | None = None,
        condition: Condition | None = None,
        return_values: Literal["ALL_NEW"] = "ALL_NEW",
        upsert: bool = False,
    ) -> T: ...

    @overload
    async def update(
        self,
        target: Any,
        *,
        set: Mapping[PathLike, Any] | None = None,
        remove: Iterable[PathLike] | None = None,
        add: Mapping[PathLike, Any] | None = None,
        delete: Mapping[PathLike, Any] | None = None,
        condition: Condition | None = None,
        return_values: Literal["ALL_OLD"],
        upsert: bool = False,
    ) -> T | None: ...

    @overload
    async def update(
        self,
        target: Any,
        *,
        set: Mapping[PathLike, Any] | None = None,
        remove: Iterable[PathLike] | None = None,
        add: Mapping[PathLike, Any] | None = None,
        delete: Mapping[PathLike, Any] | None = None,
        condition: Condition | None = None,
        return_values: Literal["NONE"],
        upsert: bool = False,
    ) -> None: ...

    @overload
    async def update(
        self,
        target: Any,
        *,
        set: Mapping[PathLike, Any] | None = None,
        remove: Iterable[PathLike] | None = None,
        add: Mapping[PathLike, Any] | None = None,
        delete: Mapping[PathLike, Any] | None = None,
        condition: Condition | None = None,
        return_values: ReturnValues = "ALL_NEW",
        upsert: bool = False,
    ) -> T | None: ...

    async def update(
        self,
        target: Any,
        *,
        set: Mapping[PathLike, Any] | None = None,
        remove: Iterable[PathLike] | None = None,
        add: Mapping[PathLike, Any] | None = None,
        delete: Mapping[PathLike, Any] | None = None,
        condition: Condition | None = None,
        return_values: ReturnValues = "ALL_NEW",
        upsert: bool = False,
    ) -> T | None:
        """Change some attributes of the item `target` (an object or a key).

        Args:
            set: fields to assign (``None`` removes the attribute).
            remove: fields to remove.
            add: numbers to add to number fields, or elements to add to set fields.
            delete: elements to remove from set fields.
            condition: a condition the stored item must meet.
            return_values: ``"ALL_NEW"`` (default) returns the item after the update
                (typed ``T``), ``"ALL_OLD"`` the item before it (``None`` if it was
                new), ``"NONE"`` returns ``None``.

            upsert: create the item if it is missing, as DynamoDB's UpdateItem does.
                Off by default: an item made of only the updated attributes may not
                decode into the class, so a missing item raises `ItemNotFound`.

        Raises:
            ItemNotFound: there is no such item (and `upsert` is off).
            ConditionFailed: `condition` was false; `.item` is the stored item.
            VersionConflict: the stored version differs from `target`'s.
        """
        with self._context("UpdateItem", target):
            changes = Update.of(set=set, remove=remove, add=add, delete=delete)
            op = ops.update(
                self.mapper,
                target,
                changes,
                condition=condition,
                return_values=return_values,
                upsert=upsert,
            )
            response = await self._write("UpdateItem", op)
            if return_values == "NONE":
                return None
            return self._old(response, op.key)

    async def delete(
        self, target: Any, *, condition: Condition | None = None, return_old: bool = False
    ) -> T | None:
        """Delete the item `target` (an object or a key); deleting a missing key is no error.

        Returns the deleted item with ``return_old=True`` (``None`` if there was none).
        An object of a versioned mapper is deleted only if its version is current, so
        deleting a stored (version >= 1) object whose item is gone is a `VersionConflict`.
        """
        with self._context("DeleteItem", target):
            op = ops.delete(self.mapper, target, condition=condition, return_old=return_old)
            response = await self._write("DeleteItem", op)
            return self._old(response, op.key) if return_old else None

    # --- several items ------------------------------------------------------------------

    @overload
    async def batch_get(
        self, keys: Iterable[Any], *, consistent: bool = False, as_dict: Literal[False] = False
    ) -> list[T | None]: ...

    @overload
    async def batch_get(
        self, keys: Iterable[Any], *, consistent: bool = False, as_dict: Literal[True]
    ) -> dict[Any, T | None]: ...

    async def batch_get(
        self, keys: Iterable[Any], *, consistent: bool = False, as_dict: bool = False
    ) -> list[T | None] | dict[Any, T | None]:
        """Read many items by key (BatchGetItem, 100 keys a request, concurrently).

        Returns the objects in key order with ``None`` for missing keys, or with
        ``as_dict=True`` a dict from each key as given (a dict key as the tuple of its
        values) to its object or ``None``.

        Raises:
            BatchGetError: keys were still unprocessed when the retry budget ran out.
        """
        if isinstance(keys, (str, bytes)):
            raise ValidationError(
                f"batch_get takes a collection of keys, not the single key {keys!r}",
                table=self.table,
                operation="BatchGetItem",
            )
        given = list(keys)

        def shaped(items: list[T | None]) -> list[T | None] | dict[Any, T | None]:
            """The list, or the dict the caller asked for."""
            if not as_dict:
                return items
            return {self._dict_key(key): item for key, item in zip(given, items, strict=True)}

        try:
            found = await self.database.batch_get({self.mapper: given}, consistent=consistent)
        except BatchGetError as exc:  # what was read, shaped as the result would be
            exc.found = shaped(exc.found[self.mapper])
            raise
        return shaped(found[self.mapper])

    def _dict_key(self, key: Any) -> Any:
        if isinstance(key, (self.mapper.cls, Mapping)):
            values = (
                key
                if isinstance(key, Mapping)
                else {f: getattr(key, f) for f in self.mapper.key_fields}
            )
            parts = tuple(values[f] for f in self.mapper.key_fields)
            return parts[0] if len(parts) == 1 else parts
        return key

    # --- queries and scans -------------------------------------------------------------

    def query(self, *conditions: Condition, allow_scan: bool = False) -> Query[T]:
        """A query of this class: add conditions with `Query.where`.

        The table or index is chosen from the conditions (see `Query.explain`); with
        `allow_scan`, conditions no table or index can serve scan the whole table.
        """
        built: Query[T] = Query(self, QuerySpec())
        if allow_scan is not False:
            built = built.allow_scan(allow_scan)
        for condition in conditions:
            built = built.where(condition)
        return built

    def where(self, *args: Any) -> Query[T]:
        """``query().where(...)``: ``repo.where("category", "=", "books")``."""
        return self.query().where(*args)

    def scan(self, *conditions: Condition, segments: int = 1) -> Scan[T]:
        """A scan of the whole table, filtered by `conditions`, in `segments` parallel
        segments. Every item is read and paid for: prefer a query where one fits."""
        built: Scan[T] = Scan(self, QuerySpec(scan=True))
        for condition in conditions:
            built = built.filter(condition)
        return built.segments(segments) if segments != 1 else built

    # --- internals --------------------------------------------------------------------

    def _context(self, operation: str, target: Any) -> _ErrorScope:
        """Attach table, operation and (when it is valid) the key to errors raised inside."""
        return _ErrorScope(self, operation, target)

    async def _call(
        self, operation: str, request: dict[str, Any], key: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.database.transport.call(operation, request, key=key)

    async def _write(
        self, operation: str, op: ops.PutOp[T] | ops.UpdateOp[T] | ops.DeleteOp[T]
    ) -> dict[str, Any]:
        try:
            return await self._call(operation, op.request(self.table), op.key)
        except ConditionFailed as exc:
            if (
                exc.attempts > 1
                and isinstance(op, ops.PutOp)
                and exc.item is not None
                and exc.item == op.item
            ):
                # Sent again after a lost response, and the stored item is exactly
                # ours: the first try was applied, and its condition now fails
                # against itself.
                return {}
            raise self._condition_error(exc, op) from exc

    def _condition_error(
        self,
        exc: ConditionFailed,
        op: ops.PutOp[T] | ops.UpdateOp[T] | ops.DeleteOp[T],
    ) -> DynamORMError:
        raw = exc.item
        item: Any = None
        if raw is not None:
            try:
                item = self.mapper.decode(dict(raw))
            except ConversionError:
                item = raw  # the stored item does not fit the class: give it as it is
        context: dict[str, Any] = {
            "table": self.table,
            "operation": exc.operation,
            "key": exc.key,
            "expressions": exc.expressions,
        }
        name = self.mapper.cls.__name__
        if isinstance(op, ops.PutOp) and op.create and raw is not None:
            return ItemAlreadyExists(f"a {name} with this key already exists", item=item, **context)
        if isinstance(op, ops.UpdateOp) and op.must_exist and raw is None:
            return ItemNotFound(
                f"no {name} with this key to update (pass upsert=True to create it)", **context
            )
        if op.is_version_conflict(raw):
            if op.expected_version == 0:
                found = "but a versioned one exists"
            elif raw is None:
                found = "but there is none"
            else:
                found = "but the stored one is different"
            return VersionConflict(
                f"{name} was changed by someone else: expected version "
                f"{op.expected_version} {'(never stored) ' if op.expected_version == 0 else ''}{found}",
                item=item,
                **context,
            )
        return ConditionFailed(exc.message, item=item, **context)

    def _old(self, response: dict[str, Any], key: dict[str, Any]) -> T | None:
        """The item a write returned; the write itself is done, so say so on failure."""
        raw = response.get("Attributes")
        if raw is None:
            return None
        try:
            return self._decode(raw, key, projected=False)
        except ConversionError as exc:
            exc.message += " (the write WAS applied; only reading the returned item failed)"
            raise

    def _decode(self, raw: dict[str, Any], key: dict[str, Any], *, projected: bool) -> T:
        try:
            return self.mapper.decode(raw)
        except ConversionError as exc:
            if projected:
                exc.message += (
                    "; the projection may leave it out: project every field without a default"
                )
            exc.add_context(key=self.mapper.key_values(key))
            raise


class _ErrorScope:
    """Fills in an error's context; the key is worked out only if an error happens.

    A plain class, not a generator context manager: it wraps every request.
    """

    __slots__ = ("operation", "repository", "target")

    def __init__(self, repository: Repository[Any], operation: str, target: Any) -> None:
        self.repository = repository
        self.operation = operation
        self.target = target

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, DynamORMError):
            repo = self.repository
            exc.add_context(table=repo.table, operation=self.operation)
            if exc.key is None:
                with contextlib.suppress(Exception):  # an invalid key stays unnamed
                    exc.add_context(key=readable_key(repo.mapper.key(self.target)))
