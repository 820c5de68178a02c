"""Generated item codecs: one Python function per class, compiled from source.

cattrs' generated functions call one hook per field, and the hooks are general. Here
the common cases are written into the function itself: a ``str``, ``bool`` or small
``int`` field is read or written inline, with a type test; anything else (and any
value the inline test refuses) goes through the field's hook, so the result is the
same as the hooks' (``tests/unit/convert/test_generated_codecs.py`` checks it on
generated classes and values). A failure raises whatever the hook raises; the
`ItemCodec` then explains it with cattrs' detailed converter.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from dynamorm_async.convert import _numbers

__all__ = ["generate_decoder", "generate_encoder"]

_counter = itertools.count()

# Keep in step with the hooks in _hooks.py (checked by identity before inlining).
_INT_LIMIT = 10**_numbers.MAX_DIGITS


def _compile(name: str, lines: list[str], namespace: dict[str, Any]) -> Callable[..., Any]:
    source = "\n".join(lines) + "\n"
    filename = f"<dynamorm_async generated {name} {next(_counter)}>"
    # Registered with linecache so that tracebacks and debuggers show the source.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # our own source
    function: Callable[..., Any] = namespace[name]
    return function


def generate_encoder(
    fields: list[tuple[attrs.Attribute[Any], str, Any]],
    hooks: Mapping[str, Callable[[Any], Any]],
    inline: Mapping[str, type | None],
    omit: frozenset[str],
    null: frozenset[str],
    none_object: Any,
) -> Callable[[Any], dict[str, Any]]:
    """The encoder of a class: `fields` are (attribute, stored name, type); `hooks` the
    encode hook per attribute name; `inline` the built-in scalar type (``str``,
    ``bool``, ``int``) whose default hook a field has, written inline. A field in
    `omit` whose hook gives ``None`` (or `none_object`, NULL of an ``Any``) is left
    out; one in `null` is stored as `none_object` instead."""
    ns: dict[str, Any] = {"_NULL": none_object, "_LIMIT": _INT_LIMIT}
    lines = ["def encode(obj):", "    item = {}"]
    for index, (field, stored, _) in enumerate(fields):
        hook = f"_h{index}"
        ns[hook] = hooks[field.name]
        value = f"obj.{field.name}"
        kind = inline.get(field.name)
        lines.append(f"    v = {value}")
        if kind is str:
            encoded = f"{{'S': v}} if v.__class__ is str else {hook}(v)"
        elif kind is bool:
            encoded = f"{{'BOOL': v}} if v.__class__ is bool else {hook}(v)"
        elif kind is int:
            encoded = (
                f"{{'N': str(v)}} if v.__class__ is int and -_LIMIT < v < _LIMIT else {hook}(v)"
            )
        else:
            encoded = f"{hook}(v)"
        if stored in omit:
            lines += [
                f"    e = {encoded}",
                "    if e is not None and e is not _NULL:",
                f"        item[{stored!r}] = e",
            ]
        elif stored in null:
            lines += [f"    e = {encoded}", f"    item[{stored!r}] = _NULL if e is None else e"]
        else:
            lines.append(f"    item[{stored!r}] = {encoded}")
    lines.append("    return item")
    return _compile("encode", lines, ns)


def generate_decoder(
    cls: type,
    fields: list[tuple[attrs.Attribute[Any], str, Any]],
    hooks: Mapping[str, Callable[[Any, Any], Any]],
    inline: Mapping[str, type | None],
    fillable: frozenset[str],
    none_object: Any,
) -> Callable[[dict[str, Any]], Any]:
    """The decoder of `cls` (see `generate_encoder`): a field with a default is read
    only if its attribute is there; one in `fillable` (no default, may be left out)
    reads a missing attribute as `none_object`; any other missing one is a KeyError."""
    ns: dict[str, Any] = {"_cls": cls, "_NULL": none_object, "_decode_int": _numbers.decode_int}
    # A missing attribute of a field with a default passes the default itself (or
    # calls its factory), which is what attrs does when the argument is left out; a
    # factory that takes self can't be called here, so then such fields go by keyword.
    by_keyword = any(
        f.init and _factory(f) is not None and _factory(f).takes_self for f, _, _ in fields
    )
    positional: list[str] = []
    keywords: list[str] = []
    optional: list[str] = []
    for index, (field, stored, tp) in enumerate(fields):
        if not field.init:
            continue
        hook, type_name = f"_h{index}", f"_t{index}"
        ns[hook], ns[type_name] = hooks[field.name], tp
        kind = inline.get(field.name)
        if field.default is attrs.NOTHING and stored in fillable:
            source = f"o.get({stored!r}, _NULL)"
        else:
            source = f"o[{stored!r}]"
        if kind is str:
            expression = (
                f"(v if (v := (a := {source}).get('S')).__class__ is str "
                f"else {hook}(a, {type_name}))"
            )
        elif kind is bool:
            expression = (
                f"(v if (v := (a := {source}).get('BOOL')).__class__ is bool "
                f"else {hook}(a, {type_name}))"
            )
        elif kind is int:
            expression = f"_decode_int({source}['N'])"
        else:
            expression = f"{hook}({source}, {type_name})"
        if field.default is not attrs.NOTHING:
            if by_keyword:
                optional += [
                    f"    if {stored!r} in o:",
                    f"        r[{field.alias!r}] = {expression}",
                ]
                continue
            default = f"_d{index}"
            factory = _factory(field)
            if factory is not None:
                ns[default] = factory.factory
                default += "()"
            else:
                ns[default] = field.default
            expression = f"({expression} if {stored!r} in o else {default})"
        if field.kw_only:
            keywords.append(f"{field.alias}={expression}")
        else:
            positional.append(expression)
    arguments = ", ".join([*positional, *keywords])
    lines = ["def decode(o):"]
    if optional:
        lines += [
            "    r = {}",
            *optional,
            f"    return _cls({arguments}{', ' if arguments else ''}**r)",
        ]
    else:
        lines.append(f"    return _cls({arguments})")
    return _compile("decode", lines, ns)


def _factory(field: attrs.Attribute[Any]) -> Any:
    """The field's `attrs.Factory` default, or ``None``."""
    default: Any = field.default
    return default if isinstance(default, attrs.Factory) else None  # type: ignore[arg-type]
