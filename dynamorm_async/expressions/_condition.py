"""Paths and conditions as frozen data, compiled to DynamoDB expression text.

``attr("price") > 5`` builds a `Compare`; ``&``, ``|`` and ``~`` combine
conditions. Nothing is encoded until `Condition.compile`, which takes a
`Resolver` (the mapper) to turn Python names into stored names and values into
AttributeValues of the field's type, and a `Params` to allocate placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from dynamorm_async.errors import ConversionError, ValidationError
from dynamorm_async.expressions._params import Params, Resolver
from dynamorm_async.expressions._path import parse_path

__all__ = [
    "And",
    "Between",
    "Compare",
    "Condition",
    "Exists",
    "Function",
    "In",
    "Not",
    "Or",
    "Path",
    "attr",
]

_NULL = {"NULL": True}


class Path:
    """A path to an attribute, by Python field names; compares into conditions.

    Build one with `attr`. Comparisons (``==``, ``<``...) and methods return
    `Condition` objects, which combine with ``&``, ``|`` and ``~``.
    """

    __slots__ = ("elements",)

    def __init__(self, elements: tuple[str | int, ...]) -> None:
        self.elements = elements

    def __repr__(self) -> str:
        return f"attr({str(self)!r})"

    def __str__(self) -> str:
        out = ""
        for element in self.elements:
            if isinstance(element, int):
                out += f"[{element}]"
            else:
                out += f".{element}" if out else element
        return out

    def __hash__(self) -> int:
        return hash(self.elements)

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

    def between(self, low: Any, high: Any) -> Between:
        """``low <= attribute <= high``."""
        return Between(self, low, high)

    def is_in(self, values: Iterable[Any]) -> In:
        """The attribute equals one of `values`."""
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValidationError(f"{self}.is_in() takes a collection of values, not {values!r}")
        return In(self, tuple(values))

    def compile(self, resolver: Resolver, params: Params) -> tuple[str, Any]:
        """The placeholder form of this path, and the type of the value it holds."""
        stored, tp = resolver.resolve_path(self.elements)
        return params.path(stored), tp


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
        """The expression text, with placeholders allocated in `params`."""
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
    text = condition.compile(resolver, params)
    return f"({text})" if condition.precedence() < parent else text


def _flatten(kind: type[And] | type[Or], *conditions: Condition) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for condition in conditions:
        if not isinstance(condition, Condition):
            raise ValidationError(f"cannot combine a condition with {condition!r}")
        out.extend(condition.conditions if isinstance(condition, kind) else (condition,))
    return tuple(out)


def encode_for(path: Path, value: Any, tp: Any, resolver: Resolver) -> dict[str, Any] | None:
    """Encode a value compared with or assigned to `path`; errors name the path."""
    try:
        return resolver.encode_value(value, tp)
    except ConversionError as exc:
        if exc.field is None:
            exc.field = str(path)
            exc.message = f"{path}: {exc.message}"
        raise


def _value(path: Path, value: Any, resolver: Resolver, params: Params) -> tuple[str, str]:
    """Compile a path and a value of the path's type: (path text, value placeholder).

    The value may be another path: ``attr("stock") > attr("reserved")``.
    """
    path_text, tp = path.compile(resolver, params)
    if isinstance(value, Path):
        return path_text, value.compile(resolver, params)[0]
    encoded = _NULL if value is None else encode_for(path, value, tp, resolver)
    if encoded is None:  # an empty set: DynamoDB cannot compare with one
        raise ValidationError(f"cannot compare {path} with an empty set")
    return path_text, params.value(encoded)


@attrs.frozen(eq=False)
class Compare(Condition):
    """``path <op> value`` with op one of ``= <> < <= > >=``.

    ``attr("x") == None`` matches items where x is absent or NULL, since a ``None``
    field is left out of the item when it is written (``!= None``: present, not NULL).
    """

    path: Path
    # Operators and function names go into the expression text: only known ones.
    op: str = attrs.field(validator=lambda _, __, op: _one_of("operator", op, _COMPARISONS))
    value: Any

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        if self.value is None:
            if self.op not in ("=", "<>"):
                raise ValidationError(
                    f"{self.path} {self.op} None: only == and != compare with None"
                )
            path_text, null = _value(self.path, None, resolver, params)
            if self.op == "=":
                return f"attribute_not_exists({path_text}) OR {path_text} = {null}"
            return f"attribute_exists({path_text}) AND {path_text} <> {null}"
        path_text, value = _value(self.path, self.value, resolver, params)
        return f"{path_text} {self.op} {value}"

    def precedence(self) -> int:
        """OR or AND for a comparison with None (it tests two things), else a single test."""
        if self.value is None:
            return _OR if self.op == "=" else _AND
        return _ATOM


@attrs.frozen(eq=False)
class Between(Condition):
    """``path BETWEEN low AND high``."""

    path: Path
    low: Any
    high: Any

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        path_text, low = _value(self.path, self.low, resolver, params)
        _, high = _value(self.path, self.high, resolver, params)
        return f"{path_text} BETWEEN {low} AND {high}"


@attrs.frozen(eq=False)
class In(Condition):
    """``path IN (v1, v2, ...)``."""

    path: Path
    values: tuple[Any, ...]

    def compile(self, resolver: Resolver, params: Params) -> str:
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

    def precedence(self) -> int:
        """An OR of INs past 100 values, else a single test."""
        return _OR if len(self.values) > 100 else _ATOM


@attrs.frozen(eq=False)
class Exists(Condition):
    """``attribute_exists(path)`` or ``attribute_not_exists(path)``."""

    path: Path
    present: bool

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        path_text, _ = self.path.compile(resolver, params)
        name = "attribute_exists" if self.present else "attribute_not_exists"
        return f"{name}({path_text})"


@attrs.frozen(eq=False)
class Function(Condition):
    """``begins_with(path, value)`` or ``contains(path, value)``."""

    name: str = attrs.field(validator=lambda _, __, name: _one_of("function", name, _FUNCTIONS))
    path: Path
    value: Any

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        path_text, tp = self.path.compile(resolver, params)
        if self.name == "contains":
            # The operand is an element of the attribute (a set or list), or a substring.
            encoded = encode_for(self.path, self.value, _element_type(tp, self.value), resolver)
        elif isinstance(self.value, (str, bytes)):
            encoded = resolver.encode_value(self.value, type(self.value))
        else:
            raise ValidationError(
                f"begins_with({self.path}, ...) takes a str or bytes prefix, not {self.value!r}"
            )
        if encoded is None:
            raise ValidationError(f"{self.name}({self.path}, ...) needs a value")
        return f"{self.name}({path_text}, {params.value(encoded)})"


def _element_type(tp: Any, value: Any) -> Any:
    args = getattr(tp, "__args__", None)
    if args and getattr(tp, "__origin__", None) in (set, frozenset, list, tuple):
        return args[0]
    return type(value)


@attrs.frozen(eq=False)
class And(Condition):
    """All of the conditions hold."""

    conditions: tuple[Condition, ...]

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        _check_operands("And", self.conditions)
        if len(self.conditions) == 1:  # no operator: the child's own text
            return self.conditions[0].compile(resolver, params)
        return " AND ".join(_operand(c, _AND, resolver, params) for c in self.conditions)

    def precedence(self) -> int:
        """AND (or the only child's precedence)."""
        return self.conditions[0].precedence() if len(self.conditions) == 1 else _AND


@attrs.frozen(eq=False)
class Or(Condition):
    """At least one of the conditions holds."""

    conditions: tuple[Condition, ...]

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        _check_operands("Or", self.conditions)
        if len(self.conditions) == 1:
            return self.conditions[0].compile(resolver, params)
        return " OR ".join(_operand(c, _OR, resolver, params) for c in self.conditions)

    def precedence(self) -> int:
        """OR (or the only child's precedence)."""
        return self.conditions[0].precedence() if len(self.conditions) == 1 else _OR


@attrs.frozen(eq=False)
class Not(Condition):
    """The condition does not hold."""

    condition: Condition

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The expression text, with placeholders allocated in `params`."""
        # No compiled condition starts and ends with its own parentheses, so one pair
        # here is never redundant.
        return f"NOT ({self.condition.compile(resolver, params)})"

    def precedence(self) -> int:
        """NOT."""
        return _NOT
