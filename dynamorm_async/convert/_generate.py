"""Generated item codecs: one Python function per class, compiled from source.

cattrs' generated functions call one hook per field, and the hooks are general. Here
the common cases are written into the function itself, as described by an `Inline`
tree per field (built by `_hooks`, which knows its own hooks): scalars, Optionals,
nested classes, lists and sets. Every inline path either gives what the field's hook
gives, or falls back to the hook (a type test, or a ``try`` whose ``except`` calls
the hook; free in CPython 3.11 until something raises), so the result is always the
hooks' (``tests/unit/convert/test_generated_codecs.py`` checks it on generated
classes and values). A failure raises whatever the hook raises; the `ItemCodec` then
explains it with cattrs' detailed converter.

Where the package was built with its C extension (``_speedups.c``), the same
description is handed to a compiled codec instead, which follows it step for step;
the Python source stays the reference, the fallback without a compiler, and what
``DYNAMORM_FAST_PATH=0`` gives, for debugging.
"""

from __future__ import annotations

import datetime as dt
import itertools
import linecache
import math
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from dynamorm_async._env import fast_path_default
from dynamorm_async.convert import _numbers

try:
    from dynamorm_async.convert import _speedups

    BUILT = True
except ImportError:  # built without a C compiler, or not on CPython
    BUILT = False

__all__ = [
    "BUILT",
    "COMPILED",
    "Inline",
    "generate_decoder",
    "generate_encoder",
    "key_check",
]

#: Whether codecs made from now on are the compiled ones (the C extension is there
#: and ``DYNAMORM_FAST_PATH`` is not ``0``); tests switch it to check both.
COMPILED = BUILT and fast_path_default()

_counter = itertools.count()

# Keep in step with the hooks in _hooks.py (checked by identity before inlining).
_INT_LIMIT = 10**_numbers.MAX_DIGITS
_MISSING = object()

_BASE_NAMESPACE: dict[str, Any] = {
    "_int": int,
    "_float": float,
    "_Decimal": Decimal,
    "_finite": Decimal.is_finite,
    "_isfinite": math.isfinite,
    "_all": all,
    "_map": map,
    "_fromiso": dt.datetime.fromisoformat,
    "_UTC": dt.timezone.utc,
    "_LIMIT": _INT_LIMIT,
    "_DIGITS": _numbers.MAX_DIGITS,
    "_EXP_MIN": _numbers.MIN_ADJUSTED_EXP,
    "_EXP_MAX": _numbers.MAX_ADJUSTED_EXP,
    "_MISSING": _MISSING,
}
if BUILT:
    # What the C codecs use besides: the UUID class, if its slots are CPython's (as
    # _hooks._uuid_text requires), and Decimal.adjusted for the encoder's check.
    _slots = getattr(uuid.UUID, "__slots__", ())
    _speedups.configure(
        {
            **_BASE_NAMESPACE,
            "_adjusted": Decimal.adjusted,
            "_UUID": uuid.UUID if "int" in _slots and "is_safe" in _slots else None,
            "_SAFE_UNKNOWN": uuid.SafeUUID.unknown,
        }
    )


@attrs.frozen
class Inline:
    """How one value is read or written inline, and the hook that stands behind it.

    `kind` is ``"hook"`` (call `hook`), a scalar (``"str"``, ``"bool"``, ``"int"``,
    ``"float"``, ``"decimal"``, ``"datetime"``, ``"uuid"``), ``"class"`` (a nested
    attrs class: `function` is its generated codec, `cls` the class), ``"optional"``
    and ``"list"`` (`inner` describes the value or element), or ``"set"`` (`tag` is
    ``SS`` or ``NS``, `function` the element decoder or ``None`` for strings, `make`
    ``set`` or ``frozenset``; decoding), ``"strset"`` (a string set; encoding) or
    ``"numset"`` (a number set; encoding: `function` is the element's decoder, which
    says which numbers they are). `tp` is the type the decode hook is called with. The
    Python source calls the hook of the encoding kinds ``"datetime"``, ``"uuid"``,
    ``"strset"`` and ``"numset"``; the compiled codecs write them inline.
    """

    kind: str
    hook: Callable[..., Any]
    tp: Any = None
    inner: Inline | None = None
    function: Callable[..., Any] | None = None
    cls: type | None = None
    tag: str = ""
    make: type = set


class _Source:
    """The lines of a function being generated, and the objects they name."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = dict(_BASE_NAMESPACE)
        self._names = itertools.count()

    def name(self, value: Any) -> str:
        """A new global name for `value` in the generated function."""
        name = f"_g{next(self._names)}"
        self.namespace[name] = value
        return name

    def variable(self) -> str:
        return f"v{next(self._names)}"


def _compile(name: str, lines: list[str], namespace: dict[str, Any]) -> Callable[..., Any]:
    source = "\n".join(lines) + "\n"
    filename = f"<dynamorm_async generated {name} {next(_counter)}>"
    # Registered with linecache so that tracebacks and debuggers show the source.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # our own source
    function: Callable[..., Any] = namespace[name]
    return function


# --- encoding ------------------------------------------------------------------------


def _encode_expression(spec: Inline, value: str, src: _Source) -> str:
    """An expression giving what ``spec.hook(value)`` gives; `value` is a name."""
    hook = src.name(spec.hook)
    fallback = f"{hook}({value})"
    kind = spec.kind
    if kind == "str":
        return f"({{'S': {value}}} if {value}.__class__ is str else {fallback})"
    if kind == "bool":
        return f"({{'BOOL': {value}}} if {value}.__class__ is bool else {fallback})"
    if kind == "int":
        return (
            f"({{'N': str({value})}} if {value}.__class__ is int "
            f"and -_LIMIT < {value} < _LIMIT else {fallback})"
        )
    if kind == "float":
        # encode_float: finite and non-zero (zero is "0"), with no exponent in its repr.
        text = src.variable()
        return (
            f"({{'N': {text}}} if {value}.__class__ is float and {value} - {value} == 0.0 "
            f"and {value} and 'e' not in ({text} := repr({value})) else {fallback})"
        )
    if kind == "decimal":
        # encode_decimal: finite and non-zero, and its text within DynamoDB's limits.
        text = src.variable()
        return (
            f"({{'N': {text}}} if {value}.__class__ is _Decimal and _finite({value}) "
            f"and {value} and len({text} := str({value})) <= _DIGITS "
            f"and _EXP_MIN <= {value}.adjusted() <= _EXP_MAX else {fallback})"
        )
    if kind == "class":
        function, cls = src.name(spec.function), src.name(spec.cls)
        return f"({{'M': {function}({value})}} if {value}.__class__ is {cls} else {fallback})"
    if kind == "optional":
        assert spec.inner is not None
        return f"(None if {value} is None else {_encode_expression(spec.inner, value, src)})"
    if kind == "list":
        assert spec.inner is not None
        element = src.variable()
        encoded = _encode_expression(spec.inner, element, src)
        if spec.inner.kind not in ("str", "bool", "int", "float", "decimal", "class"):
            # The others' hooks may give None (an Optional's None, an empty set):
            hole = src.variable()
            encoded = f"(_NULL if ({hole} := {encoded}) is None else {hole})"  # NULL in a list
        return (
            f"({{'L': [{encoded} for {element} in {value}]}} "
            f"if {value}.__class__ is list else {fallback})"
        )
    return fallback


def generate_encoder(
    fields: list[tuple[attrs.Attribute[Any], str, Inline]],
    omit: frozenset[str],
    null: frozenset[str],
    none_object: Any,
) -> Callable[[Any], dict[str, Any]]:
    """The encoder of a class: `fields` are (attribute, stored name, how its value is
    encoded). A field in `omit` whose hook gives ``None`` (or `none_object`, NULL of
    an ``Any``) is left out; one in `null` is stored as `none_object` instead."""
    if COMPILED:
        modes = [2 if stored in null else 1 if stored in omit else 0 for _, stored, _ in fields]
        described = tuple(
            (field.name, stored, mode, _described(spec))
            for (field, stored, spec), mode in zip(fields, modes, strict=True)
        )
        encoder: Callable[[Any], dict[str, Any]] = _speedups.Encoder(described, none_object)
        return encoder
    src = _Source()
    src.namespace["_NULL"] = none_object
    lines = ["def encode(obj):", "    item = {}"]
    for field, stored, spec in fields:
        lines.append(f"    v = obj.{field.name}")
        encoded = _encode_expression(spec, "v", src)
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
    return _compile("encode", lines, src.namespace)


# --- decoding ------------------------------------------------------------------------


def _decode_expression(spec: Inline, av: str, src: _Source) -> str | None:
    """An expression giving what ``spec.hook(av, spec.tp)`` gives, where one does."""
    kind = spec.kind
    if kind in ("str", "bool"):
        tag, cls = ("S", "str") if kind == "str" else ("BOOL", "bool")
        v = src.variable()
        return (
            f"({v} if ({v} := {av}.get({tag!r})).__class__ is {cls} "
            f"else {src.name(spec.hook)}({av}, {src.name(spec.tp)}))"
        )
    if kind == "class":
        return f"{src.name(spec.function)}({av}['M'])"  # exactly what its hook does
    if kind == "hook":
        return f"{src.name(spec.hook)}({av}, {src.name(spec.tp)})"
    return None


def _guarded(
    target: str, attempt: str, suspect: str | None, fallback: str, indent: str
) -> list[str]:
    """`target` = `attempt`, or `fallback` if that raises or leaves `suspect` true."""
    lines = [
        f"{indent}try:",
        f"{indent}    {target} = {attempt}",
        f"{indent}except Exception:",
        f"{indent}    {target} = {fallback}",
    ]
    if suspect is not None:
        lines += [
            f"{indent}else:",
            f"{indent}    if {suspect}:",
            f"{indent}        {target} = {fallback}",
        ]
    return lines


# The attempt and the suspect test of the scalar kinds: each hook first does exactly
# the attempt, then refuses or adjusts what the test catches (see _numbers, _hooks).
_SCALARS: dict[str, tuple[str, str | None]] = {
    "int": ("_int({av}['N'])", None),
    "float": ("_float({av}['N'])", "{t} - {t}"),  # inf - inf and nan - nan are nan
    "decimal": ("_Decimal({av}['N'])", "not _finite({t})"),
    "datetime": ("_fromiso({av}['S'])", "{t}.tzinfo is not _UTC"),
}


def _decode_lines(spec: Inline, av: str, target: str, src: _Source, indent: str) -> list[str]:
    """Statements setting `target` to what ``spec.hook(av, spec.tp)`` gives."""
    expression = _decode_expression(spec, av, src)
    if expression is not None:
        return [f"{indent}{target} = {expression}"]
    fallback = f"{src.name(spec.hook)}({av}, {src.name(spec.tp)})"
    kind = spec.kind
    if kind in _SCALARS:
        attempt, suspect = _SCALARS[kind]
        return _guarded(
            target,
            attempt.format(av=av),
            suspect.format(t=target) if suspect else None,
            fallback,
            indent,
        )
    if kind == "uuid":
        return _guarded(target, f"{src.name(spec.function)}({av}['S'])", None, fallback, indent)
    if kind == "optional":
        assert spec.inner is not None
        return [
            f"{indent}if 'NULL' in {av}:",
            f"{indent}    {target} = None",
            f"{indent}else:",
            *_decode_lines(spec.inner, av, target, src, indent + "    "),
        ]
    if kind == "list":
        assert spec.inner is not None
        element = src.variable()
        inner = _decode_expression(spec.inner, element, src)
        if inner is not None:
            return [f"{indent}{target} = [{inner} for {element} in {av}['L']]"]
        value = src.variable()
        return [
            f"{indent}{target} = []",
            f"{indent}for {element} in {av}['L']:",
            *_decode_lines(spec.inner, element, value, src, indent + "    "),
            f"{indent}    {target}.append({value})",
        ]
    if kind == "set":
        make = src.name(spec.make)
        if spec.function is None:
            attempt = f"{make}({av}[{spec.tag!r}])"
            suspect = f"'NULL' in {av}"
        else:
            function = src.name(spec.function)
            attempt = f"{make}(_map({function}, {av}[{spec.tag!r}]))"
            suspect = f"'NULL' in {av}"
            if spec.function is _numbers.decode_decimal:
                attempt = f"{make}(_map(_Decimal, {av}[{spec.tag!r}]))"
                suspect += f" or not _all(_map(_finite, {target}))"
            elif spec.function is _numbers.decode_float:
                attempt = f"{make}(_map(_float, {av}[{spec.tag!r}]))"
                suspect += f" or not _all(_map(_isfinite, {target}))"
            elif spec.function is _numbers.decode_int:
                attempt = f"{make}(_map(_int, {av}[{spec.tag!r}]))"
        return _guarded(target, attempt, suspect, fallback, indent)
    raise AssertionError(f"unknown inline kind {kind!r}")  # pragma: no cover


def generate_decoder(
    cls: type,
    fields: list[tuple[attrs.Attribute[Any], str, Inline]],
    fillable: frozenset[str],
    none_object: Any,
) -> Callable[[dict[str, Any]], Any]:
    """The decoder of `cls` (see `generate_encoder`): a field with a default is read
    only if its attribute is there; one in `fillable` (no default, may be left out)
    reads a missing attribute as `none_object`; any other missing one is a KeyError."""
    src = _Source()
    src.namespace.update(_cls=cls, _NULL=none_object)
    # A missing attribute of a field with a default passes the default itself (or
    # calls its factory), which is what attrs does when the argument is left out; a
    # factory that takes self can't be called here, so then such fields go by keyword.
    by_keyword = any(
        f.init and _factory(f) is not None and _factory(f).takes_self for f, _, _ in fields
    )
    lines = ["def decode(o):"]
    if by_keyword:
        lines.append("    r = {}")
    positional: list[str] = []
    keywords: list[str] = []
    for index, (field, stored, spec) in enumerate(fields):
        if not field.init:
            continue
        target = f"f{index}"
        if field.default is attrs.NOTHING:
            source = f"o.get({stored!r}, _NULL)" if stored in fillable else f"o[{stored!r}]"
            lines.append(f"    a = {source}")
            lines += _decode_lines(spec, "a", target, src, "    ")
        elif by_keyword:
            lines.append(f"    if {stored!r} in o:")
            lines.append(f"        a = o[{stored!r}]")
            lines += _decode_lines(spec, "a", target, src, "        ")
            lines.append(f"        r[{field.alias!r}] = {target}")
            continue
        else:
            factory = _factory(field)
            default = (
                f"{src.name(factory.factory)}()" if factory is not None else src.name(field.default)
            )
            lines += [
                f"    a = o.get({stored!r}, _MISSING)",
                "    if a is _MISSING:",
                f"        {target} = {default}",
                "    else:",
                *_decode_lines(spec, "a", target, src, "        "),
            ]
        if field.kw_only:
            keywords.append(f"{field.alias}={target}")
        else:
            positional.append(target)
    arguments = ", ".join([*positional, *keywords, *(["**r"] if by_keyword else [])])
    lines.append(f"    return _cls({arguments})")
    python = _compile("decode", lines, src.namespace)
    if not COMPILED or by_keyword:
        return python
    described = tuple(
        _described_field(f, stored, spec, fillable) for f, stored, spec in fields if f.init
    )
    decoder: Callable[[dict[str, Any]], Any] = _speedups.Decoder(
        cls, described, none_object, python
    )
    return decoder


# --- key values ----------------------------------------------------------------------


def _keys_settled(item: dict[str, Any], keys: tuple[tuple[str, int, bool], ...]) -> bool:
    """Whether every key attribute of `item` needs no closer look: `keys` are (stored
    name, size limit, required). A key is settled if it is absent and not required (an
    index's), or one plain value: ASCII text (a byte a character) of 1 to `limit`
    characters, or a number. The mapper checks the others in full."""
    for stored, limit, required in keys:
        encoded = item.get(stored, _MISSING)
        if encoded is _MISSING:
            if required:
                return False
            continue
        if encoded.__class__ is not dict or len(encoded) != 1:
            return False
        text = encoded.get("S")
        if text.__class__ is str:
            if not (0 < len(text) <= limit and text.isascii()):
                return False
        elif text is not None or "N" not in encoded:
            return False
    return True


def key_check() -> Callable[[dict[str, Any], tuple[tuple[str, int, bool], ...]], bool]:
    """`_keys_settled`, compiled where codecs are."""
    return _speedups.keys_settled if COMPILED else _keys_settled


# --- compiled codecs -----------------------------------------------------------------

# Numbered as in _speedups.c.
_KINDS = {
    "hook": 0,
    "str": 1,
    "bool": 2,
    "int": 3,
    "float": 4,
    "decimal": 5,
    "datetime": 6,
    "uuid": 7,
    "class": 8,
    "optional": 9,
    "list": 10,
    "set": 11,
    "strset": 12,
    "numset": 13,
}
_ELEMENTS = {
    None: 0,  # strings, taken as they are
    _numbers.decode_decimal: 1,
    _numbers.decode_float: 2,
    _numbers.decode_int: 3,
}


def _described(spec: Inline) -> tuple[Any, ...]:
    """`spec` as the C codecs take it."""
    is_set = spec.kind == "set"
    return (
        _KINDS[spec.kind],
        _ELEMENTS.get(spec.function, 4) if spec.kind in ("set", "numset") else 0,
        spec.hook,
        spec.tp,
        None if spec.inner is None else _described(spec.inner),
        spec.function,
        spec.cls,
        spec.tag or None,
        spec.make if is_set else None,
    )


def _described_field(
    field: attrs.Attribute[Any], stored: str, spec: Inline, fillable: frozenset[str]
) -> tuple[Any, ...]:
    """A decoded field as the C decoder takes it (modes as in _speedups.c)."""
    factory = _factory(field)
    if field.default is attrs.NOTHING:
        mode, default = (1 if stored in fillable else 0), None
    elif factory is not None:
        mode, default = 3, factory.factory
    else:
        mode, default = 2, field.default
    return (stored, mode, default, _described(spec), field.alias if field.kw_only else None)


def _factory(field: attrs.Attribute[Any]) -> Any:
    """The field's `attrs.Factory` default, or ``None``."""
    default: Any = field.default
    return default if isinstance(default, attrs.Factory) else None  # type: ignore[arg-type]
