"""The size of an item as DynamoDB counts it, to refuse items over 400 KB before sending.

DynamoDB's rules: attribute names and strings count their UTF-8 bytes, binary its
bytes, a number about one byte per two significant digits plus one, BOOL and NULL
one byte, and a list or map three bytes plus one per element on top of its contents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynamorm_async.errors import ConversionError

__all__ = ["MAX_ITEM_BYTES", "item_size"]

#: DynamoDB's limit on one item: 400 KB, names and values together.
MAX_ITEM_BYTES = 400 * 1024


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes `item` takes in DynamoDB (names plus values)."""
    return sum(_utf8_len(name) + _value_size(av) for name, av in item.items())


def _utf8_len(text: str) -> int:
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 form to send
        raise ConversionError(
            f"{text[:40]!r} is not valid Unicode text (a lone surrogate at {exc.start})",
            value=text,
        ) from exc


def _number_size(text: str) -> int:
    negative = text.startswith("-")
    mantissa = text.lstrip("+-").split("e")[0].split("E")[0]
    digits = mantissa.replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1 + (1 if negative else 0)


def _value_size(av: Mapping[str, Any]) -> int:
    for tag, value in av.items():
        if tag == "S":
            return _utf8_len(value)
        if tag == "N":
            return _number_size(value)
        if tag == "B":
            return len(value)
        if tag in ("BOOL", "NULL"):
            return 1
        if tag == "M":
            return 3 + sum(1 + _utf8_len(k) + _value_size(v) for k, v in value.items())
        if tag == "L":
            return 3 + sum(1 + _value_size(v) for v in value)
        if tag == "SS":
            return sum(_utf8_len(v) for v in value)
        if tag == "NS":
            return sum(_number_size(v) for v in value)
        if tag == "BS":
            return sum(len(v) for v in value)
    return 0
