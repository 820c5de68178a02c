"""Paths and conditions as frozen data, compiled to DynamoDB expression text.

``attr("price") > 5`` builds a `Compare`; ``&``, ``|`` and ``~`` combine
conditions. Nothing is encoded until `Condition.compile`, which takes a
`Resolver` (the mapper) to turn Python names into stored names and values into
AttributeValues of the field's type, and a `Params` to allocate placeholders.
Compiled text is cached per resolver by the condition's structure (see `_cache`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from dynamorm_async.errors import ValidationError
from dynamorm_async.expressions._cache import compile_cached
from dynamorm_async.expressions._params import Params, Resolver
from dynamorm_async.expressions._path import parse_path

if TYPE_CHECKING:
    from dynamorm_async.expressions._update import Arithmetic, ListAppend

__all__ = [
    "ATTRIBUTE_TYPES",
    "And",
    "AttributeType",
    "Between",
    "Compare",
    "Condition",
    "Exists",
    "Function",
    "In",
    "Not",
    "Or",
    "Path",
    "Size",
    "attr",
    "size",
    "where",
]

#: The type codes ``attribute_type`` accepts.
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")


class _Operand:
    """Something a comparison has on its left: a path, or ``size(path)``."""

    __slots__ = ("elements",)

    def __init__(self, elements: tuple[str | int, ...]) -> None:
        self.elements = elements

    def __hash__(self) -> int:
        return hash((type(self), self.elements))

    def __str__(self) -> str:
        out = ""
        for element in self.elements:
            if isinstance(element, int):
                out += f"[{element}]"
            else:
                out += f".{element}" if out else element
        return out

    # Comparisons build conditions: that is what a Path is for, so == does too.
    def __eq__(self, value: Any) -> Compare:  # type: ignore[override]
        return Compare(self, "=", value)

    def __ne__(self, value: Any) -> Compare:  # type: ignore[override]
        return Compare(self, "<>", value)

    def __lt__(self, value: Any) -> Compare:
        return Compare(self, "<", value)

    def __le__(self, value: Any) -> Compare:
        return Compare(self, "<=", value)

    def __gt__(self, value: Any) -> Compare:
        return Compare(self, ">", value)

    def __ge__(self, value: Any) -> Compare:
        return Compare(self, ">=", value)

    # `attr("a") == 1 & attr("b") > 2` parses as `attr("a") == (1 & attr("b")) > 2`.
    def _unparenthesized(self, *_: Any) -> Any:
        raise TypeError(
            "put each comparison in parentheses before combining: "
            "(attr('a') == 1) & (attr('b') > 2)"
        )

    __and__ = __rand__ = __or__ = __ror__ = __invert__ = _unparenthesized

    def between(self, low: Any, high: Any) -> Between:
        """``low <= value <= high``."""
        return Between(self, low, high)

    def is_in(self, values: Iterable[Any]) -> In:
        """The value equals one of `values`."""
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValidationError(f"{self}.is_in() takes a collection of values, not {values!r}")
        return In(self, tuple(values))

    def compile(self, resolver: Resolver, params: Params) -> tuple[str, Any]:
        """The placeholder form of this operand, and the type of its value."""
        raise NotImplementedError


class Path(_Operand):
    """A path to an attribute, by Python field names; compares into conditions.

    Build one with `attr`. Comparisons (``==``, ``<``...) and methods return
    `Condition` objects, which combine with ``&``, ``|`` and ``~``. In an update,
    ``attr("n") + 1``, ``attr("tags").append([...])`` build new values.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"attr({str(self)!r})"

    def exists(self) -> Exists:
        """The attribute is present (``attribute_exists``)."""
        return Exists(self, True)

    def not_exists(self) -> Exists:
        """The attribute is absent (``attribute_not_exists``)."""
        return Exists(self, False)

    def begins_with(self, prefix: Any) -> Function:
        """A string or binary attribute starts with `prefix`."""
        return Function("begins_with", self, prefix)

    def contains(self, value: Any) -> Function:
        """A string contains a substring, or a set or list contains an element."""
        return Function("contains", self, value)

    def attribute_type(self, type_code: str) -> AttributeType:
        """The attribute is stored as `type_code` (``"S"``, ``"N"``, ``"M"``...)."""
        return AttributeType(self, type_code)

    def size(self) -> Size:
        """``size(path)``: the length of a string, binary, set, list or map."""
        return Size(self.elements)

    # --- update values (see `Update`) --------------------------------------------------

    def __add__(self, value: Any) -> Arithmetic:
        from dynamorm_async.expressions._update import Arithmetic

        return Arithmetic(self, "+", value)

    def __radd__(self, value: Any) -> Arithmetic:
        from dynamorm_async.expressions._update import Arithmetic

        return Arithmetic(value, "+", self)

    def __sub__(self, value: Any) -> Arithmetic:
        from dynamorm_async.expressions._update import Arithmetic

        return Arithmetic(self, "-", value)

    def __rsub__(self, value: Any) -> Arithmetic:
        from dynamorm_async.expressions._update import Arithmetic

        return Arithmetic(value, "-", self)

    def append(self, values: Any) -> ListAppend:
        """In an update: this list with `values` (a list) added at the end."""
        from dynamorm_async.expressions._update import ListAppend

        return ListAppend(self, values)

    def prepend(self, values: Any) -> ListAppend:
        """In an update: this list with `values` (a list) added at the front."""
        from dynamorm_async.expressions._update import ListAppend

        return ListAppend(values, self)

    def compile(self, resolver: Resolver, params: Params) -> tuple[str, Any]:
        """The placeholder form of this path, and the type of the value it holds."""
        stored, tp = resolver.resolve_path(self.elements)
        return params.path(stored), tp


class Size(_Operand):
    """``size(path)``, compared as a number: ``size("tags") > 2``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"size({str(self)!r})"

    def compile(self, resolver: Resolver, params: Params) -> tuple[str, Any]:
        """``size(#n..)``; its value is an int."""
        stored, _ = resolver.resolve_path(self.elements)
        return f"size({params.path(stored)})", int


def attr(*parts: str | int) -> Path:
    """A path to an attribute, by Python field names.

    Example:
        >>> attr("price") > 5
        Compare(path=attr('price'), op='>', value=5)
        >>> attr("address.city"), attr("tags", 0)
        (attr('address.city'), attr('tags[0]'))
    """
    if not parts:
        raise ValidationError("attr() needs at least one path element")
    elements: list[str | int] = []
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            if not elements:
                raise ValidationError("an attribute path must start with a name")
            if part < 0:
                raise ValidationError(f"list indexes cannot be negative, got {part}")
            elements.append(part)
        elif isinstance(part, str):
            elements.extend(parse_path(part))
        else:
            raise ValidationError(f"path elements are names or list indexes, not {part!r}")
    return Path(tuple(elements))


def _as_path(value: Any) -> Path:
    if isinstance(value, Path):
        return value
    if isinstance(value, str):
        return attr(value)
    raise ValidationError(f"expected an attribute name or attr(...), got {value!r}")


def size(path: Path | str) -> Size:
    """``size(path)``: compare the length of a string, binary, set, list or map.

    Example:
        >>> size("tags") > 2
        Compare(path=size('tags'), op='>', value=2)
    """
    return _as_path(path).size()


class Condition:
    """A condition on an item; combine with ``&`` (and), ``|`` (or), ``~`` (not)."""

    __slots__ = ()

    def __and__(self, other: Condition) -> Condition:
        return And(_flatten(And, self, other))

    def __or__(self, other: Condition) -> Condition:
        return Or(_flatten(Or, self, other))

    def __invert__(self) -> Condition:
        return Not(self)

    def __bool__(self) -> bool:
        # `a < attr("x") < b` and `if cond:` would silently drop half the condition.
        raise TypeError(
            "a condition has no truth value: combine conditions with & | ~, not and/or/not"
        )

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`.

        The text of a structurally identical condition (same paths and operators,
        other values) compiled before with the same resolver is reused.
        """
        try:
            return compile_cached(self, resolver, params)
        except RecursionError:
            # Compiling walks the tree recursively; past Python's stack, refuse clearly.
            raise ValidationError(
                "the condition is nested too deeply to compile (over about a hundred "
                "levels of & and |); flatten it, e.g. with is_in()"
            ) from None

    def emit(self, resolver: Resolver, params: Params) -> str:
        """Compile without the cache (the reference the cache replays)."""
        raise NotImplementedError

    def shape(self, values: list[Any] | None = None) -> Hashable:
        """The structure of the condition with its values left out (the cache key);
        the values are appended to `values` in the order `emit` encodes them."""
        return self._shape_into([] if values is None else values)

    def slot_values(self) -> Iterator[Any]:
        """The values the condition encodes, in the order `emit` encodes them."""
        values: list[Any] = []
        self._shape_into(values)
        return iter(values)

    def _shape_into(self, values: list[Any]) -> Hashable:
        raise NotImplementedError

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The elements of every path the condition reads."""
        raise NotImplementedError

    def precedence(self) -> int:
        """How tightly the compiled text binds: OR 1, AND 2, NOT 3, a single test 4.

        Parents parenthesize a child only when its precedence is lower than theirs:
        DynamoDB refuses redundant parentheses.
        """
        return _ATOM


_OR, _AND, _NOT, _ATOM = 1, 2, 3, 4


_COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
_FUNCTIONS = ("begins_with", "contains")


def _one_of(what: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValidationError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


def _check_operands(kind: str, conditions: tuple[Condition, ...]) -> None:
    if not conditions:
        raise ValidationError(f"{kind}() needs at least one condition")


def _operand(condition: Condition, parent: int, resolver: Resolver, params: Params) -> str:
    text = condition.emit(resolver, params)
    return f"({text})" if condition.precedence() < parent else text


def _flatten(kind: type[And] | type[Or], *conditions: Condition) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for condition in conditions:
        if not isinstance(condition, Condition):
            raise ValidationError(f"cannot combine a condition with {condition!r}")
        out.extend(condition.conditions if isinstance(condition, kind) else (condition,))
    return tuple(out)


def _check_left(instance: Any, _: Any, value: Any) -> None:
    if not isinstance(value, _Operand):
        raise ValidationError(
            f"a comparison needs attr(...) or size(...) on the left, not {value!r}"
        )


def _kind(value: Any, values: list[Any]) -> Hashable:
    """What of a value shapes the compiled text: another operand, or a value (None
    included: it compiles differently, but only where the operator says so)."""
    if isinstance(value, _Operand):
        return _left(value)
    values.append(value)
    return value is None


def _left(operand: _Operand) -> Hashable:
    return (type(operand) is Size, operand.elements)


def _value(path: _Operand, value: Any, resolver: Resolver, params: Params) -> tuple[str, str]:
    """Compile an operand and a value of its type: (operand text, value placeholder).

    The value may be another path: ``attr("stock") > attr("reserved")``.
    """
    path_text, tp = path.compile(resolver, params)
    if isinstance(value, _Operand):
        return path_text, value.compile(resolver, params)[0]
    return path_text, params.encoded(path, value, tp, resolver)


def _operand_paths(*values: Any) -> Iterator[tuple[str | int, ...]]:
    return (v.elements for v in values if isinstance(v, _Operand))


@attrs.frozen(eq=False)
class Compare(Condition):
    """``path <op> value`` with op one of ``= <> < <= > >=``.

    ``attr("x") == None`` matches items where x is absent or NULL, since a ``None``
    field is left out of the item when it is written (``!= None``: present, not NULL).
    """

    path: _Operand = attrs.field(validator=_check_left)
    # Operators and function names go into the expression text: only known ones.
    op: str = attrs.field(validator=lambda _, __, op: _one_of("operator", op, _COMPARISONS))
    value: Any

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        if self.value is None:
            if self.op not in ("=", "<>") or isinstance(self.path, Size):
                # size(x) == None has no meaning either
                raise ValidationError(
                    f"{self.path} {self.op} None: only == and != compare with None"
                )
            path_text, null = _value(self.path, None, resolver, params)
            if self.op == "=":
                return f"attribute_not_exists({path_text}) OR {path_text} = {null}"
            return f"attribute_exists({path_text}) AND {path_text} <> {null}"
        path_text, value = _value(self.path, self.value, resolver, params)
        return f"{path_text} {self.op} {value}"

    def _shape_into(self, values: list[Any]) -> Hashable:
        """Operator, path and the kind of value."""
        return ("cmp", _left(self.path), self.op, _kind(self.value, values))

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The path, and the compared path if any."""
        return _operand_paths(self.path, self.value)

    def precedence(self) -> int:
        """OR or AND for a comparison with None (it tests two things), else a single test."""
        if self.value is None:
            return _OR if self.op == "=" else _AND
        return _ATOM


@attrs.frozen(eq=False)
class Between(Condition):
    """``path BETWEEN low AND high``."""

    path: _Operand = attrs.field(validator=_check_left)
    low: Any
    high: Any

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        if self.low is None or self.high is None:
            raise ValidationError(f"{self.path}.between() needs two values, not None")
        path_text, low = _value(self.path, self.low, resolver, params)
        _, high = _value(self.path, self.high, resolver, params)
        return f"{path_text} BETWEEN {low} AND {high}"

    def _shape_into(self, values: list[Any]) -> Hashable:
        """The path and the kinds of the bounds."""
        return ("between", _left(self.path), _kind(self.low, values), _kind(self.high, values))

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The path (and bounds that are paths)."""
        return _operand_paths(self.path, self.low, self.high)


@attrs.frozen(eq=False)
class In(Condition):
    """``path IN (v1, v2, ...)``."""

    path: _Operand = attrs.field(validator=_check_left)
    values: tuple[Any, ...]

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        if not self.values:
            raise ValidationError(f"{self.path}.is_in() needs at least one value")
        path_text = ""
        placeholders = []
        for value in self.values:
            path_text, placeholder = _value(self.path, value, resolver, params)
            placeholders.append(placeholder)
        # DynamoDB allows 100 operands per IN; longer lists become ORs of INs.
        chunks = [placeholders[i : i + 100] for i in range(0, len(placeholders), 100)]
        return " OR ".join(f"{path_text} IN ({', '.join(chunk)})" for chunk in chunks)

    def _shape_into(self, values: list[Any]) -> Hashable:
        """The path and the kind of each value."""
        return ("in", _left(self.path), tuple([_kind(v, values) for v in self.values]))

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The path (and values that are paths)."""
        return _operand_paths(self.path, *self.values)

    def precedence(self) -> int:
        """An OR of INs past 100 values, else a single test."""
        return _OR if len(self.values) > 100 else _ATOM


@attrs.frozen(eq=False)
class Exists(Condition):
    """``attribute_exists(path)`` or ``attribute_not_exists(path)``."""

    path: Path
    present: bool

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        path_text, _ = self.path.compile(resolver, params)
        name = "attribute_exists" if self.present else "attribute_not_exists"
        return f"{name}({path_text})"

    def _shape_into(self, values: list[Any]) -> Hashable:
        """The path and which test."""
        return ("exists", self.path.elements, self.present)

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The path."""
        return iter((self.path.elements,))


@attrs.frozen(eq=False)
class AttributeType(Condition):
    """``attribute_type(path, type)``: the attribute is stored as that type."""

    path: Path
    type_code: str = attrs.field(
        validator=lambda _, __, code: _one_of("attribute type", code, ATTRIBUTE_TYPES)
    )

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        path_text, _ = self.path.compile(resolver, params)
        return f"attribute_type({path_text}, {params.value({'S': self.type_code})})"

    def _shape_into(self, values: list[Any]) -> Hashable:
        """The path and the type code (a constant of the text)."""
        return ("type", self.path.elements, self.type_code)

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The path."""
        return iter((self.path.elements,))


@attrs.frozen(eq=False)
class Function(Condition):
    """``begins_with(path, value)`` or ``contains(path, value)``."""

    name: str = attrs.field(validator=lambda _, __, name: _one_of("function", name, _FUNCTIONS))
    path: Path
    value: Any

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        path_text, tp = self.path.compile(resolver, params)
        if self.value is None:
            raise ValidationError(f"{self.name}({self.path}, ...) needs a value")
        if self.name == "contains":
            # The operand is an element of the attribute (a set or list), or a substring.
            placeholder = params.encoded(
                self.path, self.value, _element_type(tp, self.value), resolver
            )
        elif isinstance(self.value, (str, bytes)):
            placeholder = params.encoded(self.path, self.value, type(self.value), resolver)
        else:
            raise ValidationError(
                f"begins_with({self.path}, ...) takes a str or bytes prefix, not {self.value!r}"
            )
        return f"{self.name}({path_text}, {placeholder})"

    def _shape_into(self, values: list[Any]) -> Hashable:
        """The function, path and the value's type (it picks the encoding)."""
        values.append(self.value)
        return ("fn", self.name, self.path.elements, type(self.value))

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The path."""
        return iter((self.path.elements,))


def _element_type(tp: Any, value: Any) -> Any:
    args = getattr(tp, "__args__", None)
    if args and getattr(tp, "__origin__", None) in (set, frozenset, list, tuple):
        return args[0]
    return type(value)


@attrs.frozen(eq=False)
class _Group(Condition):
    conditions: tuple[Condition, ...]

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The paths of every child."""
        return (p for c in self.conditions for p in c.paths())


class And(_Group):
    """All of the conditions hold."""

    __slots__ = ()

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        _check_operands("And", self.conditions)
        if len(self.conditions) == 1:  # no operator: the child's own text
            return self.conditions[0].emit(resolver, params)
        return " AND ".join(_operand(c, _AND, resolver, params) for c in self.conditions)

    def _shape_into(self, values: list[Any]) -> Hashable:
        """The children's shapes."""
        return ("and", tuple([c._shape_into(values) for c in self.conditions]))

    def precedence(self) -> int:
        """AND (or the only child's precedence)."""
        return self.conditions[0].precedence() if len(self.conditions) == 1 else _AND


class Or(_Group):
    """At least one of the conditions holds."""

    __slots__ = ()

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        _check_operands("Or", self.conditions)
        if len(self.conditions) == 1:
            return self.conditions[0].emit(resolver, params)
        return " OR ".join(_operand(c, _OR, resolver, params) for c in self.conditions)

    def _shape_into(self, values: list[Any]) -> Hashable:
        """The children's shapes."""
        return ("or", tuple([c._shape_into(values) for c in self.conditions]))

    def precedence(self) -> int:
        """OR (or the only child's precedence)."""
        return self.conditions[0].precedence() if len(self.conditions) == 1 else _OR


@attrs.frozen(eq=False)
class Not(Condition):
    """The condition does not hold."""

    condition: Condition

    def emit(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        # No compiled condition starts and ends with its own parentheses, so one pair
        # here is never redundant.
        return f"NOT ({self.condition.emit(resolver, params)})"

    def _shape_into(self, values: list[Any]) -> Hashable:
        """The child's shape."""
        return ("not", self.condition._shape_into(values))

    def paths(self) -> Iterator[tuple[str | int, ...]]:
        """The child's paths."""
        return self.condition.paths()

    def precedence(self) -> int:
        """NOT."""
        return _NOT


# --- the string form: where("price", "<", 20) ------------------------------------------

_WHERE_OPERATORS = {
    "=": "=",
    "==": "=",
    "!=": "<>",
    "<>": "<>",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_WHERE_WORDS = (
    "between",
    "in",
    "begins_with",
    "contains",
    "exists",
    "not_exists",
    "attribute_type",
)


def where(path: Path | Size | str, op: str, *operands: Any) -> Condition:
    """A condition from the roadmap's string form.

    Operators: ``= != < <= > >=`` (also ``==`` and ``<>``), ``between`` (two values,
    or one pair), ``in`` (a collection, or several values), ``begins_with``,
    ``contains``, ``exists``, ``not_exists`` (no value), ``attribute_type`` (a code).

    Example:
        >>> where("price", "<", 20)
        Compare(path=attr('price'), op='<', value=20)
        >>> where("price", "between", 5, 10)
        Between(path=attr('price'), low=5, high=10)
    """
    target: _Operand = path if isinstance(path, Size) else _as_path(path)
    if not isinstance(op, str):
        raise ValidationError(f"where() takes an operator string, not {op!r}")
    word = op.strip().lower()

    def arity(count: int) -> None:
        if len(operands) != count:
            raise ValidationError(
                f"where({str(target)!r}, {op!r}, ...) takes {count} value(s), got {len(operands)}"
            )

    if word in _WHERE_OPERATORS:
        arity(1)
        return Compare(target, _WHERE_OPERATORS[word], operands[0])
    if word == "between":
        bounds = operands
        if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
            bounds = tuple(operands[0])
        if len(bounds) != 2:
            raise ValidationError(
                f"where({str(target)!r}, 'between', ...) takes two values (low, high), got {bounds!r}"
            )
        return target.between(*bounds)
    if word == "in":
        if not operands:
            raise ValidationError(f"where({str(target)!r}, 'in', ...) needs at least one value")
        if (
            len(operands) == 1
            and not isinstance(operands[0], (str, bytes))
            and isinstance(operands[0], Iterable)
        ):
            return target.is_in(operands[0])
        return target.is_in(operands)
    if not isinstance(target, Path):
        raise ValidationError(f"size() takes comparisons, between and in, not {op!r}")
    if word in ("begins_with", "contains", "attribute_type"):
        arity(1)
        method = getattr(target, word)
        built: Condition = method(operands[0])
        return built
    if word in ("exists", "not_exists"):
        arity(0)
        return target.exists() if word == "exists" else target.not_exists()
    raise ValidationError(
        f"unknown operator {op!r} in where(); expected one of "
        f"{', '.join([*_WHERE_OPERATORS, *_WHERE_WORDS])}"
    )
