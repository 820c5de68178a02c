"""Single-item operations as data: Get, Put, Update, Delete.

An operation is built from a mapper and the user's arguments (validated, encoded,
with optimistic locking applied), and turned into a request payload in one place,
`request(table)`. Repositories send them one by one; a unit of work or a
transaction sends the same operations in batches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, Literal, TypeVar

import attrs

from dynamorm_async.convert import MAX_ITEM_BYTES, item_size
from dynamorm_async.errors import ItemTooLarge, ValidationError
from dynamorm_async.expressions import (
    Condition,
    Params,
    Path,
    PathLike,
    Update,
    UpdateValue,
    as_paths,
    attr,
    check_length,
)
from dynamorm_async.mapping import Mapper

__all__ = [
    "CheckOp",
    "DeleteOp",
    "GetOp",
    "PutOp",
    "ReturnValues",
    "UpdateOp",
    "WriteOp",
    "check",
    "delete",
    "get",
    "projection_expression",
    "projection_paths",
    "put",
    "update",
]

T = TypeVar("T")

#: What an update returns: nothing, the whole item after or before the update.
ReturnValues = Literal["NONE", "ALL_NEW", "ALL_OLD"]


def _with_expressions(
    request: dict[str, Any], mapper: Mapper[Any], condition: Condition | None, params: Params
) -> dict[str, Any]:
    if condition is not None:
        request["ConditionExpression"] = check_length(
            "ConditionExpression", condition.compile(mapper, params)
        )
    request.update(params.request_fields())
    return request


def projection_expression(mapper: Mapper[Any], paths: Iterable[Path], params: Params) -> str:
    """A ProjectionExpression of `paths` plus the table's key fields.

    Keys are always fetched, so that an item can be decoded and identified.
    DynamoDB refuses overlapping paths: "a" is kept once, and "a.b" dropped after "a".
    """
    wanted: list[tuple[str | int, ...]] = [(name,) for name in mapper.key_fields]
    wanted += [p.elements for p in paths]
    kept: list[tuple[str | int, ...]] = []
    for elements in sorted(wanted, key=len):
        if not any(elements[: len(k)] == k for k in kept):
            kept.append(elements)
    kept.sort(key=wanted.index)
    text = ", ".join(Path(e).compile(mapper, params)[0] for e in kept)
    return check_length("ProjectionExpression", text)


@attrs.frozen
class GetOp(Generic[T]):
    """Read one item by key."""

    mapper: Mapper[T]
    key: dict[str, Any]
    consistent: bool = False
    projection: tuple[Path, ...] = ()

    def request(self, table: str) -> dict[str, Any]:
        """The GetItem payload for `table`."""
        request: dict[str, Any] = {"TableName": table, "Key": self.key}
        if self.consistent:
            request["ConsistentRead"] = True
        if self.projection:
            params = Params()
            request["ProjectionExpression"] = projection_expression(
                self.mapper, self.projection, params
            )
            request.update(params.request_fields())
        return request


@attrs.frozen
class _Write(Generic[T]):
    """What every write has: the mapper, the key, a condition and version bookkeeping."""

    mapper: Mapper[T]
    key: dict[str, Any]
    condition: Condition | None
    #: For a versioned item: the version the write expects to find (0: no item yet).
    expected_version: int | None

    def is_version_conflict(self, stored: dict[str, Any] | None) -> bool:
        """Whether a failed condition is explained by the version, given the stored item."""
        if self.expected_version is None:
            return False
        name = self.mapper.stored_name(self.mapper.version_attribute or "")
        current = stored.get(name) if isinstance(stored, dict) else None
        number = current.get("N") if isinstance(current, dict) else None
        try:
            # No item, or an item written before versioning, counts as version 0.
            return int(number or 0) != self.expected_version
        except (TypeError, ValueError):  # not a version this library wrote: it differs
            return True


@attrs.frozen
class PutOp(_Write[T]):
    """Write a whole item, replacing any item with the same key."""

    item: dict[str, Any] = attrs.field(kw_only=True)
    #: The object as it is stored (with its new version, for a versioned mapper).
    stored: T = attrs.field(kw_only=True)
    return_old: bool = attrs.field(default=False, kw_only=True)
    #: Fail with ItemAlreadyExists if the key is taken.
    create: bool = attrs.field(default=False, kw_only=True)

    def request(self, table: str) -> dict[str, Any]:
        """The PutItem payload for `table`."""
        request: dict[str, Any] = {"TableName": table, "Item": self.item}
        if self.return_old:
            request["ReturnValues"] = "ALL_OLD"
        if self.condition is not None:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return _with_expressions(request, self.mapper, self.condition, Params())

    @property
    def batchable(self) -> bool:
        """Whether BatchWriteItem can send it: no condition, no version, no return value."""
        return self.condition is None and not self.return_old

    def batch_request(self) -> dict[str, Any]:
        """Its BatchWriteItem entry."""
        return {"PutRequest": {"Item": self.item}}

    def transact_item(self, table: str) -> dict[str, Any]:
        """Its TransactWriteItems action."""
        return {"Put": _transactable(self.request(table))}


def _transactable(request: dict[str, Any]) -> dict[str, Any]:
    # A transaction returns no values, only the item of a failed condition.
    request.pop("ReturnValues", None)
    if "ConditionExpression" in request:
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return request


@attrs.frozen
class UpdateOp(_Write[T]):
    """Change some attributes of an item (creating it if it does not exist)."""

    update: Update = attrs.field(kw_only=True)
    return_values: ReturnValues = attrs.field(default="ALL_NEW", kw_only=True)
    #: The update carries "the item exists" in its condition (it is not an upsert).
    must_exist: bool = attrs.field(default=False, kw_only=True)

    def request(self, table: str) -> dict[str, Any]:
        """The UpdateItem payload for `table`."""
        params = Params()
        request: dict[str, Any] = {
            "TableName": table,
            "Key": self.key,
            "UpdateExpression": self.update.compile(self.mapper, params),
        }
        if self.return_values != "NONE":
            request["ReturnValues"] = self.return_values
        if self.condition is not None:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return _with_expressions(request, self.mapper, self.condition, params)

    batchable = False  # BatchWriteItem has no updates

    def transact_item(self, table: str) -> dict[str, Any]:
        """Its TransactWriteItems action."""
        return {"Update": _transactable(self.request(table))}


@attrs.frozen
class DeleteOp(_Write[T]):
    """Delete an item by key."""

    return_old: bool = attrs.field(default=False, kw_only=True)

    def request(self, table: str) -> dict[str, Any]:
        """The DeleteItem payload for `table`."""
        request: dict[str, Any] = {"TableName": table, "Key": self.key}
        if self.return_old:
            request["ReturnValues"] = "ALL_OLD"
        if self.condition is not None:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return _with_expressions(request, self.mapper, self.condition, Params())

    @property
    def batchable(self) -> bool:
        """Whether BatchWriteItem can send it: no condition, no version, no return value."""
        return self.condition is None and not self.return_old

    def batch_request(self) -> dict[str, Any]:
        """Its BatchWriteItem entry."""
        return {"DeleteRequest": {"Key": self.key}}

    def transact_item(self, table: str) -> dict[str, Any]:
        """Its TransactWriteItems action."""
        return {"Delete": _transactable(self.request(table))}


@attrs.frozen
class CheckOp(_Write[T]):
    """A condition on an item that a transaction (or a unit of work) requires."""

    batchable = False

    def request(self, table: str) -> dict[str, Any]:
        """The ConditionCheck payload for `table`."""
        request: dict[str, Any] = {"TableName": table, "Key": self.key}
        return _with_expressions(request, self.mapper, self.condition, Params())

    def transact_item(self, table: str) -> dict[str, Any]:
        """Its TransactWriteItems action."""
        return {"ConditionCheck": _transactable(self.request(table))}


#: Every write operation.
WriteOp = PutOp[Any] | UpdateOp[Any] | DeleteOp[Any] | CheckOp[Any]


# --- builders ---------------------------------------------------------------------------


def _and(*conditions: Condition | None) -> Condition | None:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    combined = present[0]
    for condition in present[1:]:
        combined = combined & condition
    return combined


def _check_condition(condition: Any) -> Condition | None:
    if condition is not None and not isinstance(condition, Condition):
        raise ValidationError(
            f"condition must be built with attr(...), e.g. attr('price') > 5; got {condition!r}"
        )
    return condition


def _version_guard(mapper: Mapper[Any], version: int) -> Condition:
    """The condition a versioned write needs: the loaded version.

    Version 0 is "never versioned": no item, or one written before the mapper had a
    version attribute, so that such items can still be written through their object.
    """
    if version == 0:
        return attr(mapper.version_attribute or "").not_exists()
    return attr(mapper.version_attribute or "") == version


def _version_of(mapper: Mapper[Any], obj: Any) -> int:
    version = getattr(obj, mapper.version_attribute or "")
    if version is None:
        return 0
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ValidationError(
            f"{mapper.cls.__name__}.{mapper.version_attribute} must be an int >= 0, got {version!r}",
        )
    return version


def projection_paths(mapper: Mapper[Any], projection: Any) -> tuple[Path, ...]:
    """Paths from names or `attr` paths, checked against the class before sending."""
    paths = tuple(p if isinstance(p, Path) else attr(p) for p in as_paths("projection", projection))
    for path in paths:
        mapper.resolve_path(path.elements)  # unknown fields fail here
    return paths


def get(
    mapper: Mapper[T],
    key: Any,
    *,
    consistent: bool = False,
    projection: Iterable[PathLike] | None = None,
) -> GetOp[T]:
    """A GetItem of `key` (partition value, ``(pk, sk)`` tuple or dict)."""
    return GetOp(mapper, mapper.key(key), consistent, projection_paths(mapper, projection))


def put(
    mapper: Mapper[T],
    obj: T,
    *,
    condition: Condition | None = None,
    create: bool = False,
    return_old: bool = False,
) -> PutOp[T]:
    """A PutItem of `obj`, with the version bumped and checked for a versioned mapper."""
    if not isinstance(obj, mapper.cls):
        raise ValidationError(
            f"{mapper!r} stores {mapper.cls.__name__}, not {type(obj).__name__}",
            operation="PutItem",
        )
    condition = _check_condition(condition)
    expected: int | None = None
    stored = obj
    guards: list[Condition | None] = [condition]
    if create:
        guards.append(attr(mapper.partition_key).not_exists())
    if mapper.version_attribute is not None:
        version = _version_of(mapper, obj)
        if not create:  # create's own guard already says "no item yet"
            expected = version
            guards.append(_version_guard(mapper, version))
        stored = attrs.evolve(obj, **{mapper.version_attribute: version + 1})  # type: ignore[misc]
    item = mapper.encode(stored)
    key = {
        mapper.fields[name].stored: item[mapper.fields[name].stored] for name in mapper.key_fields
    }
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ItemTooLarge(
            f"{mapper.cls.__name__} item is {size:,} bytes; DynamoDB's limit is "
            f"{MAX_ITEM_BYTES:,} (400 KB, names and values)",
            size=size,
            limit=MAX_ITEM_BYTES,
            operation="PutItem",
            key=mapper.key_values(key),
        )
    return PutOp(
        mapper,
        key,
        _and(*guards),
        expected,
        item=item,
        stored=stored,
        return_old=return_old,
        create=create,
    )


def update(
    mapper: Mapper[T],
    target: Any,
    changes: Update,
    *,
    condition: Condition | None = None,
    return_values: ReturnValues = "ALL_NEW",
    upsert: bool = False,
) -> UpdateOp[T]:
    """An UpdateItem of `target` (an object or a key).

    Unless `upsert`, the item must exist: DynamoDB would otherwise create an item
    holding only the updated attributes, which may not decode into the class. For
    a versioned mapper, an object's loaded version is checked and bumped (version 0
    means "no item yet"); a bare key bumps the version without checking it.
    """
    if return_values not in ("NONE", "ALL_NEW", "ALL_OLD"):
        raise ValidationError(
            f"return_values must be 'NONE', 'ALL_NEW' or 'ALL_OLD', not {return_values!r}",
            operation="UpdateItem",
        )
    condition = _check_condition(condition)
    key_fields = set(mapper.key_fields)
    for path in changes.paths():
        if path.elements[0] in key_fields:
            raise ValidationError(
                f"cannot update key field {path}: a key identifies the item; delete and put instead",
                operation="UpdateItem",
            )
        if mapper.version_attribute is not None and path.elements[0] == mapper.version_attribute:
            raise ValidationError(
                f"{path} is the version attribute; it is managed for you",
                operation="UpdateItem",
            )
        mapper.resolve_path(path.elements)
    for path, value in changes.set:
        if isinstance(value, UpdateValue):
            continue  # computed by DynamoDB: a key value it builds is checked there
        if len(path.elements) == 1 and value is not None:  # an index key being set
            name = str(path.elements[0])
            mapper.check_key_value(name, mapper.encode_value(value, mapper.field_types[name]))
    for path in changes.remove:
        mapper.check_removable(path.elements, to_none=False)
    for path in (p for p, v in changes.set if v is None):
        mapper.check_removable(path.elements, to_none=True)
    key = mapper.key(target)
    expected: int | None = None
    guards: list[Condition | None] = [condition]
    if mapper.version_attribute is not None:
        version_path = attr(mapper.version_attribute)
        if isinstance(target, mapper.cls):
            expected = _version_of(mapper, target)
            guards.append(_version_guard(mapper, expected))
            changes = attrs.evolve(changes, set=(*changes.set, (version_path, expected + 1)))
        else:
            changes = attrs.evolve(changes, add=(*changes.add, (version_path, 1)))
    # A version >= 1 guard already requires the item; version 0 does not.
    must_exist = not upsert and not expected
    if must_exist:
        guards.append(attr(mapper.partition_key).exists())
    if not changes:
        raise ValidationError(
            "an update needs at least one of set, remove, add, delete",
            operation="UpdateItem",
        )
    return UpdateOp(
        mapper,
        key,
        _and(*guards),
        expected,
        update=changes,
        return_values=return_values,
        must_exist=must_exist,
    )


def check(mapper: Mapper[T], key: Any, condition: Condition) -> CheckOp[T]:
    """A condition that the item with `key` must meet (``attr(...)`` conditions)."""
    checked = _check_condition(condition)
    if checked is None:
        raise ValidationError("check() needs a condition, e.g. attr('stock') > 0")
    return CheckOp(mapper, mapper.key(key), checked, None)


def delete(
    mapper: Mapper[T],
    target: Any,
    *,
    condition: Condition | None = None,
    return_old: bool = False,
) -> DeleteOp[T]:
    """A DeleteItem of `target` (an object or a key); an object's version is checked."""
    condition = _check_condition(condition)
    key = mapper.key(target)
    expected: int | None = None
    guards: list[Condition | None] = [condition]
    if mapper.version_attribute is not None and isinstance(target, mapper.cls):
        # Version 0 (never stored) deletes nothing, and refuses to delete a stored item.
        expected = _version_of(mapper, target)
        guards.append(_version_guard(mapper, expected))
    return DeleteOp(mapper, key, _and(*guards), expected, return_old=return_old)
