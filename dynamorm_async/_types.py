"""Type aliases shared by every layer (no I/O, no imports from the package)."""

from __future__ import annotations

from typing import Any, TypeAlias, Union

__all__ = ["AttributeValue", "Item", "KeyInput"]

#: One DynamoDB attribute value on the wire, such as ``{"S": "abc"}`` or ``{"N": "12"}``.
AttributeValue: TypeAlias = "dict[str, Any]"
#: A whole item (or key): attribute names to attribute values.
Item: TypeAlias = "dict[str, AttributeValue]"
#: A key as users give it: the partition value, a ``(partition, sort)`` tuple, or a dict
#: of Python field names to values.
KeyInput: TypeAlias = Union[Any, "tuple[Any, Any]", "dict[str, Any]"]
