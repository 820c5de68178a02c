"""``dynamorm generate model``: the source of an attrs class and a Mapper for a live table.

`generate_model` is a pure function: it reads DynamoDB's description of a table
(``DescribeTable``'s ``Table``) and a sample of its raw items (as ``Scan`` returns
them) and returns the Python source of a module. Nothing is imported or executed.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from dynamorm_async.errors import ValidationError
from dynamorm_async.specs import valid_name

__all__ = ["generate_model"]

_OPERATION = "generate model"
_WIDTH = 88  # ruff format's default line length
_KEY_TYPES = ("S", "N", "B")
_TAGS = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
# An integer exactly as `int` prints it, so that reading it as an int writes it back
# unchanged ("007", "-0", "1.0" or "1E+3" read as Decimal instead).
_INTEGER_TEXT = re.compile(r"0|-?[1-9][0-9]*")
# Words of a name: runs of letters and digits, split where camelCase humps start.
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+")
# Names the generated module uses in annotations and at module level: a field (class
# scope) or a class / mapper (module scope) of one of these names would shadow it.
_RESERVED = frozenset(
    {
        "Any",
        "Decimal",
        "GlobalIndex",
        "LocalIndex",
        "Mapper",
        "annotations",
        "attrs",
        "bool",
        "bytes",
        "datetime",
        "dict",
        "frozenset",
        "int",
        "list",
        "self",
        "str",
    }
)


@attrs.define
class _Attribute:
    """What is known of one stored attribute: its key role and the types it was seen with."""

    stored: str
    tags: set[str] = attrs.Factory(set)  # the sampled types, NULL aside
    integers: bool = True  # every sampled N / NS value is an integer text
    key_type: str | None = None  # S, N or B for a table or index key attribute
    table_key: bool = False
    ttl: bool = False


@attrs.define
class _Field:
    """One field of the generated class."""

    name: str
    stored: str
    annotation: str
    default: str | None  # source of the default; None for a required field


def generate_model(
    table: dict[str, Any],
    items: Sequence[dict[str, Any]],
    *,
    class_name: str | None = None,
    mapper_name: str | None = None,
    ttl_attribute: str | None = None,
) -> str:
    """Python source of a module with an attrs class and a Mapper for a live table.

    Args:
        table: DynamoDB's ``DescribeTable`` ``Table`` description (``TableName``,
            ``KeySchema``, ``AttributeDefinitions``, ``GlobalSecondaryIndexes``,
            ``LocalSecondaryIndexes``).
        items: a sample of the table's raw items in wire format
            (``{"id": {"S": "a"}}``), as ``Scan`` returns them; may be empty.
        class_name: the class's name; default: the table name in CamelCase
            (``"order-items"`` gives ``OrderItems``).
        mapper_name: the mapper variable's name; default: the table name in
            snake_case (``order_items``).
        ttl_attribute: the stored name of the table's TTL attribute, if any: its field
            becomes ``datetime.datetime | None`` and the mapper's ``ttl_attribute``.

    Types come from the key schema and the sample. Table key fields are required,
    typed from their ``AttributeType`` (``S`` str, ``N`` int or Decimal, ``B`` bytes)
    and come first, partition then sort key. Every other attribute, in order of
    field name, may be missing from items outside the sample, so it gets a default:
    ``frozenset()`` for sets (``frozenset[str | int | Decimal | bytes]``),
    ``None`` for the rest (``str | None``, ``int | None`` or ``Decimal | None`` as
    the sampled numbers are all integers or not, ``bytes``, ``bool``,
    ``list[Any]``, ``dict[str, Any]``; ``Any | None`` for an attribute seen with
    several types, only as NULL, or not at all). Index key attributes are typed
    from their ``AttributeType`` too. A stored name that is not a plain ASCII
    identifier, is a keyword, starts with ``_`` or would shadow a name the module
    uses (``str``, ``Any``...) gets a snake_case field name and an entry in
    ``field_names``; collisions get a numeric suffix.

    Every sampled item reads back through the generated mapper, and writes back as
    itself, except that top-level NULL attributes are left out (a None field is not
    stored), set elements may come in another order, and numbers are written as the
    library writes them: the same text for the canonical numbers DynamoDB returns,
    the same value otherwise (a TTL's epoch seconds get six decimals if fractional).

    Raises:
        ValidationError: the description lacks a table name or a usable key schema,
            an item is not in wire format, the TTL attribute is not a number, or a
            given class or mapper name is not a usable identifier.
    """
    described: object = table  # checked: it comes from outside
    name = described.get("TableName") if isinstance(described, Mapping) else None
    if not isinstance(name, str) or not valid_name(name):
        raise _error(f"the table description has no valid TableName: {name!r}", None)
    definitions = _definitions(table, name)
    attributes: dict[str, _Attribute] = {}

    def attribute(stored: str) -> _Attribute:
        found = attributes.get(stored)
        if found is None:
            found = attributes[stored] = _Attribute(stored)
        return found

    keys = _key_schema(table.get("KeySchema"), name, "the table")
    for stored in keys:
        info = attribute(stored)
        info.table_key = True
        info.key_type = _key_type(definitions, stored, name)
    indexes = _indexes(table, name, keys, definitions, attribute)
    sampled = _sample(items, name, attribute)
    if ttl_attribute is not None:
        _mark_ttl(ttl_attribute, name, attribute)

    rest = sorted(stored for stored, info in attributes.items() if not info.table_key)
    names = _field_names([*keys, *rest])
    rest.sort(key=lambda stored: (names[stored], stored))
    fields = [_field(names[stored], attributes[stored]) for stored in (*keys, *rest)]
    cls = _class_name(class_name, name)
    variable = _mapper_name(mapper_name, name)
    if cls == variable:
        raise _error(f"the class and the mapper are both named {cls!r}", name)
    return _module(name, sampled, cls, variable, fields, keys, indexes, names, ttl_attribute)


# --- reading the description -----------------------------------------------------------


def _error(message: str, table: str | None) -> ValidationError:
    return ValidationError(message, table=table, operation=_OPERATION)


def _definitions(table: Mapping[str, Any], name: str) -> dict[str, str]:
    """``AttributeDefinitions`` as stored name -> S / N / B."""
    raw = table.get("AttributeDefinitions")
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise _error("the table description has no AttributeDefinitions list", name)
    out: dict[str, str] = {}
    for entry in raw:
        stored = entry.get("AttributeName") if isinstance(entry, Mapping) else None
        kind = entry.get("AttributeType") if isinstance(entry, Mapping) else None
        if not isinstance(stored, str) or not stored or kind not in _KEY_TYPES:
            raise _error(f"invalid attribute definition {entry!r}", name)
        out[stored] = kind
    return out


def _key_schema(raw: Any, name: str, where: str) -> tuple[str, ...]:
    """A ``KeySchema`` as ``(partition,)`` or ``(partition, sort)`` stored names."""
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise _error(f"{where} has no KeySchema", name)
    roles: dict[str, str] = {}
    for entry in raw:
        stored = entry.get("AttributeName") if isinstance(entry, Mapping) else None
        role = entry.get("KeyType") if isinstance(entry, Mapping) else None
        if not isinstance(stored, str) or not stored or role not in ("HASH", "RANGE"):
            raise _error(f"{where} has an invalid KeySchema element {entry!r}", name)
        if role in roles:
            raise _error(f"{where} has two {role} keys in its KeySchema", name)
        roles[role] = stored
    if "HASH" not in roles:
        raise _error(f"{where} has no partition (HASH) key in its KeySchema", name)
    if roles.get("RANGE") == roles["HASH"]:
        raise _error(f"{where} uses {roles['HASH']!r} as both partition and sort key", name)
    return (roles["HASH"],) if "RANGE" not in roles else (roles["HASH"], roles["RANGE"])


def _key_type(definitions: Mapping[str, str], stored: str, name: str) -> str:
    kind = definitions.get(stored)
    if kind is None:
        raise _error(f"key attribute {stored!r} has no AttributeDefinitions entry", name)
    return kind


@attrs.frozen
class _Index:
    """A secondary index, by stored names."""

    name: str
    local: bool
    keys: tuple[str, ...]  # (partition, sort) of a GSI; (sort,) of an LSI
    projection: str | tuple[str, ...]  # ALL, KEYS_ONLY, or the included attributes


def _indexes(
    table: Mapping[str, Any],
    name: str,
    keys: tuple[str, ...],
    definitions: Mapping[str, str],
    attribute: Callable[[str], _Attribute],
) -> list[_Index]:
    out: list[_Index] = []
    for field, local in (("GlobalSecondaryIndexes", False), ("LocalSecondaryIndexes", True)):
        raw = table.get(field) or []
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise _error(f"{field} must be a list, not {raw!r}", name)
        found: list[_Index] = []
        for entry in raw:
            index_name = entry.get("IndexName") if isinstance(entry, Mapping) else None
            if not isinstance(index_name, str) or not valid_name(index_name):
                raise _error(f"{field} has an index without a valid IndexName: {entry!r}", name)
            where = f"index {index_name!r}"
            index_keys = _key_schema(entry.get("KeySchema"), name, where)
            if local:
                if len(keys) == 1:
                    raise _error(f"local {where} needs the table to have a sort key", name)
                if index_keys[0] != keys[0] or len(index_keys) != 2:
                    raise _error(
                        f"local {where} must have the table's partition key {keys[0]!r} and a sort key",
                        name,
                    )
                index_keys = index_keys[1:]
            for stored in index_keys:
                info = attribute(stored)
                info.key_type = _key_type(definitions, stored, name)
            found.append(_Index(index_name, local, index_keys, _projection(entry, name, where)))
        out += sorted(found, key=lambda index: index.name)
    for index in out:
        if isinstance(index.projection, tuple):
            for stored in index.projection:
                attribute(stored)
    return out


def _projection(entry: Mapping[str, Any], name: str, where: str) -> str | tuple[str, ...]:
    raw = entry.get("Projection") or {}
    kind = raw.get("ProjectionType", "ALL") if isinstance(raw, Mapping) else None
    if kind in ("ALL", "KEYS_ONLY"):
        return str(kind)
    included = raw.get("NonKeyAttributes") if isinstance(raw, Mapping) else None
    if (
        kind != "INCLUDE"
        or not isinstance(included, Sequence)
        or isinstance(included, str)
        or not included
        or not all(isinstance(a, str) and a for a in included)
    ):
        raise _error(f"{where} has an invalid Projection {raw!r}", name)
    return tuple(dict.fromkeys(included))


# --- reading the sample ------------------------------------------------------------------


def _sample(items: object, name: str, attribute: Callable[[str], _Attribute]) -> int:
    """Record the types each attribute of `items` holds; returns how many items there are."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise _error(f"items must be a list of items, not {type(items).__name__}", name)
    count = 0
    for position, item in enumerate(items):
        count += 1
        if not isinstance(item, Mapping):
            raise _error(f"item {position} is not a dict: {item!r}", name)
        for stored, value in item.items():
            tag = _tag(value)
            if not isinstance(stored, str) or not stored or tag is None:
                raise _error(
                    f"item {position} is not in DynamoDB's wire format: {stored!r}: {value!r}",
                    name,
                )
            info = attribute(stored)
            if tag == "NULL":
                continue
            info.tags.add(tag)
            if tag == "N":
                info.integers = info.integers and _is_integer(value["N"])
            elif tag == "NS":
                info.integers = info.integers and all(_is_integer(v) for v in value["NS"])
    return count


def _tag(value: Any) -> str | None:
    """The type of an AttributeValue (``{"S": "x"}`` is S), or None if it is not one."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    ((tag, inner),) = value.items()
    if tag not in _TAGS:
        return None
    if tag in ("N", "NS"):
        texts = [inner] if tag == "N" else inner
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return None
    return str(tag)


def _is_integer(text: str) -> bool:
    return _INTEGER_TEXT.fullmatch(text) is not None


def _mark_ttl(stored: object, name: str, attribute: Callable[[str], _Attribute]) -> None:
    if not isinstance(stored, str) or not stored:
        raise _error(f"ttl_attribute must be an attribute name, not {stored!r}", name)
    info = attribute(stored)
    if info.key_type not in (None, "N"):
        raise _error(
            f"the TTL attribute {stored!r} is a key of type {info.key_type}; TTL needs a number",
            name,
        )
    if info.tags - {"N"}:
        raise _error(
            f"the TTL attribute {stored!r} holds {', '.join(sorted(info.tags))} values in the "
            "sample; TTL needs a number (epoch seconds)",
            name,
        )
    info.ttl = True


# --- the class -------------------------------------------------------------------------


def _field(name: str, info: _Attribute) -> _Field:
    if info.ttl:
        return _Field(
            name,
            info.stored,
            "datetime.datetime" if info.table_key else "datetime.datetime | None",
            None if info.table_key else "None",
        )
    if info.key_type is not None:
        base = {"S": "str", "N": _number(info.integers), "B": "bytes"}[info.key_type]
        if info.table_key:
            return _Field(name, info.stored, base, None)
        return _Field(name, info.stored, f"{base} | None", "None")
    if len(info.tags) != 1:
        return _Field(name, info.stored, "Any | None", "None")
    (tag,) = info.tags
    sets = {"SS": "str", "NS": _number(info.integers), "BS": "bytes"}
    if tag in sets:
        return _Field(name, info.stored, f"frozenset[{sets[tag]}]", "frozenset()")
    base = {
        "S": "str",
        "N": _number(info.integers),
        "B": "bytes",
        "BOOL": "bool",
        "L": "list[Any]",
        "M": "dict[str, Any]",
    }[tag]
    return _Field(name, info.stored, f"{base} | None", "None")


def _number(integers: bool) -> str:
    return "int" if integers else "Decimal"


def _words(name: str) -> list[str]:
    return _WORDS.findall(name)


def _snake(name: str) -> str:
    return "_".join(word.lower() for word in _words(name))


def _usable(name: str) -> bool:
    """Whether `name` can be used as it is for a field, class or mapper."""
    return (
        name.isascii()
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and name not in _RESERVED
    )


def _field_names(stored_names: Sequence[str]) -> dict[str, str]:
    """A Python field name for each stored name: itself when usable, else a snake_case
    form, with a trailing ``_`` for a keyword or reserved name (``class_``) and a
    numeric suffix (``my_attr_2``) for a name already taken."""
    out = {stored: stored for stored in stored_names if _usable(stored)}
    taken = set(out)
    for stored in stored_names:
        if stored in out:
            continue
        base = _snake(stored) or "attr"
        if base[0].isdigit():
            base = f"attr_{base}"
        if not _usable(base):
            base += "_"
        candidate, number = base, 2
        while candidate in taken:
            candidate = f"{base.rstrip('_')}_{number}"
            number += 1
        out[stored] = candidate
        taken.add(candidate)
    return {stored: out[stored] for stored in stored_names}


def _class_name(given: str | None, table: str) -> str:
    if given is not None:
        _check_identifier(given, "class_name", table)
        return given
    name = "".join(word[0].upper() + word[1:] for word in _words(table))
    if not name or name[0].isdigit():
        name = f"Table{name}"
    return name if _usable(name) else f"{name}Model"


def _mapper_name(given: str | None, table: str) -> str:
    if given is not None:
        _check_identifier(given, "mapper_name", table)
        return given
    name = _snake(table)
    if not name or name[0].isdigit():
        name = f"table_{name}".rstrip("_")
    return name if _usable(name) else f"{name}_mapper"


def _check_identifier(name: object, role: str, table: str) -> None:
    if not isinstance(name, str) or not _usable(name):
        raise _error(
            f"{role} must be an ASCII Python identifier that is not a keyword, does not "
            f"start with '_' and is not one of {', '.join(sorted(_RESERVED))}; got {name!r}",
            table,
        )


# --- the source ------------------------------------------------------------------------


class _Call:
    """A call to lay out: ``func(arg, name=value, ...)``; values are source or nodes."""

    def __init__(self, func: str, *args: Any, **kwargs: Any) -> None:
        self.func = func
        self.args: list[tuple[str | None, Any]] = [(None, a) for a in args]
        self.args += list(kwargs.items())


def _string(text: str) -> str:
    """A string literal, with double quotes where that needs no escapes (as ruff writes)."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = f'"{literal[1:-1]}"'
    return literal


def _flat(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, _Call):
        args = (_flat(v) if k is None else f"{k}={_flat(v)}" for k, v in node.args)
        return f"{node.func}({', '.join(args)})"
    if isinstance(node, dict):
        return "{" + ", ".join(f"{k}: {_flat(v)}" for k, v in node.items()) + "}"
    return "[" + ", ".join(_flat(v) for v in node) + "]"


def _layout(node: Any, indent: int, start: int, *, expand: bool = False) -> str:
    """`node` as source starting at column `start` on a line indented by `indent`, as
    ``ruff format`` lays out brackets: on one line if it fits (with the ``,`` or ``)``
    after it); else, for a call whose arguments fit on one line, that line between
    the brackets; else one element a line with a trailing comma. `expand` forces the
    last form (its magic trailing comma keeps it so under ruff format)."""
    flat = _flat(node)
    if isinstance(node, str) or (not expand and start + len(flat) + 1 <= _WIDTH):
        return flat
    pad = " " * (indent + 4)
    end = " " * indent
    if isinstance(node, _Call):
        inner = flat[len(node.func) + 1 : -1]
        if not expand and len(pad) + len(inner) <= _WIDTH:
            return f"{node.func}(\n{pad}{inner}\n{end})"
        opening, closing = f"{node.func}(", ")"
        elements = [(None if k is None else f"{k}=", v) for k, v in node.args]
    elif isinstance(node, dict):
        opening, closing = "{", "}"
        elements = [(f"{k}: ", v) for k, v in node.items()]
    else:
        opening, closing = "[", "]"
        elements = [(None, v) for v in node]
    lines = [opening]
    for prefix, value in elements:
        head = pad + (prefix or "")
        lines.append(f"{head}{_layout(value, indent + 4, len(head))},")
    return "\n".join([*lines, end + closing])


def _module(
    table: str,
    sampled: int,
    cls: str,
    variable: str,
    fields: Sequence[_Field],
    keys: tuple[str, ...],
    indexes: Sequence[_Index],
    names: Mapping[str, str],
    ttl_attribute: str | None,
) -> str:
    annotations = " ".join(f.annotation for f in fields)
    stdlib = []
    if "datetime." in annotations:
        stdlib.append("import datetime")
    if re.search(r"\bDecimal\b", annotations):
        stdlib.append("from decimal import Decimal")
    if re.search(r"\bAny\b", annotations):
        stdlib.append("from typing import Any")
    library = ["Mapper"]
    library += ["GlobalIndex"] if any(not i.local for i in indexes) else []
    library += ["LocalIndex"] if any(i.local for i in indexes) else []

    mapper = _Call("Mapper", cls, table=_string(table), partition_key=_string(names[keys[0]]))
    if len(keys) == 2:
        mapper.args.append(("sort_key", _string(names[keys[1]])))
    if indexes:
        mapper.args.append(("indexes", [_index(i, names) for i in indexes]))
    renamed = {_string(f.name): _string(f.stored) for f in fields if f.name != f.stored}
    if renamed:
        mapper.args.append(("field_names", renamed))
    if ttl_attribute is not None:
        mapper.args.append(("ttl_attribute", _string(names[ttl_attribute])))

    plural = "item" if sampled == 1 else "items"
    lines = [
        f'"""Generated by `dynamorm generate model` from table {table!r}.',
        "",
        f"Field types come from the table's key schema and a sample of {sampled} {plural}.",
        "Attributes outside the key are optional, as items outside the sample may lack",
        "them; review the types before relying on them.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *stdlib,
        *([""] if stdlib else []),
        "import attrs",
        f"from dynamorm_async import {', '.join(sorted(library))}",
        "",
        "",
        "@attrs.define",
        f"class {cls}:",
        f'    """An item of the table {table!r}."""',
        "",
    ]
    for f in fields:
        default = "" if f.default is None else f" = {f.default}"
        lines.append(f"    {f.name}: {f.annotation}{default}")
    lines += ["", "", f"{variable} = {_layout(mapper, 0, len(variable) + 3, expand=True)}"]
    return "\n".join(lines) + "\n"


def _index(index: _Index, names: Mapping[str, str]) -> _Call:
    projection: Any = (
        _string(index.projection)
        if isinstance(index.projection, str)
        else [_string(names[a]) for a in index.projection]
    )
    if index.local:
        return _Call(
            "LocalIndex",
            _string(index.name),
            sort_key=_string(names[index.keys[0]]),
            projection=projection,
        )
    call = _Call("GlobalIndex", _string(index.name), partition_key=_string(names[index.keys[0]]))
    if len(index.keys) == 2:
        call.args.append(("sort_key", _string(names[index.keys[1]])))
    call.args.append(("projection", projection))
    return call
