"""`Mapper[T]`: ties a plain attrs class to a table, its keys and indexes.

The class is never subclassed or decorated; everything the library knows about
it lives here. A mapper validates itself when built, so a mistake in a key,
index or field name fails at import time with the class and field named, not at
the first request.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar, cast

import attrs

from dynamorm_async.convert import (
    EpochSeconds,
    ItemCodec,
    TypeRegistry,
    decode_any,
    default_registry,
    item_size,
    key_check,
    omission_reads_back,
)
from dynamorm_async.errors import ConversionError, MappingError, ValidationError, readable_key
from dynamorm_async.specs import GlobalIndex, LocalIndex, TableOptions, valid_name

__all__ = ["FieldInfo", "Mapper"]

T = TypeVar("T")

MAX_LOCAL_INDEXES = 5
MAX_GLOBAL_INDEXES = 20


@attrs.frozen
class FieldInfo:
    """One mapped field: its Python name, stored name and declared type."""

    name: str
    stored: str
    type: Any
    required: bool


class Mapper(Generic[T]):
    """Maps the attrs class `cls` to a DynamoDB table.

    Args:
        cls: a plain attrs class (``@attrs.define`` / ``@attrs.frozen``).
        table: the table's logical name; a `Database` may add a prefix or template.
        partition_key: the field holding the partition (hash) key.
        sort_key: the field holding the sort (range) key, if the table has one.
        indexes: `GlobalIndex` and `LocalIndex` specifications.
        field_names: stored attribute names for fields whose Python name differs.
        version_attribute: an ``int`` field used for optimistic locking: every write
            of an object checks it equals the loaded value and stores it plus one
            (a write by bare key only increments it).
        ttl_attribute: a ``datetime`` or ``int`` field holding the expiry time; a
            ``datetime`` there is stored as epoch seconds, as DynamoDB's TTL needs.
        registry: the converters to use (default: the process-wide registry).
        options: how the table is provisioned (`TableOptions`: billing, throughput,
            stream, encryption, tags, deletion protection, table class); used by
            ``db.schema`` to create the table and to diff it with the live one.

    Example:
        >>> import attrs
        >>> @attrs.define
        ... class Order:
        ...     customer: str
        ...     number: int
        ...     total: int
        >>> orders = Mapper(Order, table="orders", partition_key="customer", sort_key="number")
        >>> orders.key_of(Order("c1", 7, 30))
        {'customer': {'S': 'c1'}, 'number': {'N': '7'}}
    """

    def __init__(
        self,
        cls: type[T],
        *,
        table: str,
        partition_key: str,
        sort_key: str | None = None,
        indexes: Sequence[GlobalIndex | LocalIndex] = (),
        field_names: Mapping[str, str] | None = None,
        version_attribute: str | None = None,
        ttl_attribute: str | None = None,
        registry: TypeRegistry | None = None,
        options: TableOptions | None = None,
    ) -> None:
        if not isinstance(cast(Any, cls), type) or not attrs.has(cast(Any, cls)):
            raise MappingError(
                f"{cls!r} is not an attrs class; decorate it with @attrs.define or @attrs.frozen"
            )
        self.cls = cls
        self.table = table
        self.registry = registry or default_registry
        try:
            attrs.resolve_types(cast(Any, cls))
        except NameError as exc:
            raise self._error(f"cannot resolve the type annotations: {exc}") from exc
        if not valid_name(table):
            raise self._error(
                f"table name {table!r} must be 3-255 characters of letters, digits, '_', '-', '.'"
            )
        names: Any = field_names
        if names is not None and not (
            isinstance(names, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in names.items())
        ):
            raise self._error(
                f"field_names must map field names to stored names, not {field_names!r}"
            )
        rename = dict(field_names or {})
        self.fields: dict[str, FieldInfo] = {}
        self._resolved: dict[tuple[str | int, ...], tuple[tuple[str | int, ...], Any]] = {}
        for field in attrs.fields(cast(Any, cls)):
            self.fields[field.name] = FieldInfo(
                field.name,
                rename.get(field.name, field.name),
                field.type,
                field.default is attrs.NOTHING,
            )
        for name in rename:
            self._field(name, "field_names")
        self._check_stored_names()

        self.partition_key = partition_key
        self.sort_key = sort_key
        self.version_attribute = version_attribute
        self.ttl_attribute = ttl_attribute
        # Special fields first: a TTL datetime is stored (and keyed) as a number.
        field_types = self._check_special_fields()
        self.field_types = {name: field_types.get(name, f.type) for name, f in self.fields.items()}
        self._key_types: dict[str, str] = {}
        self._key_limits: dict[str, int] = {}
        self._check_key(partition_key, "partition_key")
        if sort_key is not None:
            if sort_key == partition_key:
                raise self._error(f"sort_key {sort_key!r} is also the partition key")
            self._check_key(sort_key, "sort_key")
        self.indexes: dict[str, GlobalIndex | LocalIndex] = {}
        self._check_indexes(indexes)
        self.options = self._check_options(options)

        self.codec: ItemCodec[T] = ItemCodec(
            cls, self.registry, {f.name: f.stored for f in self.fields.values()}, field_types
        )
        self.key_fields = (partition_key,) if sort_key is None else (partition_key, sort_key)
        # (field, stored name, size limit, required) of every key, table's and indexes'.
        self._key_checks = [
            (name, self.fields[name].stored, limit, name in self.key_fields)
            for name, limit in self._key_limits.items()
        ]
        # The usual keys (short ASCII text, numbers) are settled in one compiled call.
        self._keys_settled = key_check()
        self._settled_keys = tuple(
            (stored, limit, req) for _, stored, limit, req in self._key_checks
        )

    def __repr__(self) -> str:
        return f"Mapper({self.cls.__name__}, table={self.table!r})"

    # --- validation ---------------------------------------------------------------

    def _error(self, message: str) -> MappingError:
        return MappingError(f"{self.cls.__name__}: {message}")

    def _field(self, name: str, role: str) -> FieldInfo:
        if not isinstance(name, str):
            raise self._error(f"{role} must be a field name (str), not {name!r}")
        info = self.fields.get(name)
        if info is None:
            close = difflib.get_close_matches(name, self.fields, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise self._error(f"{role} names {name!r}, which is not a field{hint}")
        return info

    def _check_stored_names(self) -> None:
        seen: dict[str, str] = {}
        for info in self.fields.values():
            if not info.stored:
                raise self._error(f"field {info.name!r} has an empty stored name")
            if info.stored in seen:
                raise self._error(
                    f"fields {seen[info.stored]!r} and {info.name!r} are both stored as {info.stored!r}"
                )
            seen[info.stored] = info.name

    def _check_key(self, name: str, role: str, *, sparse: bool = False) -> str:
        info = self._field(name, role)
        # DynamoDB's key size limits: 2048 bytes for a partition key, 1024 for a sort key.
        limit = 1024 if role.endswith("sort_key") else 2048
        self._key_limits[name] = min(limit, self._key_limits.get(name, limit))
        tp = self.field_types[name]
        # An index key may be Optional: items without it stay out of the index (sparse).
        kind = self.registry.scalar_type(_strip_optional(tp) if sparse else tp)
        if kind is None:
            raise self._error(
                f"{role} {name!r} has type {_type_name(info.type)}, which DynamoDB cannot use "
                "as a key (keys are strings, numbers or binary: str, int, Decimal, bytes, "
                "UUID, date, datetime, or an Enum of those)"
            )
        previous = self._key_types.setdefault(info.stored, kind)
        if previous != kind:  # pragma: no cover - one field has one type
            raise self._error(f"{name!r} is used as a key of two types")
        return kind

    def _check_indexes(self, indexes: Iterable[GlobalIndex | LocalIndex]) -> None:
        if isinstance(indexes, (GlobalIndex, LocalIndex)) or not isinstance(indexes, Iterable):
            raise self._error(f"indexes must be a list of GlobalIndex/LocalIndex, not {indexes!r}")
        local = 0
        for index in indexes:
            if not isinstance(index, (GlobalIndex, LocalIndex)):
                raise self._error(f"indexes must be GlobalIndex or LocalIndex, not {index!r}")
            if not valid_name(index.name):
                raise self._error(
                    f"index name {index.name!r} must be 3-255 characters of letters, digits, '_', '-', '.'"
                )
            if index.name in self.indexes:
                raise self._error(f"two indexes are named {index.name!r}")
            where = f"index {index.name!r}"
            if isinstance(index, LocalIndex):
                local += 1
                if self.sort_key is None:
                    raise self._error(
                        f"local {where} needs the table to have a sort key (LSIs share the "
                        "table's partition key and replace its sort key)"
                    )
                self._check_key(index.sort_key, f"{where} sort_key", sparse=True)
            else:
                self._check_key(index.partition_key, f"{where} partition_key", sparse=True)
                if index.sort_key is not None:
                    self._check_key(index.sort_key, f"{where} sort_key", sparse=True)
            for name in index.projection.attributes:
                self._field(name, f"{where} projection")
            self.indexes[index.name] = index
        if local > MAX_LOCAL_INDEXES:
            raise self._error(f"{local} local indexes; DynamoDB allows at most {MAX_LOCAL_INDEXES}")
        global_count = len(self.indexes) - local
        if global_count > MAX_GLOBAL_INDEXES:
            raise self._error(
                f"{global_count} global indexes; DynamoDB allows at most {MAX_GLOBAL_INDEXES}"
            )

    def _check_options(self, options: TableOptions | None) -> TableOptions:
        if options is None:
            return TableOptions()
        if not isinstance(options, TableOptions):
            raise self._error(f"options must be a TableOptions, not {options!r}")
        for name, _ in options.index_throughput:
            if not isinstance(self.indexes.get(name), GlobalIndex):
                raise self._error(f"index_throughput names {name!r}, which is not a global index")
        return options

    def _check_special_fields(self) -> dict[str, Any]:
        field_types: dict[str, Any] = {}
        if self.version_attribute is not None:
            info = self._field(self.version_attribute, "version_attribute")
            if info.type is not int:
                raise self._error(f"version_attribute {info.name!r} must be an int field")
            if info.name in (self.partition_key, self.sort_key):
                raise self._error("the version attribute cannot be a key")
        if self.ttl_attribute is not None:
            info = self._field(self.ttl_attribute, "ttl_attribute")
            base = _strip_optional(info.type)
            if base is dt.datetime:
                field_types[info.name] = (
                    Annotated[dt.datetime, EpochSeconds]
                    if base is info.type
                    else Annotated[dt.datetime, EpochSeconds] | None
                )
            elif base is not int and not _is_epoch(base):
                raise self._error(
                    f"ttl_attribute {info.name!r} must be a datetime or an int of epoch seconds"
                )
        return field_types

    # --- names and types ------------------------------------------------------------

    @property
    def key_attributes(self) -> dict[str, str]:
        """Stored names of every key attribute (table and indexes) and their types."""
        return dict(self._key_types)

    def stored_name(self, field: str) -> str:
        """The stored attribute name of a Python field."""
        return self._field(field, "the request").stored

    def resolve_path(self, elements: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], Any]:
        """Stored names for a path of Python names, and the type at its end.

        Walks nested attrs classes, lists and maps; an unknown field raises
        `MappingError` listing close matches. Results are remembered: every
        expression resolves its paths, and a class has few distinct ones.
        """
        found = self._resolved.get(elements)
        if found is None:
            found = self._resolved[elements] = self._resolve_path(elements)
            if len(self._resolved) > 4096:  # list indexes make paths unbounded
                self._resolved.clear()
        return found

    def _resolve_path(self, elements: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], Any]:
        first = elements[0]
        if not isinstance(first, str):  # pragma: no cover - paths start with a name
            raise self._error(f"path {elements!r} must start with a field name")
        info = self._field(first, "the expression")
        stored: list[str | int] = [info.stored]
        tp: Any = self.field_types[first]
        for position, element in enumerate(elements[1:], start=1):
            tp = _strip_optional(tp)
            where = ".".join(str(e) for e in elements[:position])
            if tp is Any or tp is object:
                tp = Any
            elif isinstance(element, int):
                if not _is_sequence(tp):
                    raise self._error(
                        f"{where} holds {_type_name(tp)}, not a list: it has no [{element}]"
                    )
                tp = _item_type(tp)
            elif attrs.has(tp):
                names = attrs.fields_dict(attrs.resolve_types(tp))
                if element not in names:
                    close = difflib.get_close_matches(element, names, n=3)
                    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                    raise self._error(f"{where} ({tp.__name__}) has no field {element!r}{hint}")
                tp = names[element].type
            elif _is_mapping(tp):
                tp = _value_type(tp)
            else:
                raise self._error(f"{where} holds {_type_name(tp)}, which has no field {element!r}")
            stored.append(element)
        return tuple(stored), tp

    def _attrs_field(self, elements: tuple[str | int, ...]) -> tuple[Any, Any] | None:
        """The attrs field a path ends on, and its type; None for list/map elements."""
        parent: Any = self.cls
        if len(elements) > 1:
            parent = _strip_optional(self.resolve_path(elements[:-1])[1])
        name = elements[-1]
        if isinstance(name, int) or not attrs.has(parent):
            return None
        field = attrs.fields_dict(attrs.resolve_types(parent))[name]
        return field, (self.field_types[name] if parent is self.cls else field.type)

    def omits_none(self, elements: tuple[str | int, ...]) -> bool:
        """Whether a None (or empty set) at this path is stored by leaving it out.

        As for whole items: left out when that reads back the same, else NULL.
        """
        found = self._attrs_field(elements)
        return found is None or omission_reads_back(found[0])

    def check_removable(self, elements: tuple[str | int, ...], *, to_none: bool) -> None:
        """Refuse an update that would leave an item its class cannot read back.

        ``remove=`` needs a field that may be absent (a default, Optional, a set);
        ``set={field: None}`` (`to_none`) needs a field that may hold None.
        """
        found = self._attrs_field(elements)
        if found is None:
            return  # list elements and map keys can always go
        field, tp = found
        path = ".".join(str(e) for e in elements)
        nullable = _strip_optional(tp) is not tp or tp is Any or _is_set(tp)
        if to_none and not nullable:
            raise ValidationError(f"cannot set {path} to None: its type is {_type_name(tp)}")
        if not to_none and field.default is attrs.NOTHING and not nullable:
            raise ValidationError(
                f"cannot remove {path}: it has no default and is not Optional, so the "
                "item could no longer be read"
            )

    def encode_value(self, value: Any, tp: Any) -> dict[str, Any] | None:
        """`value` as an AttributeValue of type `tp` (for expressions)."""
        encoded = self.registry.encode_value(value, tp)
        if encoded is not None:
            # Walks the text as a put's size check does: what has no UTF-8 form (a lone
            # surrogate) is refused before it is sent.
            item_size({"": encoded})
        return encoded

    # --- items and keys --------------------------------------------------------------

    def encode(self, obj: T) -> dict[str, Any]:
        """`obj` as a DynamoDB item (checked: key values present and non-empty)."""
        item = self.codec.encode(obj)
        if not self._keys_settled(item, self._settled_keys):
            for name, stored, _, required in self._key_checks:  # index keys may be absent
                self.check_key_value(name, item.get(stored), required=required)
        return item

    def decode(self, item: dict[str, Any]) -> T:
        """An instance of the class from a DynamoDB item."""
        return self.codec.decode(item)

    def decode_fields(self, item: dict[str, Any]) -> dict[str, Any]:
        """The fields present in `item` (e.g. a projection), by Python name.

        Each value is read as its field's type; one that cannot be (a nested object
        projected in part) is given as plain Python values.
        """
        out: dict[str, Any] = {}
        for name, info in self.fields.items():
            av = item.get(info.stored)
            if av is None:
                continue
            try:
                out[name] = self.registry.decode_value(av, self.field_types[name])
            except ConversionError:
                out[name] = decode_any(av)
        return out

    def key_of(self, obj: T) -> dict[str, Any]:
        """The key of `obj` as DynamoDB expects it (stored names, AttributeValues)."""
        if not isinstance(obj, self.cls):
            raise ValidationError(f"expected a {self.cls.__name__}, got {type(obj).__name__}")
        return self._key({name: getattr(obj, name) for name in self.key_fields})

    def key(self, key: Any) -> dict[str, Any]:
        """A key from the partition value, a ``(partition, sort)`` tuple or a dict.

        The dict form takes Python field names. The key is checked: every key field
        present, no extra fields, values of the right type and not empty.
        """
        if isinstance(key, self.cls):
            return self.key_of(key)
        if isinstance(key, Mapping):
            values = dict(key)
            extra = set(values) - set(self.key_fields)
            if extra:
                raise ValidationError(
                    f"{self.cls.__name__} key has unknown fields {sorted(extra, key=repr)}; "
                    f"the key fields are {list(self.key_fields)}",
                )
            missing = [name for name in self.key_fields if name not in values]
            if missing:
                raise ValidationError(f"{self.cls.__name__} key is missing {missing}")
        elif isinstance(key, tuple):
            if len(key) != len(self.key_fields):
                raise ValidationError(
                    f"{self.cls.__name__} key takes {len(self.key_fields)} value(s) "
                    f"{list(self.key_fields)}, got {len(key)}: {key!r}",
                )
            values = dict(zip(self.key_fields, key, strict=True))
        elif self.sort_key is not None:
            raise ValidationError(
                f"{self.cls.__name__} has a composite key: give (partition, sort) or a dict "
                f"with {list(self.key_fields)}, not {key!r}",
            )
        else:
            values = {self.partition_key: key}
        return self._key(values)

    def _key(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.key_fields:
            info = self.fields[name]
            value = values[name]
            if value is None:
                raise ValidationError(
                    f"{self.cls.__name__}.{name} is a key field and cannot be None",
                )
            try:
                encoded = self.registry.encode_value(value, self.field_types[name])
            except Exception as exc:
                raise ValidationError(
                    f"{self.cls.__name__}.{name} key value {value!r} is invalid: {exc}",
                ) from exc
            self.check_key_value(name, encoded)
            out[info.stored] = encoded
        return out

    def check_key_value(
        self, name: str, encoded: dict[str, Any] | None, *, required: bool = True
    ) -> None:
        """Refuse a value DynamoDB would refuse in a key attribute (table or index).

        Key values cannot be empty strings or binary, and are at most 2048 bytes for a
        partition key, 1024 for a sort key. Index keys may be absent (`required`).
        """
        if name not in self._key_limits:
            return
        if encoded is None:
            if required:
                raise ValidationError(
                    f"{self.cls.__name__}.{name} is a key field and must have a value"
                )
            return
        ((tag, value),) = encoded.items()
        if tag == "N":
            return
        if value in ("", b""):
            raise ValidationError(
                f"{self.cls.__name__}.{name} is a key field and cannot be empty "
                "(DynamoDB allows empty strings and binary everywhere but in keys)",
            )
        try:
            size = len(value.encode("utf-8")) if tag == "S" else len(value)
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"{self.cls.__name__}.{name} is not valid Unicode text (a lone surrogate)"
            ) from exc
        if size > self._key_limits[name]:
            raise ValidationError(
                f"{self.cls.__name__}.{name} is a key field of {size} bytes; DynamoDB "
                f"allows at most {self._key_limits[name]} for a "
                f"{'sort' if self._key_limits[name] == 1024 else 'partition'} key"
            )

    def key_values(self, key: Mapping[str, Any]) -> dict[str, Any]:
        """A stored key rendered readably for error messages (``{"id": "p1"}``)."""
        return readable_key(key)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _strip_optional(tp: Any) -> Any:
    args = typing.get_args(tp)
    if (
        args
        and type(None) in args
        and (typing.get_origin(tp) is typing.Union or _is_union_type(tp))
    ):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return tp


def _is_union_type(tp: Any) -> bool:
    union_type = getattr(types, "UnionType", None)
    return union_type is not None and isinstance(tp, union_type)


def _is_epoch(tp: Any) -> bool:
    return typing.get_origin(tp) is Annotated and EpochSeconds in typing.get_args(tp)[1:]


def _is_set(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return origin in (set, frozenset)


def _is_sequence(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return origin in (list, tuple, Sequence)


def _is_mapping(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return origin in (dict, Mapping)


def _item_type(tp: Any) -> Any:
    args = typing.get_args(tp)
    return args[0] if args else Any


def _value_type(tp: Any) -> Any:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (dict, Mapping) and len(args) == 2:
        return args[1]
    return Any
