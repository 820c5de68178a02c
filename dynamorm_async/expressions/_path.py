"""Parsing of attribute path text: ``"address.city"``, ``"tags[0]"``."""

from __future__ import annotations

import re

from dynamorm_async.errors import ValidationError

__all__ = ["parse_path"]

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(text: str) -> tuple[str | int, ...]:
    """Split ``"a.b[2].c"`` into ``("a", "b", 2, "c")``."""
    elements: list[str | int] = []
    position = 0
    while position < len(text):
        if text[position] == "." and elements and position + 1 < len(text):
            position += 1
        match = _SEGMENT.match(text, position)
        if match is None:
            raise ValidationError(f"invalid attribute path {text!r} at position {position}")
        name, index = match.groups()
        elements.append(int(index) if index is not None else name)
        position = match.end()
    if not elements or not isinstance(elements[0], str):
        raise ValidationError(f"invalid attribute path {text!r}: it must start with a name")
    return tuple(elements)
