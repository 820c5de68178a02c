"""Placeholders: every name goes through ``#n``, every value through ``:v``.

Placeholders keep reserved words and user values out of expression strings (no
injection, no escaping), and one `Params` is shared by all the expressions of a
request so that repeated names and values get one placeholder each.
"""

from __future__ import annotations

from typing import Any, Protocol

from dynamorm_async.errors import ConversionError, ValidationError

__all__ = ["MAX_EXPRESSION_BYTES", "Params", "Resolver", "check_length", "encode_for"]

_NULL = {"NULL": True}

#: DynamoDB's limit on one expression string.
MAX_EXPRESSION_BYTES = 4096


class Resolver(Protocol):
    """What compiling needs from a mapped class: stored names and value encoding.

    `Mapper` implements it; tests can use any object with these two methods.
    """

    def resolve_path(self, elements: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], Any]:
        """The stored form of a path of Python names, and the type of the value it holds."""
        ...

    def encode_value(self, value: Any, tp: Any) -> dict[str, Any] | None:
        """`value` as an AttributeValue of type `tp` (``None``: nothing to store)."""
        ...

    def omits_none(self, elements: tuple[str | int, ...]) -> bool:
        """Whether nothing-to-store at this path is written by removing the attribute
        (it reads back the same) rather than as NULL."""
        ...


class Params:
    """Allocates and de-duplicates the placeholders of one request."""

    __slots__ = ("_by_name", "_by_value", "names", "values")

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self._by_name: dict[str, str] = {}
        self._by_value: dict[Any, str] = {}

    def name(self, name: str) -> str:
        """The ``#n`` placeholder of an attribute name."""
        placeholder = self._by_name.get(name)
        if placeholder is None:
            placeholder = f"#n{len(self._by_name)}"
            self._by_name[name] = placeholder
            self.names[placeholder] = name
        return placeholder

    def path(self, elements: tuple[str | int, ...]) -> str:
        """A document path such as ``#n0.#n1[2]``."""
        parts: list[str] = []
        for element in elements:
            if isinstance(element, int):
                parts.append(f"[{element}]")
            else:
                parts.append(("." if parts else "") + self.name(element))
        return "".join(parts)

    def value(self, av: dict[str, Any]) -> str:
        """The ``:v`` placeholder of an AttributeValue."""
        # Scalars (S, N, B, BOOL, NULL) are de-duplicated; sets, lists and maps are
        # unhashable and get a placeholder each.
        key: Any = tuple(av.items())
        try:
            placeholder = self._by_value.get(key)
        except TypeError:
            key = placeholder = None
        if placeholder is None:
            placeholder = f":v{len(self.values)}"
            if key is not None:
                self._by_value[key] = placeholder
            self.values[placeholder] = av
        return placeholder

    def encoded(self, label: object, value: Any, tp: Any, resolver: Resolver) -> str:
        """The ``:v`` placeholder of `value` encoded as type `tp` (``None`` is NULL).

        `label` (the path) names the value in errors.
        """
        if value is None:
            return self.value(_NULL)
        encoded = encode_for(label, value, tp, resolver)
        if encoded is None:  # an empty set: DynamoDB cannot compare with one
            raise ValidationError(f"cannot compare {label} with an empty set")
        return self.value(encoded)

    def request_fields(self) -> dict[str, Any]:
        """``ExpressionAttributeNames`` / ``ExpressionAttributeValues``, when not empty."""
        fields: dict[str, Any] = {}
        if self.names:
            fields["ExpressionAttributeNames"] = self.names
        if self.values:
            fields["ExpressionAttributeValues"] = self.values
        return fields


def check_length(kind: str, expression: str) -> str:
    """Refuse an expression longer than DynamoDB's 4 KB limit, before it is sent."""
    size = len(expression.encode("utf-8"))
    if size > MAX_EXPRESSION_BYTES:
        raise ValidationError(
            f"{kind} is {size} bytes; DynamoDB allows at most {MAX_EXPRESSION_BYTES}",
            expressions={kind: expression[:200] + "..."},
        )
    return expression


def encode_for(label: object, value: Any, tp: Any, resolver: Resolver) -> dict[str, Any] | None:
    """Encode a value compared with or assigned to a path; errors name the path."""
    try:
        return resolver.encode_value(value, tp)
    except ConversionError as exc:
        if exc.field is None:
            exc.field = str(label)
            exc.message = f"{label}: {exc.message}"
        raise
